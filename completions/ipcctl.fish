# fish completion for ipcctl.
# Generated from the command definitions by "go generate"; do not edit.
# Install: copy it to ~/.config/fish/completions/ipcctl.fish.

# __ipcctl_args prints the words typed so far that are neither flags nor
# flag values: the command, then its arguments.
function __ipcctl_args
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l skip 0
    set -l ended 0
    for t in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        if test $ended = 0; and string match -q -- '-?*' $t
            switch $t
                case --
                    set ended 1
                case --rundir --trust-owner --format --color --timer --allow-uid --allow-gid --max-clients --max-size --max-buffered --frame-timeout --idle-timeout --exec --handler --max-procs --handler-timeout --framing --cert --key --ca --http-timeout --nats --nats-prefix --nats-heartbeat --nats-creds --nats-tls-cert --nats-tls-key --nats-tls-ca --ready-fd --pidfile -n --count --timeout --wait-service --group --to --linger --max-conns --origin --nats-queue --nats-timeout --nats-max-inflight --decode
                    set skip 1
            end
            continue
        end
        echo $t
    end
end

function __ipcctl_no_command
    test (count (__ipcctl_args)) -eq 0
end

# __ipcctl_cmd NAMES: the command is one of NAMES (comma-separated).
function __ipcctl_cmd
    set -l args (__ipcctl_args)
    test (count $args) -gt 0; and contains -- $args[1] (string split , $argv[1])
end

# __ipcctl_at NAMES N: the command is one of NAMES and N arguments follow
# it (N+: at least N).
function __ipcctl_at
    set -l args (__ipcctl_args)
    test (count $args) -gt 0; and contains -- $args[1] (string split , $argv[1]); or return 1
    set -l n (math (count $args) - 1)
    set -l want (string trim -r -c + $argv[2])
    if string match -q '*+' $argv[2]
        test $n -ge $want
    else
        test $n -eq $want
    end
end

# __ipcctl_services prints the names of the sockets in the run directory.
function __ipcctl_services
    set -l dir /tmp/.libipc-run
    test -n "$RUNDIR"; and set dir $RUNDIR
    test -n "$IPC_RUNDIR"; and set dir $IPC_RUNDIR
    set -l tokens (commandline -opc)
    for i in (seq (count $tokens))
        switch $tokens[$i]
            case --rundir
                set -l j (math $i + 1)
                set -q tokens[$j]; and set dir $tokens[$j]
            case '--rundir=*'
                set dir (string replace -- --rundir= '' $tokens[$i])
        end
    end
    for f in $dir/*
        test -S $f; and string replace -r '.*/' '' -- $f
    end
end

