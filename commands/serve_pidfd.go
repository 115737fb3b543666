package commands

import (
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

// A goroutine in cmd.Wait blocks a thread in waitid for as long as the
// process runs, and the runtime's monitor wakes every 20µs to take its
// processor back, a millisecond or so each time: for a process per
// connection, that is most of what serve's side of it costs in context
// switches. A process's pidfd is readable once it has exited, so serve
// waits for that in the runtime's poller, as for a socket, and calls
// Wait only then, when it returns at once.

// askPidfd makes cmd.Start store the process's pidfd in *fd (-1 until
// then, and where the kernel has none).
func askPidfd(cmd *exec.Cmd, fd *int) {
	*fd = -1
	cmd.SysProcAttr.PidFD = fd
}

// waitExited returns once the process of pidfd fd has exited, and closes
// fd. Where fd cannot be polled it returns at once: Wait then waits.
func waitExited(fd int) {
	if fd < 0 {
		return
	}
	if unix.SetNonblock(fd, true) != nil {
		unix.Close(fd)
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Read(func(fd uintptr) bool {
		var info unix.Siginfo
		// WNOWAIT: the process is left for Wait to reap.
		err := unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG|unix.WNOWAIT, nil)
		return err != nil || info.Signo != 0 // 0: still running
	})
}
