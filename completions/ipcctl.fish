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
                case --rundir --format --color
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
complete -c ipcctl -l format -x -a 'text json' -d 'print events as text|json'
complete -c ipcctl -l json -d 'same as --format json'
complete -c ipcctl -l color -x -a 'auto always never' -d 'colour output auto|always|never'
complete -c ipcctl -s q -l quiet -d 'print only data and errors'
complete -c ipcctl -s v -l verbose -d 'print progress notes on stderr'
complete -c ipcctl -l version -d 'print the version and exit'
complete -c ipcctl -s h -l help -d 'show help'
complete -c ipcctl -n __ipcctl_no_command -a completion -d 'print a shell completion script'
complete -c ipcctl -n __ipcctl_no_command -a help -d 'show the help of a command'
complete -c ipcctl -n '__ipcctl_at help 0' -a 'completion help'
complete -c ipcctl -n '__ipcctl_at completion 0' -x -a 'bash zsh fish'