complete -c ipcctl -f
complete -c ipcctl -l rundir -r -F -d 'look for services in DIR (default $IPC_RUNDIR, $RUNDIR, /tmp/.libipc-run)'
complete -c ipcctl -l trust-owner -x -d 'let clients talk to a socket of USER (name or number; repeatable) besides the run directory\'s owner, you and root'
complete -c ipcctl -l format -x -a 'text json' -d 'print events as text|json'
complete -c ipcctl -l json -d 'same as --format json'
complete -c ipcctl -l color -x -a 'auto always never' -d 'colour output auto|always|never'
complete -c ipcctl -s q -l quiet -d 'print only data and errors: no listening, connection or disconnection events, no notes'
complete -c ipcctl -s v -l verbose -d 'print more: serve\'s sent messages, switch\'s traffic, clients\' connection notes on stderr'
complete -c ipcctl -l version -d 'print the version and exit'
complete -c ipcctl -s h -l help -d 'show help'
complete -c ipcctl -n __ipcctl_no_command -a serve -d 'become a service: print its events, or run a command per client or per message'
complete -c ipcctl -n __ipcctl_no_command -a send -d 'send messages to a service, and optionally wait for replies'
complete -c ipcctl -n __ipcctl_no_command -a listen -d 'print every message a service sends (subscriber)'
complete -c ipcctl -n __ipcctl_no_command -a connect -d 'talk to a service: stdin lines out, messages in'
complete -c ipcctl -n __ipcctl_no_command -a switch -d 'relay between two endpoints (service, tcp, tls, ws, udp, http), or be a TCPd'
complete -c ipcctl -n __ipcctl_no_command -a timer -d 'print a timer event every DUR'
complete -c ipcctl -n __ipcctl_no_command -a dump -d 'list services, tap one to print its traffic, or decode captured frames'
complete -c ipcctl -n __ipcctl_no_command -a completion -d 'print a shell completion script'
complete -c ipcctl -n __ipcctl_no_command -a help -d 'show the help of a command'
complete -c ipcctl -n '__ipcctl_at help 0' -a 'serve send listen connect switch timer dump completion help'
complete -c ipcctl -n '__ipcctl_cmd serve' -l timer -x -d 'print a timer event every DUR'
complete -c ipcctl -n '__ipcctl_cmd serve' -l allow-uid -x -d 'accept only clients of user U (name or number; repeatable)'
complete -c ipcctl -n '__ipcctl_cmd serve' -l allow-gid -x -d 'accept only clients of group G (name or number; repeatable)'
complete -c ipcctl -n '__ipcctl_cmd serve' -l max-clients -x -d 'refuse clients past N connected at once (0: no bound)'
complete -c ipcctl -n '__ipcctl_cmd serve' -l max-size -x -d 'refuse received messages over BYTES (suffixes K, KiB, M, MiB)'
complete -c ipcctl -n '__ipcctl_cmd serve' -l max-buffered -x -d 'hold at most BYTES of the clients\' unfinished messages, all together (default: 64MiB, or 8 of --max-size if more)'
complete -c ipcctl -n '__ipcctl_cmd serve' -l frame-timeout -x -d 'close a client that takes over DUR to send one message (0: never)'
complete -c ipcctl -n '__ipcctl_cmd serve' -l idle-timeout -x -d 'close a client after DUR with nothing sent or received (0: never)'
complete -c ipcctl -n '__ipcctl_cmd serve' -l exec -x -d 'run CMD (with /bin/sh -c) for each client, its stdin and stdout bound to the client'
complete -c ipcctl -n '__ipcctl_cmd serve' -l line-buffered -d 'with --exec, make the process\'s stdout line-buffered, as stdbuf -oL does (--line-buffered=false: leave it as the program sets it)'
complete -c ipcctl -n '__ipcctl_cmd serve' -l handler -x -d 'run CMD (with /bin/sh -c) for each message, its stdout the reply'
complete -c ipcctl -n '__ipcctl_cmd serve' -l max-procs -x -d 'run at most N handlers (or --exec processes) at once'
complete -c ipcctl -n '__ipcctl_cmd serve' -l handler-timeout -x -d 'kill a handler still running after DUR (0: never)'
complete -c ipcctl -n '__ipcctl_cmd serve' -l raw -d 'with --exec, exchange LibIPC frames instead of lines with the process; with --handler, pass the message and the reply byte for byte'
complete -c ipcctl -n '__ipcctl_cmd serve' -l bus -d 'be a message bus: groups, addresses, presence and calls between clients'
complete -c ipcctl -n '__ipcctl_cmd serve' -l framing -x -a 'ipc line raw json' -d 'framing of a tcp:// or tls:// NAME: ipc|line|raw|json'
complete -c ipcctl -n '__ipcctl_cmd serve' -l cert -r -F -d 'TLS certificate FILE (PEM) of a tls:// or wss:// NAME'
complete -c ipcctl -n '__ipcctl_cmd serve' -l key -r -F -d 'TLS private key FILE (PEM)'
complete -c ipcctl -n '__ipcctl_cmd serve' -l ca -r -F -d 'require client certificates signed by the CA in FILE'
complete -c ipcctl -n '__ipcctl_cmd serve' -l http-timeout -x -d 'answer an http:// request 504 when no reply came within DUR'
complete -c ipcctl -n '__ipcctl_cmd serve' -l nats -x -d 'join the NATS servers at URL[,URL...] (default: $NATS_URL, then nats://127.0.0.1:4222)'
complete -c ipcctl -n '__ipcctl_cmd serve' -l nats-prefix -x -d 'with --bus and --nats: the subjects of the groups begin with PREFIX. (default: ipcctl.NAME)'
complete -c ipcctl -n '__ipcctl_cmd serve' -l nats-heartbeat -x -d 'with --nats: tell the other buses every DUR that this one is there; one silent for 5 of them has left'
complete -c ipcctl -n '__ipcctl_cmd serve' -l nats-creds -r -F -d 'NATS user credentials FILE (JWT and NKey seed)'
complete -c ipcctl -n '__ipcctl_cmd serve' -l nats-tls-cert -r -F -d 'TLS client certificate FILE (PEM) for NATS'
complete -c ipcctl -n '__ipcctl_cmd serve' -l nats-tls-key -r -F -d 'TLS client key FILE (PEM) for NATS'
complete -c ipcctl -n '__ipcctl_cmd serve' -l nats-tls-ca -r -F -d 'verify the NATS servers with the CA certificates in FILE'
complete -c ipcctl -n '__ipcctl_cmd serve' -l ready-fd -x -d 'once clients can connect, write a newline to descriptor N and close it (s6\'s notification-fd)'
complete -c ipcctl -n '__ipcctl_cmd serve' -l pidfile -r -F -d 'write the process id to PATH once ready (atomically), remove it on exit'
complete -c ipcctl -n '__ipcctl_at serve 0' -x -a '(__ipcctl_services)'
complete -c ipcctl -n '__ipcctl_cmd send' -s w -l wait -d 'wait for replies and print them'
complete -c ipcctl -n '__ipcctl_cmd send' -s n -l count -x -d 'wait for N replies and print them (implies --wait; without it, one reply per message)'
complete -c ipcctl -n '__ipcctl_cmd send' -l timeout -x -d 'with --wait, give up after DUR (exit 124)'
complete -c ipcctl -n '__ipcctl_cmd send' -l raw -d 'send stdin as one message, and print replies as exact bytes'
complete -c ipcctl -n '__ipcctl_cmd send' -l wait-service -x -d 'wait up to DUR for the service to appear instead of failing at once'
complete -c ipcctl -n '__ipcctl_cmd send' -l max-size -x -d 'refuse received messages over BYTES (suffixes K, KiB, M, MiB)'
complete -c ipcctl -n '__ipcctl_cmd send' -l group -x -d 'on a bus: publish (or call, with -w) to group G'
complete -c ipcctl -n '__ipcctl_cmd send' -l to -x -d 'on a bus: send (or call, with -w) to the client at address ADDR'
complete -c ipcctl -n '__ipcctl_cmd send' -l each -d 'with -w --group: call every member and print each answer'
complete -c ipcctl -n '__ipcctl_at send 0' -x -a '(__ipcctl_services)'
complete -c ipcctl -n '__ipcctl_cmd listen' -s n -l count -x -d 'stop after N messages'
complete -c ipcctl -n '__ipcctl_cmd listen' -l timeout -x -d 'give up waiting after DUR (exit 124)'
complete -c ipcctl -n '__ipcctl_cmd listen' -l raw -d 'print the exact bytes of each message, with nothing added'
complete -c ipcctl -n '__ipcctl_cmd listen' -l retry -d 'when the service goes away, wait for it to come back and listen again'
complete -c ipcctl -n '__ipcctl_cmd listen' -l wait-service -x -d 'wait up to DUR for the service to appear instead of failing at once'
complete -c ipcctl -n '__ipcctl_cmd listen' -l max-size -x -d 'refuse received messages over BYTES (suffixes K, KiB, M, MiB)'
complete -c ipcctl -n '__ipcctl_cmd listen' -l group -x -d 'on a bus: subscribe to group G (repeatable)'
complete -c ipcctl -n '__ipcctl_cmd listen' -l presence -d 'on a bus: print presence notices (and every message) as events'
complete -c ipcctl -n '__ipcctl_cmd listen' -l handler -x -d 'on a bus: answer each call to the groups with the output of CMD'
complete -c ipcctl -n '__ipcctl_cmd listen' -l max-procs -x -d 'with --handler, run at most N handlers at once'
complete -c ipcctl -n '__ipcctl_cmd listen' -l ready-fd -x -d 'on a bus: once subscribed, write a newline to file descriptor N and close it'
complete -c ipcctl -n '__ipcctl_at listen 0' -x -a '(__ipcctl_services)'
complete -c ipcctl -n '__ipcctl_cmd connect' -l linger -x -d 'after stdin ends, wait DUR for replies'
complete -c ipcctl -n '__ipcctl_cmd connect' -l wait-service -x -d 'wait up to DUR for the service to appear instead of failing at once'
complete -c ipcctl -n '__ipcctl_cmd connect' -l max-size -x -d 'refuse received messages over BYTES (suffixes K, KiB, M, MiB)'
complete -c ipcctl -n '__ipcctl_cmd connect' -l bus -d 'speak the bus: lines addressed @ADDR or #GROUP'
complete -c ipcctl -n '__ipcctl_cmd connect' -l group -x -d 'with --bus: subscribe to group G (repeatable); plain lines go to the first'
complete -c ipcctl -n '__ipcctl_at connect 0' -x -a '(__ipcctl_services)'
complete -c ipcctl -n '__ipcctl_cmd switch' -l framing -x -a 'ipc line raw json' -d 'framing of tcp:// and tls:// sides: ipc|line|raw|json'
complete -c ipcctl -n '__ipcctl_cmd switch' -l max-conns -x -d 'at most N pairs at once; others wait (0: no bound)'
complete -c ipcctl -n '__ipcctl_cmd switch' -l idle-timeout -x -d 'close a pair through which no message passed for DUR (0: never)'
complete -c ipcctl -n '__ipcctl_cmd switch' -l linger -x -d 'once one side of a pair ends, pass the other\'s messages until DUR of silence'
complete -c ipcctl -n '__ipcctl_cmd switch' -l max-size -x -d 'refuse received messages over BYTES (suffixes K, KiB, M, MiB)'
complete -c ipcctl -n '__ipcctl_cmd switch' -l cert -r -F -d 'TLS certificate FILE (PEM)'
complete -c ipcctl -n '__ipcctl_cmd switch' -l key -r -F -d 'TLS private key FILE (PEM)'
complete -c ipcctl -n '__ipcctl_cmd switch' -l ca -r -F -d 'trust the CA certificates in FILE; when listening, require client certificates'
complete -c ipcctl -n '__ipcctl_cmd switch' -l ws-binary -d 'send every WebSocket message as binary'
complete -c ipcctl -n '__ipcctl_cmd switch' -l origin -x -d 'let web pages from HOST pattern open WebSockets (repeatable)'
complete -c ipcctl -n '__ipcctl_cmd switch' -l http-timeout -x -d 'answer an http:// request 504 when no reply came within DUR'
complete -c ipcctl -n '__ipcctl_cmd switch' -l ipcd -d 'be LibIPC\'s ipcd, the service ipc: connect clients to the service they name and hand the connection over'
complete -c ipcctl -n '__ipcctl_cmd switch' -l tcpd-out -d 'be LibIPC\'s outgoing tcpd, the service tcp: relay clients to the tcp://HOST:PORT/SERVICE they name'
complete -c ipcctl -n '__ipcctl_cmd switch' -l ready-fd -x -d 'once clients can connect, write a newline to descriptor N and close it (s6\'s notification-fd)'
complete -c ipcctl -n '__ipcctl_cmd switch' -l pidfile -r -F -d 'write the process id to PATH once ready (atomically), remove it on exit'
complete -c ipcctl -n '__ipcctl_cmd switch' -l nats-queue -x -d 'NATS queue group GROUP of the copies answering a subject (-: none, each copy answers)'
complete -c ipcctl -n '__ipcctl_cmd switch' -l nats-timeout -x -d 'a NATS request, or a service\'s reply to one, fails after DUR'
complete -c ipcctl -n '__ipcctl_cmd switch' -l nats-max-inflight -x -d 'at most N NATS requests in progress at once'
complete -c ipcctl -n '__ipcctl_cmd switch' -l nats-creds -r -F -d 'NATS user credentials FILE (JWT and NKey seed)'
complete -c ipcctl -n '__ipcctl_cmd switch' -l nats-tls-cert -r -F -d 'TLS client certificate FILE (PEM) for NATS'
complete -c ipcctl -n '__ipcctl_cmd switch' -l nats-tls-key -r -F -d 'TLS client key FILE (PEM) for NATS'
complete -c ipcctl -n '__ipcctl_cmd switch' -l nats-tls-ca -r -F -d 'verify the NATS servers with the CA certificates in FILE'
complete -c ipcctl -n '__ipcctl_at switch 0' -x -a '(__ipcctl_services)'
complete -c ipcctl -n '__ipcctl_at switch 1' -x -a '(__ipcctl_services)'
complete -c ipcctl -n '__ipcctl_cmd timer' -s n -l count -x -d 'exit after N events (0: never)'
complete -c ipcctl -n '__ipcctl_cmd dump' -l decode -r -F -d 'split the byte stream in FILE (- for stdin) into frames'
complete -c ipcctl -n '__ipcctl_cmd dump' -l hex -d 'print payloads as hex digits (text)'
complete -c ipcctl -n '__ipcctl_cmd dump' -s n -l count -x -d 'stop after N messages'
complete -c ipcctl -n '__ipcctl_cmd dump' -l max-size -x -d 'refuse received messages over BYTES (suffixes K, KiB, M, MiB)'
complete -c ipcctl -n '__ipcctl_cmd dump' -l members -d 'list the clients of the bus NAME'
complete -c ipcctl -n '__ipcctl_cmd dump' -l group -x -d 'with --members: list the members of group G only'
complete -c ipcctl -n '__ipcctl_at dump 0' -x -a '(__ipcctl_services)'
complete -c ipcctl -n '__ipcctl_at completion 0' -x -a 'bash zsh fish'
