package commands

import (
	"context"

	"github.com/ipcctl/ipcctl/format"
	"github.com/urfave/cli/v2"
)

// dumpBusDescription is the part of dump's help about buses.
const dumpBusDescription = "\n\nWith NAME --members, dump lists the clients of the bus NAME (serve --bus), " +
	"one \"member\" event each, in the order they connected: the client's address, its pid, uid " +
	"and gid, and groups= its groups (separated by spaces in text, an array in JSON). " +
	"--group G lists the members of G only. dump's own connection is left out. On a bus joined to NATS " +
	"(serve --bus --nats), the clients of the other buses follow, as addresses ADDR@ID with bus=HOST/NAME " +
	"their bus, as its presence notices told this bus of them.\n\n" +
	"  ipcctl dump events --members --group config"

// dumpBusFlags are dump's bus flags.
func dumpBusFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "members", Usage: "list the clients of the bus NAME", DisableDefaultText: true},
		groupFlag("with --members: list the members of group `G` only"),
	}
}

// members prints the clients of the bus named by the first argument.
func (d *dumper) members(c *cli.Context, g Globals) error {
	if err := checkArgs(c, 1, 1); err != nil {
		return err
	}
	groups, err := busGroups(c)
	if err != nil {
		return err
	}
	if len(groups) > 1 {
		return UsageErrorf("dump --members takes one --group")
	}
	ctx, cancel := context.WithTimeout(c.Context, defaultTimeout)
	defer cancel()
	cl, err := dialBus(ctx, c, g)
	if err != nil {
		return err
	}
	defer cl.Close()
	group := ""
	if len(groups) == 1 {
		group = groups[0]
	}
	members, err := cl.Members(ctx, group)
	if err != nil {
		return err
	}
	for _, m := range members {
		if m.Addr == cl.Addr() {
			continue
		}
		r := format.Record{Event: "member", Client: m.Addr,
			Peer:   &format.Peer{PID: m.PID, UID: m.UID, GID: m.GID},
			Fields: []format.Field{{Key: "groups", Value: nonNil(m.Groups)}}}
		if m.Bus != "" {
			r.Fields = append(r.Fields, format.Field{Key: "bus", Value: m.Bus})
		}
		if err := d.enc.Write(&r); err != nil {
			return err
		}
	}
	return d.enc.Flush()
}
