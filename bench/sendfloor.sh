#!/usr/bin/env bash
# bench/sendfloor.sh shows the floor of a one-shot `ipcctl send --wait`:
# it runs in turns (bench/turns) `nngcat --req` against an `nngcat --rep`,
# then against ipcctl's "pong" service (a stream-mode serve answering
# through awk, as bench/cli.sh has it) three Go one-shot clients that only
# dial, write one frame and print the reply (bench/sendfloor: plain links
# the standard library's net alone, cli the command-line library and the
# basics as bench/linkcost/cli does, libs what ipcctl links as
# bench/linkcost/nats does; built as bench/build builds ipcctl), and
# `ipcctl send --wait` itself. Prints bench/turns' lines, then each one's
# median time and faults against nngcat's.
#
# Usage: bench/sendfloor.sh [RUNS] (default 200). Needs nngcat (nng-utils).
set -euo pipefail
runs=${1:-200}
. "$(dirname "$0")/common.sh"
build ./bench/turns
for p in plain cli libs; do
	"$here/build" "$work/floor-$p" "./bench/sendfloor/$p"
done
mkdir -p "$IPC_RUNDIR"
mkfifo "$work/cmds"
"$work/ipcctl" serve pong < "$work/cmds" |
	awk -W interactive -F '\t' '$1 == "message" { print "send " $2 " pong"; fflush() }' > "$work/cmds" &
nngcat --rep --listen "ipc://$work/rep" --data pong > /dev/null &
while [ ! -S "$IPC_RUNDIR/pong" ] || [ ! -S "$work/rep" ]; do sleep 0.05; done
"$work/turns" -runs "$runs" -warmup 10 "nngcat --req --dial ipc://$work/rep --data ping" \
	"$work/floor-plain pong ping" "$work/floor-cli pong ping" "$work/floor-libs pong ping" \
	"$work/ipcctl send --wait --timeout 60s pong ping" | tee "$work/floor.tsv"
awk -F '\t' 'NR == 1 { t = $2; f = $5 } { split($1, w, " "); n = split(w[1], p, "/")
	printf "%-12s %6.2f ms %.2f x nngcat  %4d faults %.2f x nngcat\n", p[n], $2, $2 / t, $5, $5 / f }' "$work/floor.tsv"
