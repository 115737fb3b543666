package commands

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ipcctl/ipcctl/ipc"
	"github.com/ipcctl/ipcctl/ipc/bridge"
)

// TestHandlerShutdownWhileDispatching stops a --handler service while
// clients keep sending, so that messages are being dispatched as the
// shutdown waits for the runs: under -race, the two must not race.
func TestHandlerShutdownWhileDispatching(t *testing.T) {
	for round := 0; round < 5; round++ {
		dir, err := os.MkdirTemp("/tmp", "sh")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		app := NewApp("test")
		var out, errs syncBuffer
		stdin, feed := io.Pipe()
		defer feed.Close()
		app.Writer, app.ErrWriter, app.Reader = &out, &errs, stdin
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- app.RunContext(ctx, reorderArgs(app, []string{"ipcctl", "--rundir", dir, "serve", "hs", "--handler", "cat", "--max-procs", "2"}))
		}()
		waitFor(t, &out, "\t\tservice=hs\t")
		var senders sync.WaitGroup
		for i := 0; i < 4; i++ {
			senders.Add(1)
			go func() {
				defer senders.Done()
				c, err := bridge.Dial(ctx, "hs", ipc.DialOptions{RunDir: dir})
				if err != nil {
					return
				}
				defer c.Close()
				for c.Write([]byte("m")) == nil {
				}
			}()
		}
		time.Sleep(time.Duration(50+round*20) * time.Millisecond)
		cancel() // as SIGTERM would, while messages come
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("serve: %v (stderr: %s)", err, errs.String())
		}
		senders.Wait()
	}
}
