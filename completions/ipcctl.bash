# bash completion for ipcctl.
# Generated from the command definitions by "go generate"; do not edit.
# Install: source it, or copy it to /usr/share/bash-completion/completions/ipcctl.

# _ipcctl_services completes the names of the sockets in the run directory.
_ipcctl_services() {
    local dir=${IPC_RUNDIR:-${RUNDIR:-/tmp/.libipc-run}} i f
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} == --rundir ]]; then
            # bash splits --rundir=DIR into three words.
            if [[ ${COMP_WORDS[i+1]} == = ]]; then
                dir=${COMP_WORDS[i+2]}
            else
                dir=${COMP_WORDS[i+1]}
            fi
        fi
    done
    for f in "$dir"/*; do
        [[ -S $f && ${f##*/} == "$cur"* ]] && COMPREPLY+=("${f##*/}")
    done
}

_ipcctl_files() {
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
}

_ipcctl() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local cmd= n=0 i w skip= ended=
    COMPREPLY=()
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = ]]; then
        prev=${COMP_WORDS[COMP_CWORD-2]}
    fi

    # Find the command and count its arguments before the cursor.
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ -n $skip ]]; then
            skip=
            continue
        fi
        if [[ -z $ended && $w == -?* ]]; then
            if [[ $w == -- ]]; then
                ended=1
            elif [[ ${COMP_WORDS[i+1]} == = ]]; then
                ((i += 2))
            else
                case $w in
                    --rundir|--trust-owner|--format|--color|--timer|--allow-uid|--allow-gid|--max-clients|--max-size|--max-buffered|--frame-timeout|--idle-timeout|--exec|--handler|--max-procs|--handler-timeout|--framing|--cert|--key|--ca|--http-timeout|--nats|--nats-prefix|--nats-heartbeat|--nats-creds|--nats-tls-cert|--nats-tls-key|--nats-tls-ca|--ready-fd|--pidfile|-n|--count|--timeout|--wait-service|--group|--to|--linger|--max-conns|--origin|--nats-queue|--nats-timeout|--nats-max-inflight|--decode) skip=1 ;;
                esac
            fi
            continue
        fi
        if [[ -z $cmd ]]; then
            cmd=$w
        else
            ((n++))
        fi
    done

    case $prev in
        --rundir) _ipcctl_files; return ;;
        --trust-owner) return ;;
        --format) COMPREPLY=($(compgen -W 'text json' -- "$cur")); return ;;
        --color) COMPREPLY=($(compgen -W 'auto always never' -- "$cur")); return ;;
        --timer) return ;;
        --allow-uid) return ;;
        --allow-gid) return ;;
        --max-clients) return ;;
        --max-size) return ;;
        --max-buffered) return ;;
        --frame-timeout) return ;;
        --idle-timeout) return ;;
        --exec) return ;;
        --handler) return ;;
        --max-procs) return ;;
        --handler-timeout) return ;;
        --framing) COMPREPLY=($(compgen -W 'ipc line raw json' -- "$cur")); return ;;
        --cert) _ipcctl_files; return ;;
        --key) _ipcctl_files; return ;;
        --ca) _ipcctl_files; return ;;
        --http-timeout) return ;;
        --nats) return ;;
        --nats-prefix) return ;;
        --nats-heartbeat) return ;;
        --nats-creds) _ipcctl_files; return ;;
        --nats-tls-cert) _ipcctl_files; return ;;
        --nats-tls-key) _ipcctl_files; return ;;
        --nats-tls-ca) _ipcctl_files; return ;;
        --ready-fd) return ;;
        --pidfile) _ipcctl_files; return ;;
        -n|--count) return ;;
        --timeout) return ;;
        --wait-service) return ;;
        --group) return ;;
        --to) return ;;
        --linger) return ;;
        --max-conns) return ;;
        --origin) return ;;
        --nats-queue) return ;;
        --nats-timeout) return ;;
        --nats-max-inflight) return ;;
        --decode) _ipcctl_files; return ;;
    esac

    if [[ -z $ended && $cur == -* ]]; then
        case $cmd in
            '') w='--rundir --trust-owner --format --json --color -q --quiet -v --verbose --version -h --help' ;;
            serve) w='--timer --allow-uid --allow-gid --max-clients --max-size --max-buffered --frame-timeout --idle-timeout --exec --line-buffered --handler --max-procs --handler-timeout --raw --bus --framing --cert --key --ca --http-timeout --nats --nats-prefix --nats-heartbeat --nats-creds --nats-tls-cert --nats-tls-key --nats-tls-ca --ready-fd --pidfile --rundir --trust-owner --format --json --color -q --quiet -v --verbose --version -h --help' ;;
            send) w='-w --wait -n --count --timeout --raw --wait-service --max-size --group --to --each --rundir --trust-owner --format --json --color -q --quiet -v --verbose --version -h --help' ;;
            listen) w='-n --count --timeout --raw --retry --wait-service --max-size --group --presence --handler --max-procs --ready-fd --rundir --trust-owner --format --json --color -q --quiet -v --verbose --version -h --help' ;;
            connect) w='--linger --wait-service --max-size --bus --group --rundir --trust-owner --format --json --color -q --quiet -v --verbose --version -h --help' ;;
            switch) w='--framing --max-conns --idle-timeout --linger --max-size --cert --key --ca --ws-binary --origin --http-timeout --ipcd --tcpd-out --ready-fd --pidfile --nats-queue --nats-timeout --nats-max-inflight --nats-creds --nats-tls-cert --nats-tls-key --nats-tls-ca --rundir --trust-owner --format --json --color -q --quiet -v --verbose --version -h --help' ;;
            timer) w='-n --count --rundir --trust-owner --format --json --color -q --quiet -v --verbose --version -h --help' ;;
            dump) w='--decode --hex -n --count --max-size --members --group --rundir --trust-owner --format --json --color -q --quiet -v --verbose --version -h --help' ;;
            completion) w='--rundir --trust-owner --format --json --color -q --quiet -v --verbose --version -h --help' ;;
        esac
        COMPREPLY=($(compgen -W "$w" -- "$cur"))
        return
    fi
    if [[ -z $cmd ]]; then
        COMPREPLY=($(compgen -W 'serve send listen connect switch timer dump completion help' -- "$cur"))
        return
    fi
    case $cmd in
        help) [[ $n == 0 ]] && COMPREPLY=($(compgen -W 'serve send listen connect switch timer dump completion help' -- "$cur")) ;;
        serve)
            case $n in
                0) _ipcctl_services ;;
            esac
            ;;
        send)
            case $n in
                0) _ipcctl_services ;;
                *) : ;;
            esac
            ;;
        listen)
            case $n in
                0) _ipcctl_services ;;
            esac
            ;;
        connect)
            case $n in
                0) _ipcctl_services ;;
            esac
            ;;
        switch)
            case $n in
                0) _ipcctl_services ;;
                1) _ipcctl_services ;;
            esac
            ;;
        dump)
            case $n in
                0) _ipcctl_services ;;
            esac
            ;;
        completion)
            case $n in
                0) COMPREPLY=($(compgen -W 'bash zsh fish' -- "$cur")) ;;
            esac
            ;;
    esac
}

complete -F _ipcctl ipcctl
