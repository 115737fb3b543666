package commands

import (
	"errors"
	"path/filepath"
	"strings"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/activation"
	"github.com/ipcctl/ipcctl/ipc/bridge"
)

// listenSwitch makes the switch listen on A: on the socket the service
// manager passed for it (socket activation), else on a socket of its own.
func listenSwitch(b *bridge.Bridge, g Globals) error {
	sock, err := passedFor(b.From, g)
	if errors.Is(err, activation.ErrNotPassed) {
		return b.Listen()
	}
	if err != nil {
		return err
	}
	ln, err := b.From.ListenOn(sock.Listener, b.Options)
	if err != nil {
		return err
	}
	b.ListenOn(ln)
	return nil
}

// passedFor returns the passed socket that is endpoint e's: the service's
// Unix socket, or a TCP socket on e's address.
func passedFor(e bridge.Endpoint, g Globals) (*activation.Socket, error) {
	if e.Scheme == "nats" {
		return nil, activation.ErrNotPassed // a subscription, not a socket
	}
	if e.Scheme != "unix" {
		return activation.ForAddr(e.Host)
	}
	if strings.HasPrefix(e.Name, "/") {
		return activation.ForService(filepath.Base(e.Name), e.Name)
	}
	path, err := ipc.SocketPath(ipc.ResolveRunDir(g.RunDir), e.Name)
	if err != nil {
		return nil, err
	}
	return activation.ForService(e.Name, path)
}
