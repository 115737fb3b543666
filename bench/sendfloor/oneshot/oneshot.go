// Package oneshot is what a one-shot `ipcctl send --wait NAME MSG` does
// at the least, for bench/sendfloor.sh: dial the service's socket in the
// run directory, write one frame, read the reply frame and print its
// payload, with nothing else (no flags, no checks of the run directory,
// no timeout).
package oneshot

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
)

// Main sends os.Args[2] to the service os.Args[1] and prints the reply.
func Main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "oneshot:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: NAME MSG")
	}
	dir := os.Getenv("IPC_RUNDIR")
	if dir == "" {
		dir = "/tmp/.libipc-run"
	}
	c, err := net.Dial("unix", filepath.Join(dir, args[0]))
	if err != nil {
		return err
	}
	defer c.Close()
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(args[1])))
	if _, err := c.Write(append(frame, args[1]...)); err != nil {
		return err
	}
	var head [4]byte
	if _, err := io.ReadFull(c, head[:]); err != nil {
		return err
	}
	reply := make([]byte, binary.BigEndian.Uint32(head[:])+1)
	if _, err := io.ReadFull(c, reply[:len(reply)-1]); err != nil {
		return err
	}
	reply[len(reply)-1] = '\n'
	_, err = os.Stdout.Write(reply)
	return err
}
