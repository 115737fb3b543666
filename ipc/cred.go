package ipc

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Cred is what the kernel tells of the process at the other end of a Unix
// socket (SO_PEERCRED), taken when the connection is made.
type Cred struct {
	PID, UID, GID int
}

// peerCred reads the credentials of a Unix socket's peer.
func peerCred(c *net.UnixConn) (Cred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Cred{}, err
	}
	var uc *unix.Ucred
	var serr error
	err = raw.Control(func(fd uintptr) {
		uc, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return Cred{}, err
	}
	return Cred{PID: int(uc.Pid), UID: int(uc.Uid), GID: int(uc.Gid)}, nil
}

// Allow is a list of users and groups a service accepts. A peer passes when
// its UID is listed, or its primary or a supplementary GID is. An empty
// Allow accepts everyone.
type Allow struct {
	UIDs []int
	GIDs []int
}

// Empty reports whether the list accepts everyone.
func (a *Allow) Empty() bool { return a == nil || len(a.UIDs) == 0 && len(a.GIDs) == 0 }

// Permits reports whether a peer with credentials c may connect.
func (a *Allow) Permits(c Cred) bool {
	if a.Empty() || slices.Contains(a.UIDs, c.UID) || slices.Contains(a.GIDs, c.GID) {
		return true
	}
	if len(a.GIDs) == 0 {
		return false
	}
	for _, g := range supplementaryGroups(c.PID) {
		if slices.Contains(a.GIDs, g) {
			return true
		}
	}
	return false
}

// supplementaryGroups reads a process's supplementary groups from /proc.
func supplementaryGroups(pid int) []int {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Groups:")
		if !ok {
			continue
		}
		var gids []int
		for _, s := range strings.Fields(rest) {
			if g, err := strconv.Atoi(s); err == nil {
				gids = append(gids, g)
			}
		}
		return gids
	}
	return nil
}

// LookupUID turns a user name or number into a UID.
func LookupUID(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n, nil
	}
	u, err := user.Lookup(s)
	if err != nil {
		return 0, fmt.Errorf("unknown user %q", s)
	}
	return strconv.Atoi(u.Uid)
}

// LookupGID turns a group name or number into a GID.
func LookupGID(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return n, nil
	}
	g, err := user.LookupGroup(s)
	if err != nil {
		return 0, fmt.Errorf("unknown group %q", s)
	}
	return strconv.Atoi(g.Gid)
}
