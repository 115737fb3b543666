package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ipcctl/ipcctl/internal/natstest"
	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("update", false, "update the expected output in testscripts/*.txtar")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"ipcctl": func() { os.Exit(run()) }})
}

// TestScripts runs testscripts/*.txtar, one file per command or behaviour.
// Each script has its own short run directory in $IPC_RUNDIR, and the
// commands of scriptCmds to wait for readiness instead of sleeping.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testscripts",
		Setup:               setupScript,
		Cmds:                scriptCmds,
		RequireExplicitExec: true,
		UpdateScripts:       *update,
		Condition:           scriptCondition,
	})
}

// scriptCondition answers the conditions of scripts beside testscript's
// own: [root] holds when the tests run as root, as they do in CI, so
// that a script may make users and files of other owners.
func scriptCondition(cond string) (bool, error) {
	if cond == "root" {
		return os.Geteuid() == 0, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// setupScript gives the script a run directory of its own. It lives under
// /tmp with a short name: a Unix socket path holds at most 107 bytes, and
// the script's work directory is too deep for that.
func setupScript(env *testscript.Env) error {
	dir, err := os.MkdirTemp("/tmp", "ic")
	if err != nil {
		return err
	}
	env.Defer(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	env.Setenv("IPC_RUNDIR", dir)
	var keys []string
	for _, kv := range env.Vars {
		k, _, _ := strings.Cut(kv, "=")
		keys = append(keys, k)
	}
	env.Values[envKeysKey{}] = keys
	env.Values[procsKey{}] = map[string]*proc{}
	env.Values[natsKey{}] = new(*natstest.Cluster)
	return nil
}
