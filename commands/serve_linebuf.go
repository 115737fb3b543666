package commands

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// A program in C that writes to a pipe buffers its output in blocks, so
// that a filter run by --exec (tr, sed, grep) answers a line only when
// its buffer fills. Coreutils' stdbuf fixes that by preloading its
// libstdbuf.so, which reads _STDBUF_O when the program starts and sets
// the buffering of stdout; serve does the same for the process, and sets
// PYTHONUNBUFFERED, Python's own switch. Variables the user set are kept.

// stdbufLib is the path of coreutils' libstdbuf.so, "" when there is none.
var stdbufLib = sync.OnceValue(findStdbufLib)

// findStdbufLib looks for libstdbuf.so where coreutils installs it: beside
// the stdbuf in PATH, then in the usual directories.
func findStdbufLib() string {
	var dirs []string
	if p, err := exec.LookPath("stdbuf"); err == nil {
		prefix := filepath.Dir(filepath.Dir(p))
		dirs = append(dirs, prefix+"/libexec/coreutils", prefix+"/lib/coreutils", prefix+"/lib64/coreutils")
	}
	dirs = append(dirs, "/usr/libexec/coreutils", "/usr/lib/coreutils", "/usr/lib64/coreutils",
		"/usr/local/libexec/coreutils")
	for _, d := range dirs {
		lib := d + "/libstdbuf.so"
		if fi, err := os.Stat(lib); err == nil && fi.Mode().IsRegular() {
			return lib
		}
	}
	return ""
}

// lineBufferedEnv returns env with the variables that make a process's
// stdout line-buffered: libstdbuf.so preloaded, when it is found, with
// _STDBUF_O=L, and PYTHONUNBUFFERED=1.
func lineBufferedEnv(env []string) []string {
	if !hasEnv(env, "PYTHONUNBUFFERED") {
		env = append(env, "PYTHONUNBUFFERED=1")
	}
	lib := stdbufLib()
	if lib == "" || hasEnv(env, "_STDBUF_O") {
		return env
	}
	preload := lib
	if old := lookupEnv(env, "LD_PRELOAD"); old != "" {
		preload += ":" + old
	}
	return append(env, "LD_PRELOAD="+preload, "_STDBUF_O=L")
}

// lookupEnv returns the value of key in env, the last one if several.
func lookupEnv(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if strings.HasPrefix(kv, key+"=") {
			return true
		}
	}
	return false
}
