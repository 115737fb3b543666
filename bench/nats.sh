#!/usr/bin/env bash
# bench/nats.sh [--quick] measures cross-bus fan-out through NATS: a
# cluster of two nats-server processes joined by a route, a bus on each
# (`serve --bus bench --nats`, two run directories: two "machines"), the
# subscribers on one bus and the publisher on the other, 64-byte
# messages, deliveries per second summed over the subscribers; against
# `nats bench` on the same cluster in the same run, its subscribers on
# the one server and its publisher on the other. Rows for 1 and 10
# subscribers; the bar (within 1.5 times NATS's own figure) is on the one
# subscriber row, where ipcctl's overhead shows whole. Two more rows, for
# one subscriber: bench/natsfloor's minimal relays (a client's frames
# published to NATS, and NATS's messages written as frames to a client,
# with nothing of a bus) on the same path, against nats bench, and ipcctl
# against them: the floor of any bridge between local sockets and NATS.
# --quick: tiny sizes, to check that it works.
#
# nats-server and nats come from PATH (bench/run installs them), else they
# are installed from the Go module proxy into the work directory.
set -euo pipefail
quick=
if [ "${1:-}" = --quick ]; then
	quick=1
fi
. "$(dirname "$0")/common.sh"
build ./bench/busbench ./bench/natsfloor
need_nats
msgs=100000
if [ -n "$quick" ]; then
	msgs=2000
fi

# server N [ROUTE]: start nats-server N on free ports, routed to ROUTE; its
# client URL in url_N and its monitor in mon_N.
server() {
	local log=$work/nats$1.log
	nats-server -a 127.0.0.1 -p -1 -m -1 --cluster nats://127.0.0.1:-1 --cluster_name bench \
		${2:+--routes "$2"} > "$log" 2>&1 &
	until grep -q 'Server is ready' "$log" 2> /dev/null; do sleep 0.05; done
	printf -v "url_$1" 'nats://%s' "$(sed -n 's/.*Listening for client connections on \([0-9.:]*\).*/\1/p' "$log")"
	printf -v "mon_$1" '%s' "$(sed -n 's/.*Starting http monitor on \([0-9.:]*\).*/\1/p' "$log")"
	printf -v "route_$1" 'nats://%s' "$(sed -n 's/.*Listening for route connections on \([0-9.:]*\).*/\1/p' "$log")"
}
server 1
server 2 "$route_1"
until curl -s "http://$mon_2/varz" | grep -q '"routes": *[1-9]'; do sleep 0.05; done

# Two machines: the subscribers' bus on server 2, the publisher's on 1.
for m in 1 2; do
	mkdir -p "$work/m$m"
	url=url_$m
	IPC_RUNDIR=$work/m$m "$work/ipcctl" serve --bus bench --nats "${!url}" > "$work/bus$m.events" &
done
until grep -q '^bus-joined' "$work/bus1.events" 2> /dev/null; do sleep 0.05; done
until grep -q '^bus-joined' "$work/bus2.events" 2> /dev/null; do sleep 0.05; done

# ipcctl_rate SUBS: deliveries/s across the buses with SUBS subscribers.
ipcctl_rate() {
	"$work/busbench" -subs "$1" -msgs "$msgs" -sub-rundir "$work/m2" -pub-rundir "$work/m1" -idle 5s \
		-timeout 5m bench > "$work/busbench.out"
	sed -n 's/.* rate=\([0-9]*\) .*/\1/p' "$work/busbench.out"
}

# nats_rate SUBS: the cluster's deliveries/s as nats bench sums them, the
# subscribers on server 2 and the publisher on server 1.
nats_rate() {
	local n=$1
	timeout 300 nats --server "$url_2" bench sub fanout --clients "$n" --msgs "$msgs" --size 64 --no-progress > "$work/nats.sub" 2>&1 &
	local sub=$!
	until [ "$(curl -s "http://$mon_1/subsz" | sed -n 's/.*"num_subscriptions": *\([0-9]*\).*/\1/p')" -ge "$n" ]; do
		sleep 0.05
	done
	sleep 0.2 # the route's interest is in place on server 1 once it counts them
	nats --server "$url_1" bench pub fanout --clients 1 --msgs "$msgs" --size 64 --no-progress > "$work/nats.pub" 2>&1
	wait "$sub"
	nats_sub_rate "$work/nats.sub"
}

for n in 1 10; do
	ours=$(ipcctl_rate "$n")
	lost=$(sed -n 's/.* dropped=\([0-9]*\) lost=\([0-9]*\) .*/\1 dropped, \2 lost/p' "$work/busbench.out")
	theirs=$(nats_rate "$n")
	echo "cross-bus fan-out over NATS, 64-byte messages, $n subscribers: ipcctl $ours deliveries/s ($lost)," \
		"nats bench $theirs deliveries/s, ratio $(ratio "$ours" "$theirs")"
	bar=reported
	if [ "$n" = 1 ]; then
		bar="ratio>=0.67"
	fi
	record "cross-bus fan-out over NATS, 64 B, $n subscribers" "$ours" "$theirs" deliveries/s "$bar"
	if [ "$n" = 1 ]; then
		ours1=$ours theirs1=$theirs
	fi
done
grep '^nats-lost' "$work/bus1.events" "$work/bus2.events" >&2 || true

# The floor: natsfloor's relays on the buses' servers, its client between.
"$work/natsfloor" in "$work/floor.in" "$url_2" floor.x &
"$work/natsfloor" out "$work/floor.out" "$url_1" floor.x &
while [ ! -S "$work/floor.in" ] || [ ! -S "$work/floor.out" ]; do sleep 0.05; done
floor=$("$work/natsfloor" run "$work/floor.out" "$work/floor.in" "$msgs" 64 | sed -n 's/^rate=\([0-9]*\) .*/\1/p')
echo "minimal relay over NATS, 64-byte messages, 1 subscriber: $floor deliveries/s," \
	"ratio $(ratio "$floor" "$theirs1") of nats bench; ipcctl $(ratio "$ours1" "$floor") of it"
record "a minimal relay over NATS (floor), 64 B, 1 subscriber / nats bench" "$floor" "$theirs1" deliveries/s reported
record "cross-bus fan-out over NATS, 64 B, 1 subscriber / the minimal relay" "$ours1" "$floor" deliveries/s reported
