// Command libs is the one-shot client of package oneshot, linking what
// ipcctl links (as bench/linkcost/nats does) for its start-up cost: the
// floor of `ipcctl send --wait NAME MSG` with ipcctl's libraries and none
// of its own work. See bench/sendfloor.sh.
package main

import (
	_ "encoding/json"

	_ "github.com/coder/websocket" // net/http, crypto/tls
	_ "github.com/fatih/color"
	"github.com/ipcctl/ipcctl/bench/sendfloor/oneshot"
	_ "github.com/nats-io/nats.go"
	_ "github.com/urfave/cli/v2"
	_ "golang.org/x/sys/unix"
)

func main() { oneshot.Main() }
