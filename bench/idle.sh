#!/usr/bin/env bash
# bench/idle.sh connects N clients (default 10 000) at once to one
# `ipcctl serve`, each sending one message and then staying idle, and
# prints the service's resident memory per client, against the same
# service with no client (measured in the same run). The bar: all accepted,
# at most 20 KiB per idle client.
set -euo pipefail
n=${1:-10000}
. "$(dirname "$0")/common.sh"
ulimit -n $((n + 1000))
build ./bench/idleclients

"$work/ipcctl" serve idle > "$work/events" &
srv=$!
while ! grep -q '^listening' "$work/events" 2>/dev/null; do sleep 0.05; done
rss() { awk '/^VmRSS/ { print $2 }' /proc/$srv/status; }
before=$(rss)
"$work/idleclients" -n "$n" idle > "$work/clients" &
while ! grep -q '^connected' "$work/clients" 2>/dev/null; do sleep 0.1; done
while [ "$(grep -c '^message' "$work/events")" -lt "$n" ]; do sleep 0.1; done
sleep 1
after=$(rss)
accepted=$(grep -c '^connection' "$work/events")
echo "idle clients: $accepted of $n accepted; RSS $before KiB with none, $after KiB with them:" \
	"$(( (after - before) / n )) KiB per client (bar: 20 KiB)"
record "$n idle clients: accepted / connected" "$accepted" "$n" clients "ratio>=1"
record "$n idle clients: memory each" \
	"$(awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN { printf "%.2f", (a - b) / n }')" - KiB "ipcctl<=20"
