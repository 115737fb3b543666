#!/usr/bin/env bash
# bench/startup.sh times `ipcctl --version` against a minimal Go binary
# (bench/minimal) with hyperfine, and prints the ratio of their medians;
# the bar is 1.3. When GNU time is installed it also prints the page faults
# of one run of each.
#
# Needs hyperfine. Usage: bench/startup.sh [RUNS]
set -euo pipefail
runs=${1:-300}
. "$(dirname "$0")/common.sh"
build ./bench/minimal

hyperfine -N --warmup 20 --runs "$runs" --export-json "$work/startup.json" \
	"$work/minimal" "$work/ipcctl --version" > /dev/null
read -r base ours < <(perl -MJSON::PP -e '
	my $r = decode_json(do { local $/; <STDIN> })->{results};
	printf "%.3f %.3f\n", $r->[0]{median} * 1000, $r->[1]{median} * 1000;
' < "$work/startup.json")
echo "start-up: ipcctl --version $ours ms, minimal Go binary $base ms (medians)," \
	"ratio $(awk -v a="$ours" -v b="$base" 'BEGIN { printf "%.2f", a / b }') (bar <= 1.3)"
record "start-up: \`ipcctl --version\` / a minimal Go binary" "$ours" "$base" ms "ratio<=1.3"

if [ -x /usr/bin/time ]; then
	faults() { /usr/bin/time -f %R "$@" 2>&1 > /dev/null | tail -1; }
	ours=$(faults "$work/ipcctl" --version)
	base=$(faults "$work/minimal")
	echo "start-up page faults: ipcctl --version $ours, minimal Go binary $base"
	record "start-up page faults (reported)" "$ours" "$base" faults -
fi
