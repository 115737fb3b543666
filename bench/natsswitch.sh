#!/usr/bin/env bash
# bench/natsswitch.sh [--quick] measures NATS requests answered by a local
# service through `ipcctl switch nats://.../SUBJECT NAME` (the service
# `serve --exec cat`), against the same requests answered by a `nats reply`
# responder, in the same run on the same NATS server: `nats req --count N`
# makes N requests one after the other, and the figure is requests per
# second. --quick: a few requests, to check that it works.
#
# nats-server and nats come from PATH (bench/run installs them), else they
# are installed from the Go module proxy into the work directory.
set -euo pipefail
n=2000
if [ "${1:-}" = --quick ]; then
	n=50
fi
. "$(dirname "$0")/common.sh"
build
if ! command -v nats-server > /dev/null || ! command -v nats > /dev/null; then
	echo "bench/natsswitch.sh: installing nats-server and nats into $work/gobin" >&2
	GOBIN=$work/gobin go install github.com/nats-io/nats-server/v2@v2.15.2 >&2
	GOBIN=$work/gobin go install github.com/nats-io/natscli/nats@v0.5.0 >&2
	export PATH=$work/gobin:$PATH
fi

nats-server -a 127.0.0.1 -p -1 > "$work/nats.log" 2>&1 &
until grep -q 'Server is ready' "$work/nats.log" 2> /dev/null; do sleep 0.05; done
export NATS_URL=nats://$(sed -n 's/.*Listening for client connections on \([0-9.:]*\).*/\1/p' "$work/nats.log")

"$work/ipcctl" serve echo --exec cat > "$work/echo.events" &
until grep -q '^listening' "$work/echo.events" 2> /dev/null; do sleep 0.05; done
"$work/ipcctl" switch "$NATS_URL/bench.switch" echo > "$work/switch.events" &
until grep -q '^listening' "$work/switch.events" 2> /dev/null; do sleep 0.05; done
nats reply bench.direct '{{Request}}' > /dev/null 2>&1 &
until nats req bench.direct ready > /dev/null 2>&1; do sleep 0.05; done

# rate SUBJECT: requests/s of N requests to SUBJECT, one at a time.
rate() {
	local t0 t1
	nats req bench.$1 warm > /dev/null 2>&1
	t0=$(date +%s%N)
	nats req --count "$n" bench.$1 'message {{Count}}' > /dev/null 2>&1
	t1=$(date +%s%N)
	awk -v n="$n" -v ns=$((t1 - t0)) 'BEGIN { printf "%d", n / (ns / 1e9) }'
}

ours=$(rate switch)
theirs=$(rate direct)
echo "NATS requests, one at a time: through switch to serve --exec cat $ours/s, nats reply $theirs/s," \
	"ratio $(ratio "$ours" "$theirs")"
record "NATS request through switch (vs nats reply)" "$ours" "$theirs" requests/s reported
