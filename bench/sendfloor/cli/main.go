// Command cli is the one-shot client of package oneshot, linking the
// command-line library and the basics ipcctl links (as bench/linkcost/cli
// does) but not its WebSocket, TLS, HTTP and NATS libraries: the floor of
// `ipcctl send --wait NAME MSG` for a binary that would leave those to
// another. See bench/sendfloor.sh.
package main

import (
	_ "encoding/json"

	_ "github.com/fatih/color"
	"github.com/ipcctl/ipcctl/bench/sendfloor/oneshot"
	_ "github.com/urfave/cli/v2"
	_ "golang.org/x/sys/unix"
)

func main() { oneshot.Main() }
