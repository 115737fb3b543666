#!/bin/sh
# Measures the engine against plain Go sockets in one run and prints the
# ratios the product promises (see bench/README.md).
#
#   bench/engine.sh            # one measurement of each
#   COUNT=5 bench/engine.sh    # five, to see the spread
#   BENCHTIME=5s bench/engine.sh
set -eu
cd "$(dirname "$0")/.."
count=${COUNT:-1}
benchtime=${BENCHTIME:-2s}
i=0
while [ "$i" -lt "$count" ]; do
	IPC_BENCH=1 go test -count=1 -run '^TestEngineRatios$' -test.benchtime="$benchtime" ./ipc -v |
		grep -E '^(round trip|one-way stream)|FAIL|panic' || true
	i=$((i + 1))
done
