// Package bridge carries LibIPC services beyond the run directory: it is
// what ipcctl's switch is made of, built on package ipc's exported API
// alone.
//
// An Endpoint names one side of a relay: a local service (NAME,
// unix:NAME or unix:/PATH), tcp://HOST:PORT, tls://HOST:PORT and
// ws://HOST:PORT/PATH (wss:// under TLS). Endpoint.Listen and
// Endpoint.Dial give Listeners and ipc.MessageConns. The sides that are
// not LibIPC's carry messages in a Framing: LibIPC frames, lines, raw
// reads, or JSON objects; a WebSocket carries one message per frame.
//
// A Bridge accepts on one endpoint and pairs each client with a new
// connection to another, passing messages both ways (LibIPC's switch,
// websocketd, socat). With no second endpoint, a tcp:// Bridge is LibIPC's
// TCPd: each client writes the name of a local service, is answered "ok"
// (or "ne") and then speaks LibIPC frames with that service. DialTCPd is
// the client side.
//
// Dial is ipc.Dial with $IPC_NETWORK's routes (LibIPC's syntax, rules
// "NAME URI" separated by ';'): a client that names a routed service
// reaches it through the route, so that it does not change when the
// service moves to another machine.
//
// TLSFiles loads the certificates of tls:// and wss:// endpoints.
package bridge
