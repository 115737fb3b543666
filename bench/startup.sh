#!/usr/bin/env bash
# bench/startup.sh measures `ipcctl --version` against a minimal Go binary
# (bench/minimal), run in turns by bench/turns (minimal, floor, ipcctl,
# minimal...: a change of load on the machine hits them all), and prints the
# ratios of their medians: wall time (the bar is 1.3) and minor page faults,
# which do not depend on the load, so that a change shows even on a busy
# machine. The floor is bench/linkcost/nats: a binary that only prints a
# line but links the libraries ipcctl is made of (the command-line library,
# WebSocket and so net/http and crypto/tls, the NATS client), built as
# ipcctl is. Go runs every linked package's init at every start, so no
# single binary with those libraries starts faster than it.
#
# Usage: bench/startup.sh [RUNS] (runs of each, default 300)
set -euo pipefail
runs=${1:-300}
. "$(dirname "$0")/common.sh"
build ./bench/minimal ./bench/turns
"$here/build" "$work/floor" ./bench/linkcost/nats

# turns prints: command, median min max ms, median min max faults.
"$work/turns" -runs "$runs" "$work/minimal" "$work/floor" "$work/ipcctl --version" > "$work/startup.tsv"
read -r base basef < <(awk -F '\t' 'NR == 1 { print $2, $5 }' "$work/startup.tsv")
read -r floor floorf < <(awk -F '\t' 'NR == 2 { print $2, $5 }' "$work/startup.tsv")
read -r ours oursf < <(awk -F '\t' 'NR == 3 { print $2, $5 }' "$work/startup.tsv")
echo "start-up: ipcctl --version $ours ms, minimal Go binary $base ms (medians in turns)," \
	"ratio $(ratio "$ours" "$base") (bar <= 1.3)"
record "start-up: \`ipcctl --version\` / a minimal Go binary" "$ours" "$base" ms "ratio<=1.3"
echo "start-up page faults: ipcctl --version $oursf, minimal Go binary $basef (medians)," \
	"ratio $(ratio "$oursf" "$basef")"
record "start-up page faults: \`ipcctl --version\` / a minimal Go binary" "$oursf" "$basef" faults -
echo "start-up floor: a binary linking ipcctl's libraries $floor ms ($floorf faults)," \
	"ratio $(ratio "$floor" "$base") to the minimal one; ipcctl $(ratio "$ours" "$floor") x the floor"
record "start-up floor: a binary that links ipcctl's libraries and only prints / a minimal Go binary" "$floor" "$base" ms -
record "start-up: \`ipcctl --version\` / that floor" "$ours" "$floor" ms -
