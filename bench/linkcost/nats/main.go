// Command nats prints a line, as bench/minimal does, with packages that
// ipcctl links imported for their start-up cost alone: see
// bench/linkcost.sh.
package main

import (
	"fmt"

	_ "encoding/json"
	_ "net"

	_ "github.com/coder/websocket" // net/http, crypto/tls
	_ "github.com/fatih/color"
	_ "github.com/nats-io/nats.go"
	_ "github.com/urfave/cli/v2"
	_ "golang.org/x/sys/unix"
)

func main() {
	fmt.Println("nats version 1")
}
