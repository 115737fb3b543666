package faults

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"
)

// helperEnv makes the test binary a client process of the cases that
// kill a client (see helper).
const helperEnv = "FAULTS_HELPER"

// helperCmd returns the test binary as a client of the socket at path:
// mode "partial" writes the first bytes of a frame and stops; "request"
// writes a whole request and waits for its reply. Both print "ready" once
// written.
func helperCmd(mode, path string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode+" "+path)
	return cmd
}

// helper is the client process's main.
func helper(spec string) int {
	args := strings.Fields(spec)
	c, err := net.Dial("unix", args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	switch args[0] {
	case "partial":
		c.Write(append(prefix(10), "abc"...))
	case "request":
		c.Write(frame("request"))
	}
	fmt.Println("ready")
	go c.Read(make([]byte, 1))
	time.Sleep(time.Hour)
	return 0
}
