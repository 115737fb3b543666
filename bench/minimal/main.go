// Command minimal prints its version and exits: the smallest Go program
// that does what "ipcctl --version" does, the baseline of bench/startup.sh.
package main

import "fmt"

func main() {
	fmt.Println("minimal version 1")
}
