#!/bin/sh
# Measures the engine against plain Go sockets in one run and prints the
# ratios the product promises (see bench/README.md), with GOMAXPROCS 1 and
# 2 unless GOMAXPROCS is set.
#
#   bench/engine.sh            # one measurement of each
#   COUNT=5 bench/engine.sh    # five, to see the spread
#   BENCHTIME=5s bench/engine.sh
#   GOMAXPROCS=2 bench/engine.sh
set -eu
cd "$(dirname "$0")/.."
. bench/record.sh
count=${COUNT:-1}
benchtime=${BENCHTIME:-2s}
procs=${GOMAXPROCS:-1 2}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
i=0
while [ "$i" -lt "$count" ]; do
	for p in $procs; do
		IPC_BENCH=1 GOMAXPROCS=$p go test -count=1 -run '^TestEngineRatios$' -test.benchtime="$benchtime" ./ipc -v |
			grep -E '^(round trip|one-way stream)|FAIL|panic' > "$out" || true
		sed "s/^/GOMAXPROCS=$p: /" "$out"
		# The lines are read back by their words: "raw N ns, engine N ns" (recorded in µs),
		# "raw N msg/s, engine N msg/s" and "a message: engine N msg/s".
		perl -ne '
			printf "round\t%.2f\t%.2f\n", $2 / 1000, $1 / 1000 if /^round trip.* raw (\d+) ns, engine (\d+) ns/;
			if (/^one-way stream, \d+-byte.* raw (\d+) msg\/s, engine (\d+) msg\/s/) {
				$raw = $1; print "stream\t$2\t$1\n";
			}
			print "schedule\t$1\t$raw\n" if /one Schedule a message: engine (\d+) msg\/s/;
		' "$out" | while IFS='	' read -r what ours base; do
			case $what in
			round) record "engine round trip, GOMAXPROCS=$p / raw net.UnixConn" "$ours" "$base" µs "ratio<=1.3" ;;
			stream) record "engine stream 64 B, ScheduleBatch, GOMAXPROCS=$p / raw" "$ours" "$base" msg/s "ratio>=0.5" ;;
			schedule) record "engine stream 64 B, one Schedule a message, GOMAXPROCS=$p / raw" "$ours" "$base" msg/s "ratio>=0.5" ;;
			esac
		done
	done
	i=$((i + 1))
done
