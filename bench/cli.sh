#!/usr/bin/env bash
# bench/cli.sh measures whole ipcctl processes against baselines run on the
# same machine in the same run, and prints ratios:
#
#   listen: messages/s that `ipcctl listen` prints to a pipe (64-byte
#           messages), against socat copying the same bytes unparsed;
#           the bar is 500 000 messages/s.
#   send:   one-shot `ipcctl send --wait` against `nngcat --req` talking to
#           an `nngcat --rep`, timed by hyperfine; the bar is "faster".
#
# Needs socat, perl, and for the second part nngcat (nng-utils) and
# hyperfine. Usage: bench/cli.sh [MESSAGES]
set -euo pipefail

n=${1:-1000000}
. "$(dirname "$0")/common.sh"

echo "building ipcctl"
build
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
	"ratio $(awk -v a="$base" -v b="$ours" 'BEGIN { printf "%.2f", a / b }') of socat; bar 500000 msg/s"

if ! command -v nngcat >/dev/null || ! command -v hyperfine >/dev/null; then
	echo "send: skipped (needs nngcat and hyperfine)"
	exit 0
fi
# Two ipcctl services: "pong", a stream-mode serve answering every message
# through a FIFO with one awk process (no process per client, as nngcat
# --rep --data), and "cat", serve --exec cat (a process per client).
mkfifo "$work/cmds"
"$ipcctl" serve pong < "$work/cmds" |
	awk -W interactive -F '\t' '$1 == "message" { print "send " $2 " pong"; fflush() }' > "$work/cmds" &
"$ipcctl" serve cat --exec cat > /dev/null &
nngcat --rep --listen "ipc://$work/rep" --data pong > /dev/null &
while [ ! -S "$IPC_RUNDIR/pong" ] || [ ! -S "$IPC_RUNDIR/cat" ] || [ ! -S "$work/rep" ]; do sleep 0.05; done
hyperfine -N --warmup 10 --runs 200 --export-json "$work/send.json" \
	"$ipcctl send --wait pong ping" \
	"$ipcctl send --wait cat ping" \
	"nngcat --req --dial ipc://$work/rep --data ping" > /dev/null
perl -MJSON::PP -e '
	my $r = decode_json(do { local $/; <STDIN> })->{results};
	printf "send --wait one-shot: ipcctl %.2f ms (serve and awk; %.2f ms with serve --exec cat), nngcat %.2f ms, ratio %.2f (bar < 1)\n",
		$r->[0]{mean} * 1000, $r->[1]{mean} * 1000, $r->[2]{mean} * 1000, $r->[0]{mean} / $r->[2]{mean};
' < "$work/send.json"
