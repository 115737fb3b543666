#!/usr/bin/env bash
# bench/linkcost.sh shows where the start-up of `ipcctl --version` goes:
# it runs in turns (bench/turns) the minimal Go binary, then programs that
# only print a line but link more and more of what ipcctl links
# (bench/linkcost: cli = urfave/cli, fatih/color, x/sys/unix, net,
# encoding/json; web = cli + coder/websocket, so net/http and crypto/tls;
# nats = web + the NATS client; built as bench/build builds ipcctl), and
# ipcctl itself. Go runs the init of
# every package linked, used or not, so each step costs page faults at
# every start. Prints bench/turns' lines and each step's median faults.
#
# Usage: bench/linkcost.sh [RUNS] (default 100)
set -euo pipefail
runs=${1:-100}
. "$(dirname "$0")/common.sh"
build ./bench/minimal ./bench/turns
for p in cli web nats; do
	"$here/build" "$work/link-$p" "./bench/linkcost/$p"
done
"$work/turns" -runs "$runs" "$work/minimal" "$work/link-cli" "$work/link-web" "$work/link-nats" \
	"$work/ipcctl --version" | tee "$work/link.tsv"
awk -F '\t' 'NR == 1 { b = $5 } { n = split($1, w, "/"); printf "%-22s %5d faults  %.2f x minimal\n", w[n], $5, $5 / b }' "$work/link.tsv"
