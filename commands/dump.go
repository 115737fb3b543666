package commands

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/ipcctl/ipcctl/format"
	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bridge"
	"github.com/urfave/cli/v2"
)

const dumpDescription = "Debugging, in three forms.\n\n" +
	"With no argument, dump lists the services of the run directory, one \"service\" event " +
	"each: name, state (live when something accepts on the socket, else stale), owner, group " +
	"and mode of the socket, and tapped=true while a dump taps it. Finding out whether a " +
	"socket is live connects to it, as a client that leaves at once.\n\n" +
	"With NAME, dump taps the live service NAME: its socket is moved aside (to .NAME.tapped " +
	"in the run directory), still accepting, and dump listens in its place, so that new " +
	"clients connect to dump, which connects each to the service and passes messages both " +
	"ways while it prints them. Clients keep working; those connected before the tap are " +
	"not seen. The service sees dump as its client (dump's pid, uid and gid), so dump applies " +
	"the service's allow list (RUNDIR/.NAME.allow, see serve --allow-uid) itself: a client it " +
	"refuses is closed and reported as an error event, and never reaches the service. Events: " +
	"\"listening\", then for each client \"connection\" (client id, the client's pid, uid and " +
	"gid), \"message\" for each message either way (client id, time, payload, from=client or " +
	"from=service, size), \"error\" and \"disconnection\". --hex prints payloads as hex digits " +
	"in text. On SIGINT or SIGTERM, or after --count messages, the service's socket is put " +
	"back, the clients connected through dump are disconnected, and dump exits 0. A tap " +
	"killed before it could put the socket back is undone by the next dump of NAME. A " +
	"service stopped and started again while tapped takes its name back from dump, and " +
	"keeps it when dump ends: dump puts back only a socket that still accepts.\n\n" +
	"With --decode FILE (- for stdin), dump splits a captured byte stream into LibIPC frames " +
	"and prints a \"message\" event for each, with its offset and size. A stream that ends " +
	"inside a frame, or a frame over --max-size, is bad data (exit 65) once the frames " +
	"before it are printed.\n\n" +
	"  ipcctl dump\n" +
	"  ipcctl dump pong --count 10\n" +
	"  socat -u UNIX-CONNECT:/tmp/.libipc-run/feed - | ipcctl dump --decode -"

func dumpCommand() *cli.Command {
	return &cli.Command{
		Name:        "dump",
		Usage:       "list services, tap one to print its traffic, or decode captured frames",
		ArgsUsage:   "[NAME]",
		Description: dumpDescription + dumpBusDescription,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "decode", Usage: "split the byte stream in `FILE` (- for stdin) into frames", TakesFile: true},
			&cli.BoolFlag{Name: "hex", Usage: "print payloads as hex digits (text)", DisableDefaultText: true},
			flagCount,
			flagMaxSize,
		}, dumpBusFlags()...),
		Action: runDump,
	}
}

func runDump(c *cli.Context) error {
	g, err := globalsOf(c)
	if err != nil {
		return err
	}
	if err := checkArgs(c, 0, 1); err != nil {
		return err
	}
	max, err := sizeFlag(c, "max-size")
	if err != nil {
		return err
	}
	if c.Int("count") < 0 {
		return UsageErrorf("--count must be positive")
	}
	d := dumper{hex: c.Bool("hex") && !g.JSON, count: c.Int("count")}
	switch {
	case c.Bool("members") || c.IsSet("group"):
		d.enc = g.Encoder()
		return d.members(c, g)
	case c.IsSet("decode") && c.NArg() > 0:
		return UsageErrorf("--decode reads a file; give no NAME with it")
	case c.IsSet("decode"):
		d.enc = g.Encoder()
		return d.decode(c, max)
	case c.NArg() == 0:
		d.enc = g.Encoder()
		return d.list(ipc.ResolveRunDir(g.RunDir))
	}
	d.enc = g.Encoder()
	return d.tap(c, g, max)
}

// dumper prints what dump finds.
type dumper struct {
	enc   format.Encoder
	hex   bool // payloads as hex digits
	count int  // stop after this many messages (0: never)
}

// payload is p as the payload column shows it.
func (d *dumper) payload(p []byte) []byte {
	if d.hex {
		return format.Payload(hex.AppendEncode(nil, p))
	}
	return format.Payload(p)
}

// list prints a service event for each socket in dir.
func (d *dumper) list(dir string) error {
	if err := ipc.CheckRunDir(dir); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return fmt.Errorf("%w: cannot read %s", ipc.ErrPermission, dir)
		}
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	for _, e := range entries {
		name := e.Name()
		if e.Type()&fs.ModeSocket == 0 || strings.HasPrefix(name, ".") {
			continue // lock files, and a tapped service's socket, moved aside
		}
		fi, err := e.Info()
		if err != nil {
			continue // gone meanwhile
		}
		state := "stale"
		if ipc.Live(dir, name) {
			state = "live"
		}
		r := &format.Record{Event: "service", Fields: []format.Field{
			{Key: "name", Value: name},
			{Key: "state", Value: state},
		}}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			r.Fields = append(r.Fields,
				format.Field{Key: "owner", Value: userName(st.Uid)},
				format.Field{Key: "group", Value: groupName(st.Gid)})
		}
		r.Fields = append(r.Fields, format.Field{Key: "mode", Value: fmt.Sprintf("%04o", fi.Mode().Perm())})
		if ipc.Tapped(dir, name) {
			r.Fields = append(r.Fields, format.Field{Key: "tapped", Value: true})
		}
		if err := d.enc.Write(r); err != nil {
			return err
		}
	}
	return d.enc.Flush()
}

