// Command cli prints a line, as bench/minimal does, with packages that
// ipcctl links imported for their start-up cost alone: see
// bench/linkcost.sh.
package main

import (
	"fmt"

	_ "encoding/json"
	_ "net"

	_ "github.com/fatih/color"
	_ "github.com/urfave/cli/v2"
	_ "golang.org/x/sys/unix"
)

func main() {
	fmt.Println("cli version 1")
}
