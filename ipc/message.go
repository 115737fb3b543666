package ipc

// A MessageConn carries whole messages in both directions. A Conn is one
// (LibIPC frames over a socket); the adapters of a switch (lines, raw bytes,
// JSON, WebSocket) are others. ReadMessage returns io.EOF once the peer is
// gone; the returned slice belongs to the caller.
type MessageConn interface {
	ReadMessage() ([]byte, error)
	WriteMessage(p []byte) error
	Close() error
}
