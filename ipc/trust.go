package ipc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
)

// TrustEnv names the environment variable that lists, separated by
// commas, the users (names or numbers) whose sockets a client trusts
// besides the run directory's owner, itself and root. Dial reads it when
// DialOptions.TrustOwners is nil.
const TrustEnv = "IPC_TRUST_OWNER"

// ParseOwners turns a list of users, names or numbers separated by
// commas, into UIDs.
func ParseOwners(list string) ([]int, error) {
	var uids []int
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		uid, err := LookupUID(s)
		if err != nil {
			return nil, err
		}
		uids = append(uids, uid)
	}
	return uids, nil
}

// trust is who a client accepts as the owner of a service's socket and as
// the process listening on it.
type trust struct {
	dir    string
	owner  int   // the run directory's owner
	others []int // DialOptions.TrustOwners, or $IPC_TRUST_OWNER
}

// trustFor checks the run directory dir as a service does and returns
// whom its sockets may belong to.
func trustFor(dir string, opts DialOptions) (trust, error) {
	others := opts.TrustOwners
	if others == nil {
		var err error
		if others, err = ParseOwners(os.Getenv(TrustEnv)); err != nil {
			return trust{}, fmt.Errorf("$%s: %w", TrustEnv, err)
		}
	}
	owner, err := checkRunDir(dir)
	return trust{dir: dir, owner: owner, others: others}, err
}

// trusts reports whether uid may own a socket the client talks to.
func (t trust) trusts(uid int) bool {
	return uid == 0 || uid == t.owner || uid == os.Geteuid() || slices.Contains(t.others, uid)
}

// checkSocket refuses a socket at path that a user the client does not
// trust may have planted. A missing socket is for the dial to report.
func (t trust) checkSocket(path string) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("socket %s: %w", path, pathError(err))
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: socket %s is a symlink; a service's socket is a socket", ErrPermission, path)
	}
	if uid := ownerOf(fi); !t.trusts(uid) {
		return fmt.Errorf("%w: socket %s is owned by uid %d, not by the run directory's owner (uid %d), you or root; "+
			"if you trust that user, pass --trust-owner %d (or set %s)", ErrPermission, path, uid, t.owner, uid, TrustEnv)
	}
	return nil
}

// checkPeer refuses a connection whose listening process runs as a user
// the client does not trust, whoever owns the socket file.
func (t trust) checkPeer(c *Conn, path string) error {
	if uid := c.peer.UID; !t.trusts(uid) {
		return fmt.Errorf("%w: the process listening on %s (pid %d) runs as uid %d, not as the run directory's owner (uid %d), you or root; "+
			"if you trust that user, pass --trust-owner %d (or set %s)", ErrPermission, path, c.peer.PID, uid, t.owner, uid, TrustEnv)
	}
	return nil
}

// checkAllow tells the caller at once that the service will refuse it:
// the service publishes its allow list (allowfile.go), so that a refusal
// is told apart from a service that closes the connection for any other
// reason. A list the client cannot read or trust is left to the service
// to apply.
func (t trust) checkAllow(name, path string) error {
	a, err := readAllow(path, t.trusts)
	if err != nil || a == nil {
		return nil
	}
	me := selfCred()
	if a.Permits(me) {
		return nil
	}
	return fmt.Errorf("%w: service %s accepts only %s (%s), not uid %d gid %d: refused by its UID/GID check",
		ErrPermission, name, a, allowPath(path), me.UID, me.GID)
}
