// Package activation lets a LibIPC service run under a service manager:
// it takes the listening sockets the manager passed at exec (socket
// activation, systemd's LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES, which
// s6 and others speak too), and tells the manager when the service is
// ready or stopping (systemd's NOTIFY_SOCKET, and a readiness fd as s6's
// notification-fd).
//
// The protocols are spoken directly, without a library. A service takes
// its socket with Sockets then ForService (or ForAddr for a network
// endpoint), serves it with ipc.Loop.ListenOn, and once it accepts calls
// Notify(Ready) and WriteReady; it calls Notify(Stopping) when it begins
// to shut down.
package activation
