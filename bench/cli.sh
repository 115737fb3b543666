#!/usr/bin/env bash
# bench/cli.sh measures whole ipcctl processes against baselines run on the
# same machine in the same run, and prints ratios:
#
#   listen: messages/s that `ipcctl listen` prints to a pipe (64-byte
#           messages), against socat copying the same bytes unparsed;
#           the bar is half of socat's rate.
#   send:   one-shot `ipcctl send --wait` against `nngcat --req` talking to
#           an `nngcat --rep`, run in turns by bench/turns; the bar is "faster".
#           Its floor runs in the same turns: bench/sendfloor/libs, a Go
#           client that links ipcctl's libraries and only dials, writes one
#           frame and prints the reply (see bench/sendfloor.sh).
#   exec:   `ipcctl send --wait` to `serve --exec cat` (a process per
#           connection), against the same client talking to
#           `socat UNIX-LISTEN,fork EXEC:cat` and `s6-ipcserver cat`, which
#           echo its frame back as it is; the bar is "not slower".
#
# Needs socat, perl, and for the second part nngcat (nng-utils) and s6.
# Usage: bench/cli.sh [MESSAGES [RUNS]] (RUNS: runs of each command in
# turns, default 200).
set -euo pipefail

n=${1:-1000000}
runs=${2:-200}
. "$(dirname "$0")/common.sh"

build ./bench/turns
"$here/build" "$work/floor" ./bench/sendfloor/libs
ipcctl=$work/ipcctl

# A file of n frames of 64 bytes, served by socat to every client.
perl -e 'print pack("N/a*", "m" x 64) x $ARGV[0]' "$n" > "$work/frames"
mkdir -p "$IPC_RUNDIR"
socat UNIX-LISTEN:"$IPC_RUNDIR/feed",fork,unlink-early FILE:"$work/frames" &
while [ ! -S "$IPC_RUNDIR/feed" ]; do sleep 0.05; done

rate() { # rate SECONDS -> messages/s
	awk -v n="$n" -v s="$1" 'BEGIN { printf "%d", n / s }'
}
timed() { # timed CMD... -> seconds of wall time
	local t0 t1
	t0=$(date +%s.%N)
	"$@"
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

base=$(timed sh -c "socat -u UNIX-CONNECT:$IPC_RUNDIR/feed - | cat > /dev/null")
ours=$(timed sh -c "$ipcctl listen feed --count $n | cat > /dev/null")
echo "listen: ipcctl $(rate "$ours") msg/s, socat (bytes only) $(rate "$base") msg/s," \
	"share $(awk -v a="$base" -v b="$ours" 'BEGIN { printf "%.0f", 100 * a / b }') % of socat (bar >= 50 %)"
record "\`listen\` to a pipe, 64 B messages / socat copying the bytes" "$(rate "$ours")" "$(rate "$base")" msg/s "ratio>=0.5"

if ! command -v nngcat >/dev/null; then
	echo "send: skipped (needs nngcat)"
	exit 0
fi
# Two ipcctl services: "pong", a stream-mode serve answering every message
# through a FIFO with one awk process (no process per client, as nngcat
# --rep --data), and "cat", serve --exec cat (a process per client); and
# the same cat served by socat and by s6-ipcserver.
mkfifo "$work/cmds"
"$ipcctl" serve pong < "$work/cmds" |
	awk -W interactive -F '\t' '$1 == "message" { print "send " $2 " pong"; fflush() }' > "$work/cmds" &
"$ipcctl" serve cat --exec cat > /dev/null &
nngcat --rep --listen "ipc://$work/rep" --data pong > /dev/null &
socat UNIX-LISTEN:"$IPC_RUNDIR/socatcat",fork EXEC:cat &
sockets="pong cat socatcat"
if command -v s6-ipcserver >/dev/null; then
	s6-ipcserver "$IPC_RUNDIR/s6cat" cat &
	sockets="$sockets s6cat"
fi
for s in $sockets; do
	while [ ! -S "$IPC_RUNDIR/$s" ]; do sleep 0.05; done
done
while [ ! -S "$work/rep" ]; do sleep 0.05; done

# A generous --timeout: on a loaded machine a reply may take more than
# the default 5 s, and a failed run would stop the benchmark. The commands
# run in turns (bench/turns), so that a change of load hits them alike.
commands=("$ipcctl send --wait --timeout 60s pong ping" "nngcat --req --dial ipc://$work/rep --data ping" "$work/floor pong ping")
for s in cat socatcat s6cat; do
	case " $sockets " in *" $s "*) commands+=("$ipcctl send --wait --timeout 60s $s ping") ;; esac
done
"$work/turns" -runs "$runs" -warmup 10 "${commands[@]}" > "$work/send.tsv"
# medians in ms, in the order of commands: pong, nngcat, floor, cat, socatcat, s6cat
read -r pong nng floor cat socatcat s6cat < <(awk -F '\t' '{ printf "%s ", $2 } END { for (i = NR; i < 6; i++) printf "- "; print "" }' "$work/send.tsv")
read -r pongf nngf _ < <(awk -F '\t' '{ printf "%s ", $5 } END { print "" }' "$work/send.tsv")
echo "send --wait one-shot: ipcctl $pong ms (serve and awk), nngcat $nng ms (medians)," \
	"ratio $(ratio "$pong" "$nng") (bar < 1)"
record "\`send --wait\` one-shot / \`nngcat --req\`" "$pong" "$nng" ms "ratio<1"
echo "send --wait one-shot page faults: ipcctl $pongf, nngcat $nngf (medians)"
record "\`send --wait\` one-shot page faults / \`nngcat --req\`" "$pongf" "$nngf" faults -
echo "send --wait floor: a client linking ipcctl's libraries $floor ms, ratio $(ratio "$floor" "$nng") to nngcat;" \
	"ipcctl $(ratio "$pong" "$floor") x the floor"
record "\`send --wait\` floor: a client that links ipcctl's libraries and only dials, writes and prints / \`nngcat --req\`" "$floor" "$nng" ms -
record "\`send --wait\` one-shot / that floor" "$pong" "$floor" ms -
echo "serve --exec cat, a connection and a reply: ipcctl $cat ms, socat fork EXEC:cat $socatcat ms," \
	"s6-ipcserver cat $s6cat ms (medians, the client being ipcctl send --wait; bar: not slower)"
record "\`serve --exec cat\` / \`socat UNIX-LISTEN,fork EXEC:cat\`" "$cat" "$socatcat" ms "ratio<=1"
if [ "$s6cat" != - ]; then
	record "\`serve --exec cat\` / \`s6-ipcserver cat\`" "$cat" "$s6cat" ms "ratio<=1"
fi
