package commands

import (
	"errors"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/activation"
)

// listen makes the service listen: on the socket the service manager
// passed for it (socket activation), else in the run directory.
func (s *server) listen(opts ipc.ServiceOptions) (*ipc.Service, error) {
	if s.cfg.endpoint != nil {
		return s.listenEndpoint(opts)
	}
	path := s.cfg.socketPath
	if path == "" {
		var err error
		if path, err = ipc.SocketPath(s.loop.RunDir(), s.cfg.name); err != nil {
			return nil, err
		}
	}
	sock, err := activation.ForService(s.cfg.name, path)
	switch {
	case err == nil:
		return s.loop.ListenOn(s.cfg.name, sock.Listener, opts)
	case !errors.Is(err, activation.ErrNotPassed):
		return nil, err
	case s.cfg.socketPath != "":
		return s.loop.ListenPath(s.cfg.name, path, opts)
	}
	return s.loop.Listen(s.cfg.name, opts)
}

// ready tells the service manager, if any, that the service accepts.
func (s *server) ready() error {
	if s.cfg.mgr == nil {
		return nil
	}
	return s.cfg.mgr.ready("serving " + s.cfg.name + " at " + s.svc.Path())
}

// stopped tells the service manager the service is stopping.
func (s *server) stopped() {
	if s.cfg.mgr != nil {
		s.cfg.mgr.stopping()
	}
}

// exited removes the pid file.
func (s *server) exited() {
	if s.cfg.mgr != nil {
		s.cfg.mgr.exit()
	}
}
