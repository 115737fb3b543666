package commands

import (
	"slices"
	"testing"
)

// The command list of ipcctl --help comes from commandTable: it must say
// what the full definitions say.
func TestCommandTableMatchesDefinitions(t *testing.T) {
	for _, entry := range commandTable {
		cmd := entry.define()
		if cmd.Name != entry.name || cmd.Usage != entry.usage {
			t.Errorf("commandTable has %q %q; the definition has %q %q", entry.name, entry.usage, cmd.Name, cmd.Usage)
		}
		if len(cmd.Aliases) > 0 || cmd.Hidden || cmd.Category != "" {
			t.Errorf("%s: aliases, hidden or a category would need to be in commandTable for ipcctl --help", cmd.Name)
		}
	}
}

// NewAppFor defines fully the command that runs, and every command when
// the help of any may be asked or completion scripts are made.
func TestNewAppForDefinesTheCommandThatRuns(t *testing.T) {
	for _, tc := range []struct {
		args []string
		full []string
	}{
		{[]string{"ipcctl", "--version"}, nil},
		{[]string{"ipcctl", "--rundir", "send", "listen", "x"}, []string{"listen"}},
		{[]string{"ipcctl", "-q", "--format=json", "send", "x", "--", "serve"}, []string{"send"}},
		{[]string{"ipcctl", "--rundir"}, nil},
		{[]string{"ipcctl", "help", "send"}, tableNames()},
		{[]string{"ipcctl", "completion", "bash"}, tableNames()},
	} {
		app := NewAppFor("test", tc.args)
		if len(app.Commands) != len(commandTable) {
			t.Fatalf("%q: %d commands, want %d", tc.args, len(app.Commands), len(commandTable))
		}
		for i, cmd := range app.Commands {
			want := slices.Contains(tc.full, cmd.Name)
			if got := cmd.Action != nil; got != want {
				t.Errorf("%q: command %s fully defined %v, want %v", tc.args, cmd.Name, got, want)
			}
			if cmd.Name != commandTable[i].name || cmd.Usage != commandTable[i].usage {
				t.Errorf("%q: command %d is %q %q", tc.args, i, cmd.Name, cmd.Usage)
			}
		}
	}
}

func tableNames() []string {
	var names []string
	for _, entry := range commandTable {
		names = append(names, entry.name)
	}
	return names
}
