package ipc

import (
	"net"
	"path/filepath"
	"testing"
)

func BenchmarkScheduleNoReader(b *testing.B) {
	dir := runDir(b)
	ln, _ := net.Listen("unix", filepath.Join(dir, "x"))
	defer ln.Close()
	go func() { c, _ := ln.Accept(); _ = c; select {} }()
	nc, _ := net.Dial("unix", filepath.Join(dir, "x"))
	c := NewConn(nc, 0)
	c.SetQueue(1<<40, OverflowBlock)
	p := make([]byte, 64)
	b.ResetTimer()
	for range b.N {
		c.Schedule(p)
	}
}
