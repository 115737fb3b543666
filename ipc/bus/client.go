package bus

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
)

// helloWait bounds how long NewClient waits for the bus's hello.
const helloWait = 10 * time.Second

// Client is one connection to a bus, its hello already read.
//
// Recv, Subscribe, Unsubscribe and Members read the connection: call them
// from one goroutine at a time. Send, Publish, SendTo, NewCall and Close
// may be called from any goroutine.
type Client struct {
	conn  *ipc.Conn
	addr  string
	bus   string
	kept  []envelope // read while waiting for an ack, for Recv
	names names      // the strings of the envelopes read
	calls atomic.Uint64
	refs  atomic.Uint64
}

// envelope is one decoded envelope kept for Recv.
type envelope struct {
	h    Header
	body []byte
}

// Dial connects to the bus name in rundir ("" resolves it as ipc does),
// accepting bodies of up to maxSize bytes (ipc.DefaultMaxSize when 0),
// and reads its hello. Errors of ipc.Dial (ErrNoService...) pass through.
func Dial(ctx context.Context, rundir, name string, maxSize int) (*Client, error) {
	c, err := ipc.Dial(ctx, name, ipc.DialOptions{RunDir: rundir, MaxSize: FrameMax(maxSize)})
	if err != nil {
		return nil, err
	}
	cl, err := newClient(ctx, c)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return cl, nil
}

// NewClient makes a Client of a connection made otherwise (through
// IPC_NETWORK, after waiting for the service): it reads the bus's hello,
// waiting at most 10 seconds. c should accept frames of FrameMax(maxSize).
func NewClient(c *ipc.Conn) (*Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), helloWait)
	defer cancel()
	return newClient(ctx, c)
}

// newClient reads the hello on c.
func newClient(ctx context.Context, c *ipc.Conn) (*Client, error) {
	p, err := c.ReadContext(ctx)
	if err == io.EOF {
		return nil, fmt.Errorf("%w: the service closed the connection before its hello: is it a bus?", ipc.ErrRefused)
	}
	if err != nil {
		return nil, err
	}
	h, _, err := Decode(p)
	if err != nil || h.Op != "hello" || h.Addr == "" {
		return nil, fmt.Errorf("%w: the service's first message is not a bus's hello: is it a bus?", ipc.ErrBadData)
	}
	return &Client{conn: c, addr: h.Addr, bus: h.Bus}, nil
}

// Addr returns the address the bus gave this client.
func (c *Client) Addr() string { return c.addr }

// Bus returns the bus's name, as its hello told it.
func (c *Client) Bus() string { return c.bus }

// Conn returns the connection to the bus.
func (c *Client) Conn() *ipc.Conn { return c.conn }

// Send sends any client-to-bus envelope (msg, answer, list...) as it is.
func (c *Client) Send(h *Header, body []byte) error {
	p, err := Encode(h, body)
	if err != nil {
		return err
	}
	return c.conn.WriteMessage(p)
}

// Publish sends body to every member of group.
func (c *Client) Publish(group string, body []byte) error {
	return c.Send(&Header{Op: "msg", Group: group}, body)
}

// SendTo sends body to the client at addr.
func (c *Client) SendTo(addr string, body []byte) error {
	return c.Send(&Header{Op: "msg", To: addr}, body)
}

// NewCall returns a call id this client has not used yet.
func (c *Client) NewCall() uint64 { return c.calls.Add(1) }

// Recv returns the next envelope from the bus; the body is the caller's.
// It returns io.EOF when the bus closes the connection.
func (c *Client) Recv(ctx context.Context) (Header, []byte, error) {
	if len(c.kept) > 0 {
		e := c.kept[0]
		c.kept = c.kept[1:]
		return e.h, e.body, nil
	}
	return c.read(ctx)
}

// read reads and decodes one envelope from the connection.
func (c *Client) read(ctx context.Context) (Header, []byte, error) {
	p, err := c.conn.ReadContext(ctx)
	if err != nil {
		return Header{}, nil, err
	}
	return decode(p, len(p), &c.names)
}

// Subscribe joins groups and returns once the bus has acknowledged every
// one. Envelopes that arrive meanwhile are kept for Recv.
func (c *Client) Subscribe(ctx context.Context, groups ...string) error {
	return c.join(ctx, "sub", "subscribed", groups)
}

// Unsubscribe leaves groups and returns once the bus has acknowledged
// every one.
func (c *Client) Unsubscribe(ctx context.Context, groups ...string) error {
	return c.join(ctx, "unsub", "unsubscribed", groups)
}

// join sends op for each group and waits for as many acks.
func (c *Client) join(ctx context.Context, op, ack string, groups []string) error {
	want := make(map[string]int)
	for _, g := range groups {
		if err := ValidGroup(g); err != nil {
			return err
		}
		if err := c.Send(&Header{Op: op, Group: g}, nil); err != nil {
			return err
		}
		want[g]++
	}
	for n := len(groups); n > 0; {
		h, body, err := c.await(ctx)
		if err != nil {
			return err
		}
		switch {
		case h.Op == ack && want[h.Group] > 0:
			want[h.Group]--
			n--
		case h.Op == "error" && (h.Ref == 0 || h.Group != ""):
			return fmt.Errorf("%w: the bus says: %s", ipc.ErrBadData, h.Error)
		default:
			c.kept = append(c.kept, envelope{h, body})
		}
	}
	return nil
}

// Members returns the members of group, or every client when group is
// "". Envelopes that arrive meanwhile are kept for Recv.
func (c *Client) Members(ctx context.Context, group string) ([]Member, error) {
	var all []Member
	after := ""
	for {
		h, err := c.listPage(ctx, group, after)
		if err != nil {
			return nil, err
		}
		all = append(all, h.Members...)
		if !h.More || len(h.Members) == 0 {
			return all, nil
		}
		after = h.Members[len(h.Members)-1].Addr
	}
}

// listPage asks the bus for the page of a listing that follows the
// member after ("" for the first) and returns its answer.
func (c *Client) listPage(ctx context.Context, group, after string) (Header, error) {
	var ref uint64
	for ask := true; ; {
		if ask {
			ref = c.refs.Add(1)
			if err := c.Send(&Header{Op: "list", Group: group, Ref: ref, After: after}, nil); err != nil {
				return Header{}, err
			}
			ask = false
		}
		h, body, err := c.await(ctx)
		if err != nil {
			return Header{}, err
		}
		switch {
		case h.Op == "members" && h.Ref == ref:
			return h, nil
		case h.Op == "error" && (h.Ref == ref || h.Ref == 0):
			return Header{}, fmt.Errorf("%w: the bus says: %s", ipc.ErrBadData, h.Error)
		case h.Op == "dropped":
			ask = true // the page may be among what the bus dropped
		}
		c.kept = append(c.kept, envelope{h, body})
	}
}

// await reads the next envelope while waiting for an ack: the end of the
// connection is an error then.
func (c *Client) await(ctx context.Context) (Header, []byte, error) {
	h, body, err := c.read(ctx)
	if err == io.EOF {
		err = fmt.Errorf("%w: the bus closed the connection", ipc.ErrClosed)
	}
	return h, body, err
}

// Close closes the connection to the bus.
func (c *Client) Close() error { return c.conn.Close() }
