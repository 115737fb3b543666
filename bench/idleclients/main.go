// Command idleclients connects N clients to a service, has each send one
// message, and keeps them all open until it is interrupted. bench/idle.sh
// uses it to measure the memory a service spends per idle client.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/ipcctl/ipcctl/ipc"
)

func main() {
	n := flag.Int("n", 10000, "number of clients")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: idleclients [-n N] SERVICE")
		os.Exit(2)
	}
	conns := make([]*ipc.Conn, 0, *n)
	for i := 0; i < *n; i++ {
		c, err := ipc.Dial(context.Background(), flag.Arg(0), ipc.DialOptions{})
		if err != nil {
			fmt.Fprintf(os.Stderr, "idleclients: client %d: %v\n", i, err)
			os.Exit(1)
		}
		if err := c.Write([]byte("hello")); err != nil {
			fmt.Fprintf(os.Stderr, "idleclients: client %d: %v\n", i, err)
			os.Exit(1)
		}
		conns = append(conns, c)
	}
	fmt.Println("connected", len(conns))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	<-sig
}
