//go:build tools

// Package tools pins modules that the build uses only indirectly.
package tools

import (
	_ "github.com/coder/websocket"
	_ "github.com/fatih/color"
	_ "github.com/mattn/go-isatty"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/urfave/cli/v2"
	_ "golang.org/x/sys/unix"
)
