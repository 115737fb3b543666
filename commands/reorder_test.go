package commands

import (
	"slices"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

func testApp() *cli.App {
	return &cli.App{
		Name:  "ipcctl",
		Flags: globalFlags(),
		Commands: []*cli.Command{
			{
				Name: "send",
				Flags: []cli.Flag{
					&cli.DurationFlag{Name: "timeout"},
					&cli.BoolFlag{Name: "wait", Aliases: []string{"w"}},
					&cli.BoolFlag{Name: "verbose"},
				},
			},
			{Name: "timer", Aliases: []string{"t"}, Flags: []cli.Flag{&cli.IntFlag{Name: "count", Aliases: []string{"n"}}}},
			{Name: "group", Subcommands: []*cli.Command{{Name: "join"}}},
		},
	}
}

func TestReorderArgs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"--help", "--help"},
		{"--version", "--version"},
		{"send pong hi", "send -- pong hi"},
		{"send pong hi --rundir /x --timeout 2s",
			"--rundir /x send --timeout 2s -- pong hi"},
		{"--json send --rundir=/x pong -w hi -q",
			"--json --rundir=/x -q send -w -- pong hi"},
		{"send pong -- --not-a-flag", "send -- pong --not-a-flag"},
		{"send pong -- a -- b", "send -- pong a -- b"},
		{"send -- pong", "send -- pong"},
		{"send pong --", "send -- pong"},
		{"send --timeout -1s pong", "send --timeout -1s -- pong"},
		{"send pong - ", "send -- pong -"},
		// A command's flag hides a global flag of the same name.
		{"send pong --verbose -v", "-v send --verbose -- pong"},
		// Unknown flags join the flags so that cli reports them.
		{"send pong --bogus x", "send --bogus -- pong x"},
		{"--bogus send pong", "--bogus send -- pong"},
		// A flag missing its value is put last for cli to report it.
		{"send pong --timeout", "send --timeout"},
		{"send pong --rundir", "--rundir"},
		{"--rundir", "--rundir"},
		{"send --help pong", "send --help -- pong"},
		{"send pong -h", "send -h -- pong"},
		{"t 1s -n 3", "t -n 3 -- 1s"},
		{"timer 1s --count=3 --format json", "--format json timer --count=3 -- 1s"},
		// Unknown commands and commands with subcommands are left alone.
		{"frob x --json", "frob x --json"},
		{"group join x --json", "group join x --json"},
		{"--rundir /x", "--rundir /x"},
	}
	app := testApp()
	for _, tt := range tests {
		in := append([]string{"ipcctl"}, strings.Fields(tt.in)...)
		want := append([]string{"ipcctl"}, strings.Fields(tt.want)...)
		if got := reorderArgs(app, in); !slices.Equal(got, want) {
			t.Errorf("reorderArgs(%q)\n got %q\nwant %q", tt.in, got[1:], want[1:])
		}
	}
}

func TestReorderArgsKeepsEmptyArguments(t *testing.T) {
	in := []string{"ipcctl", "send", "pong", "", "--timeout", "1s", "a b"}
	want := []string{"ipcctl", "send", "--timeout", "1s", "--", "pong", "", "a b"}
	if got := reorderArgs(testApp(), in); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