// userName is the name of user uid, or its number.
func userName(uid uint32) string {
	id := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(id); err == nil {
		return u.Username
	}
	return id
}

// groupName is the name of group gid, or its number.
func groupName(gid uint32) string {
	id := strconv.FormatUint(uint64(gid), 10)
	if g, err := user.LookupGroupId(id); err == nil {
		return g.Name
	}
	return id
}

// decode prints the frames of the byte stream the --decode flag names.
func (d *dumper) decode(c *cli.Context, max int) error {
	var in io.Reader = c.App.Reader
	if name := c.String("decode"); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				return fmt.Errorf("%w: %v", ipc.ErrPermission, err)
			}
			return err
		}
		defer f.Close()
		in = f
	} else if in == nil {
		in = os.Stdin
	}
	fr := ipc.NewFrameReader(in, max)
	offset := 0
	for n := 0; d.count == 0 || n < d.count; n++ {
		p, err := fr.ReadFrame()
		if err != nil {
			if ferr := d.enc.Flush(); ferr != nil {
				return ferr
			}
			switch {
			case err == io.EOF:
				return nil
			case errors.Is(err, ipc.ErrTooLarge):
				return fmt.Errorf("at offset %d: %w", offset, err)
			case err == io.ErrUnexpectedEOF:
				return fmt.Errorf("%w: the stream ends inside the frame at offset %d", ipc.ErrBadData, offset)
			}
			return err
		}
		r := &format.Record{Event: "message", Data: d.payload(p), Fields: []format.Field{
			{Key: "offset", Value: offset},
			{Key: "size", Value: len(p)},
		}}
		if err := d.enc.Write(r); err != nil {
			return err
		}
		offset += ipc.HeaderSize + len(p)
	}
	return d.enc.Flush()
}

// tap stands in front of the service the command names and prints its
// traffic until interrupted or --count messages are printed.
func (d *dumper) tap(c *cli.Context, g Globals, max int) error {
	ctx, stop := signalContext(c)
	defer stop()
	name := c.Args().First()
	if err := ipc.CheckName(name); err != nil {
		return err // before the run directory, whose absence would hide it
	}
	opts := bridge.EndpointOptions{RunDir: g.RunDir, MaxSize: max}
	t, err := ipc.NewTap(ctx, g.RunDir, name, max)
	if err != nil {
		return err
	}
	aside := bridge.Endpoint{Scheme: "unix", Name: t.Aside()}
	b := &bridge.Bridge{To: &aside, Options: opts, Messages: true, HalfClose: true}
	b.ListenOn(t)
	b.Report = d.tapReport(stop)
	d.enc.Write(&format.Record{Event: "listening", Fields: []format.Field{
		{Key: "service", Value: name},
		{Key: "path", Value: t.Addr()},
	}})
	if err := d.enc.Flush(); err != nil {
		t.Close()
		return err
	}
	err = b.Serve(ctx)
	if cerr := t.Close(); err == nil {
		err = cerr
	}
	return err
}

// flow is one direction of one pair: its messages are read and written in
// order.
type flow struct {
	pair uint64
	dir  string
}

// tapReport returns what prints the tap's events. With --count, it calls
// stop once that many messages are printed and passed on.
func (d *dumper) tapReport(stop func()) func(bridge.BridgeEvent) {
	seen, unwritten := 0, 0
	read, written := map[flow]int{}, map[flow]int{} // printed messages
	done := func() {
		if d.count > 0 && seen >= d.count && unwritten == 0 {
			stop()
		}
	}
	return func(ev bridge.BridgeEvent) {
		f := flow{ev.Pair, ev.Dir}
		r := bridgeRecord(ev)
		switch ev.Type {
		case ipc.EventSwitchRx:
			if d.count > 0 && seen >= d.count {
				return
			}
			seen++
			read[f]++
			unwritten++
			from := "client"
			if ev.Dir == "b>a" {
				from = "service"
			}
			r.Event = "message"
			r.Data = d.payload(ev.Payload)
			r.Fields = []format.Field{{Key: "from", Value: from}, {Key: "size", Value: len(ev.Payload)}}
		case ipc.EventSwitchTx: // printed when read; counted once passed on
			if written[f] < read[f] {
				written[f]++
				unwritten--
			}
			done()
			return
		case ipc.EventDisconnection:
			for k := range read {
				if k.pair == ev.Pair {
					unwritten -= read[k] - written[k]
					delete(read, k)
					delete(written, k)
				}
			}
			defer done()
			fallthrough
		default:
			r.Fields = dropField(r.Fields, "to") // the service, moved aside
		}
		d.enc.Write(r)
		d.enc.Flush()
	}
}

// dropField returns fields without the one named key.
func dropField(fields []format.Field, key string) []format.Field {
	out := fields[:0]
	for _, f := range fields {
		if f.Key != key {
			out = append(out, f)
		}
	}
	return out
}
