# bench/common.sh is sourced by the whole-command benchmarks: it makes a
# work directory removed at exit (with the run directory of the services,
# IPC_RUNDIR, inside), kills the background jobs at exit, and builds
# ipcctl (plus any packages given) into it.
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/ibench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
export IPC_RUNDIR=$work/run

# build [PACKAGE...] builds ipcctl as $work/ipcctl, and each PACKAGE as
# $work/NAME.
build() {
	(cd "$here/.." && go build -o "$work/ipcctl" . && for p in "$@"; do go build -o "$work/$(basename "$p")" "$p"; done)
}
