#!/usr/bin/env bash
# bench/bus.sh [--quick] measures the fan-out of `ipcctl serve --bus`: one
# publisher, 1, 10 and 100 subscribers, 64-byte messages, deliveries per
# second summed over the subscribers, against a NATS server and `nats
# bench` doing the same in the same run. Then one more subscriber, an
# `ipcctl listen` stopped with SIGSTOP: the others' deliveries/s against
# the run without it, and the bus's resident memory before, during and
# after. --quick: tiny sizes, to check that it works.
#
# nats-server and nats come from PATH (bench/run installs them), else they
# are installed from the Go module proxy into the work directory.
set -euo pipefail
quick=
if [ "${1:-}" = --quick ]; then
	quick=1
fi
. "$(dirname "$0")/common.sh"
build ./bench/busbench
need_nats

# msgs SUBS: how many messages a run of SUBS subscribers publishes.
msgs() {
	if [ -n "$quick" ]; then
		echo 2000
	elif [ "$1" -ge 100 ]; then
		echo 20000
	else
		echo 200000
	fi
}

"$work/ipcctl" serve --bus bench > "$work/bus.events" &
bus=$!
until grep -q '^listening' "$work/bus.events" 2> /dev/null; do sleep 0.05; done
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$bus/status"; }

nats-server -a 127.0.0.1 -p -1 -m -1 > "$work/nats.log" 2>&1 &
until grep -q 'Server is ready' "$work/nats.log" 2> /dev/null; do sleep 0.05; done
export NATS_URL=nats://$(sed -n 's/.*Listening for client connections on \([0-9.:]*\).*/\1/p' "$work/nats.log")
monitor=$(sed -n 's/.*Starting http monitor on \([0-9.:]*\).*/\1/p' "$work/nats.log")

# ipcctl_rate SUBS: the bus's deliveries/s with SUBS subscribers.
ipcctl_rate() {
	"$work/busbench" -subs "$1" -msgs "$(msgs "$1")" bench > "$work/busbench.out"
	sed -n 's/.* rate=\([0-9]*\) .*/\1/p' "$work/busbench.out"
}

# dropped: how many messages the last busbench run saw dropped.
dropped() { sed -n 's/.* dropped=\([0-9]*\) .*/\1/p' "$work/busbench.out"; }

# nats_rate SUBS: the NATS server's deliveries/s with SUBS subscribers, as
# nats bench sums them.
nats_rate() {
	local n=$1 m
	m=$(msgs "$1")
	timeout 300 nats bench sub fanout --clients "$n" --msgs "$m" --size 64 --no-progress > "$work/nats.sub" 2>&1 &
	local sub=$!
	until [ "$(curl -s "http://$monitor/varz" | sed -n 's/.*"subscriptions": *\([0-9]*\).*/\1/p')" -ge "$n" ]; do
		sleep 0.05
	done
	nats bench pub fanout --clients 1 --msgs "$m" --size 64 --no-progress > "$work/nats.pub" 2>&1
	wait "$sub"
	nats_sub_rate "$work/nats.sub"
}

for n in 1 10 100; do
	ours=$(ipcctl_rate "$n")
	lost=$(dropped)
	theirs=$(nats_rate "$n")
	echo "bus fan-out, 64-byte messages, $n subscribers: ipcctl $ours deliveries/s ($lost dropped)," \
		"nats $theirs deliveries/s, ratio $(ratio "$ours" "$theirs")"
	bar=reported
	if [ "$n" = 100 ]; then
		bar="ratio>=1"
	fi
	record "bus fan-out, 64 B, $n subscribers" "$ours" "$theirs" deliveries/s "$bar"
done

# A stalled subscriber: 10 subscribers with an eleventh stopped, against 10.
before=$(rss)
plain=$(ipcctl_rate 10)
"$work/ipcctl" -v listen bench --group bench > /dev/null 2> "$work/stalled.err" &
stalled=$!
until grep -q '^ipcctl: subscribed' "$work/stalled.err" 2> /dev/null; do sleep 0.05; done
kill -STOP "$stalled"
with=$(ipcctl_rate 10)
during=$(rss)
with2=$(ipcctl_rate 10)
during2=$(rss)
kill -CONT "$stalled"
kill "$stalled"
wait "$stalled" 2> /dev/null || true
after=$(rss)
echo "bus fan-out, 10 subscribers and one stalled (SIGSTOP): $with and $with2 deliveries/s against $plain without it" \
	"(ratio $(ratio "$with" "$plain"), bar >= 0.90);" \
	"bus RSS $before KiB before, $during and $during2 KiB with it stalled, $after KiB after"
record "bus fan-out, 10 subscribers, one stalled: deliveries/s" "$with" "$plain" deliveries/s "ratio>=0.9"
record "bus fan-out, one stalled: bus RSS growth" "$((during2 - before))" - KiB reported
