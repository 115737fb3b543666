package ipc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// A service with an allow list publishes it beside its socket, in
// RUNDIR/.NAME.allow, for as long as it runs: a client then knows that a
// connection the service ends was a refusal of its UID/GID check, and a
// tap in front of the service applies the same list. The file holds one
// entry a line, "uid N" or "gid N"; lines starting with # are comments.

// maxAllowFile bounds what is read of an allow file.
const maxAllowFile = 64 << 10

// allowPath is where the service with its socket at path publishes its
// allow list.
func allowPath(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".allow")
}

// publishAllow writes a's entries to the allow file of the socket at
// path, replacing it in one rename, and returns the file's identity. With
// an empty list it removes a file left by an earlier service instead: the
// caller holds the name's lock, so any file there is stale.
func publishAllow(path string, a *Allow) (fileID, error) {
	file := allowPath(path)
	if a.Empty() {
		if err := os.Remove(file); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fileID{}, fmt.Errorf("cannot remove the stale allow list %s: %w", file, pathError(err))
		}
		return fileID{}, nil
	}
	tmp := fmt.Sprintf("%s.%d", file, os.Getpid())
	if err := os.WriteFile(tmp, formatAllow(filepath.Base(path), a), 0o644); err != nil {
		os.Remove(tmp)
		return fileID{}, fmt.Errorf("cannot publish the allow list %s: %w", file, pathError(err))
	}
	if err := os.Chmod(tmp, 0o644); err != nil { // the umask does not reduce it
		os.Remove(tmp)
		return fileID{}, fmt.Errorf("cannot publish the allow list %s: %w", file, pathError(err))
	}
	id, _ := idAt(tmp)
	if err := os.Rename(tmp, file); err != nil {
		os.Remove(tmp)
		return fileID{}, fmt.Errorf("cannot publish the allow list %s: %w", file, pathError(err))
	}
	return id, nil
}

// formatAllow writes the allow file of service name.
func formatAllow(name string, a *Allow) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# the users and groups service %s accepts; others are refused\n", strconv.Quote(name))
	for _, u := range a.UIDs {
		fmt.Fprintf(&b, "uid %d\n", u)
	}
	for _, g := range a.GIDs {
		fmt.Fprintf(&b, "gid %d\n", g)
	}
	return b.Bytes()
}

// ParseAllow reads an allow file: one entry a line, "uid N" or "gid N"
// with N a decimal number, blank lines and lines starting with # left
// out. A list with no entry is an error: a service that accepts everyone
// publishes none.
func ParseAllow(data []byte) (*Allow, error) {
	if len(data) > maxAllowFile {
		return nil, fmt.Errorf("%w: an allow list of %d bytes, over %d", ErrBadData, len(data), maxAllowFile)
	}
	a := &Allow{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxAllowFile)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, val, _ := strings.Cut(line, " ")
		id, err := strconv.ParseUint(strings.TrimSpace(val), 10, 32)
		switch {
		case err != nil:
			return nil, fmt.Errorf("%w: allow list line %d: %q is not a number", ErrBadData, n, val)
		case key == "uid":
			a.UIDs = append(a.UIDs, int(id))
		case key == "gid":
			a.GIDs = append(a.GIDs, int(id))
		default:
			return nil, fmt.Errorf("%w: allow list line %d: %q is neither uid nor gid", ErrBadData, n, key)
		}
	}
	if a.Empty() {
		return nil, fmt.Errorf("%w: an allow list with no entry", ErrBadData)
	}
	return a, nil
}

// readAllow reads the allow list published beside the socket at path. It
// returns nil, nil when there is none. A file that is not a regular file
// or not owned by a user trusts accepts is an error.
func readAllow(path string, trusts func(uid int) bool) (*Allow, error) {
	file := allowPath(path)
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("allow list %s: %w", file, pathError(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("allow list %s: %w", file, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("allow list %s is not a regular file", file)
	}
	if uid := ownerOf(fi); !trusts(uid) {
		return nil, fmt.Errorf("allow list %s is owned by uid %d, a user not trusted", file, uid)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxAllowFile+1))
	if err != nil {
		return nil, fmt.Errorf("allow list %s: %w", file, err)
	}
	a, err := ParseAllow(data)
	if err != nil {
		return nil, fmt.Errorf("allow list %s: %w", file, err)
	}
	return a, nil
}

// selfCred is the caller's own credentials, as a service sees them.
func selfCred() Cred {
	return Cred{PID: os.Getpid(), UID: os.Geteuid(), GID: os.Getegid()}
}

// String lists a's entries as "uid 1000, gid 27".
func (a *Allow) String() string {
	if a.Empty() {
		return "everyone"
	}
	var parts []string
	for _, u := range a.UIDs {
		parts = append(parts, "uid "+strconv.Itoa(u))
	}
	for _, g := range a.GIDs {
		parts = append(parts, "gid "+strconv.Itoa(g))
	}
	return strings.Join(parts, ", ")
}
