#!/usr/bin/env bash
# bench/startup.sh measures `ipcctl --version` against a minimal Go binary
# (bench/minimal), run in turns by bench/turns (minimal, ipcctl, minimal,
# ipcctl...: a change of load on the machine hits both), and prints the
# ratios of their medians: wall time (the bar is 1.3) and minor page faults,
# which do not depend on the load, so that a change shows even on a busy
# machine.
#
# Usage: bench/startup.sh [RUNS] (runs of each, default 300)
set -euo pipefail
runs=${1:-300}
. "$(dirname "$0")/common.sh"
build ./bench/minimal ./bench/turns

# turns prints: command, median min max ms, median min max faults.
"$work/turns" -runs "$runs" "$work/minimal" "$work/ipcctl --version" > "$work/startup.tsv"
read -r base basef < <(awk -F '\t' 'NR == 1 { print $2, $5 }' "$work/startup.tsv")
read -r ours oursf < <(awk -F '\t' 'NR == 2 { print $2, $5 }' "$work/startup.tsv")
echo "start-up: ipcctl --version $ours ms, minimal Go binary $base ms (medians in turns)," \
	"ratio $(ratio "$ours" "$base") (bar <= 1.3)"
record "start-up: \`ipcctl --version\` / a minimal Go binary" "$ours" "$base" ms "ratio<=1.3"
echo "start-up page faults: ipcctl --version $oursf, minimal Go binary $basef (medians)," \
	"ratio $(ratio "$oursf" "$basef")"
record "start-up page faults: \`ipcctl --version\` / a minimal Go binary" "$oursf" "$basef" faults -
