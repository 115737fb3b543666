// Command plain is a one-shot client (see package oneshot) linking only
// the standard library's net: the floor of a Go program that does what
// `ipcctl send --wait NAME MSG` does. See bench/sendfloor.sh.
package main

import "github.com/ipcctl/ipcctl/bench/sendfloor/oneshot"

func main() { oneshot.Main() }
