# bench/common.sh is sourced by the whole-command benchmarks: it makes a
# work directory removed at exit (with the run directory of the services,
# IPC_RUNDIR, inside), kills the background jobs at exit, and builds
# ipcctl (plus any packages given) into it. It also defines record (see
# bench/record.sh).
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/ibench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
export IPC_RUNDIR=$work/run
. "$here/record.sh"

# build [PACKAGE...] builds ipcctl as $work/ipcctl, and each PACKAGE as
# $work/NAME. ipcctl is built as README.md's install command builds it;
# when $IPCCTL names a binary already built (bench/run builds one for all
# the scripts), that one is used.
build() {
	if [ -n "${IPCCTL:-}" ]; then
		cp "$IPCCTL" "$work/ipcctl"
	else
		"$here/build" "$work/ipcctl"
	fi
	(cd "$here/.." && for p in "$@"; do go build -o "$work/$(basename "$p")" "$p"; done)
}

# need_nats puts nats-server and nats on PATH: as they are there, else
# installed from the Go module proxy into the work directory.
need_nats() {
	if ! command -v nats-server > /dev/null || ! command -v nats > /dev/null; then
		echo "bench: installing nats-server and nats into $work/gobin" >&2
		GOBIN=$work/gobin go install github.com/nats-io/nats-server/v2@v2.15.2 >&2
		GOBIN=$work/gobin go install github.com/nats-io/natscli/nats@v0.5.0 >&2
		export PATH=$work/gobin:$PATH
	fi
}

# ratio A B prints A / B with two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# nats_sub_rate FILE prints the msgs/sec of the subscriber in the output
# of nats bench FILE holds.
nats_sub_rate() {
	sed -n 's/.*subscriber.*stats: \([0-9,]*\) msgs\/sec.*/\1/p' "$1" | tr -d , | tail -1
}
