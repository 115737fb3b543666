package format

import (
	"bufio"
	"io"
	"sync"
)

// bufSize is the size of the output buffers: large enough that a burst of
// small messages becomes a few big writes.
const bufSize = 64 << 10

// maxScratch bounds the scratch buffer kept between writes, so that one
// huge payload does not pin its memory for ever.
const maxScratch = 1 << 20

// output is the buffered writer every encoder shares the logic of: a
// record is built in a reused scratch buffer between begin and end, under
// a lock, then copied into the bufio.Writer. Nothing is allocated per
// record once the scratch buffer has grown.
type output struct {
	mu  sync.Mutex
	w   *bufio.Writer
	buf []byte
}

func newOutput(w io.Writer) output {
	return output{w: bufio.NewWriterSize(w, bufSize)}
}

// begin locks o and returns the empty scratch buffer.
func (o *output) begin() []byte {
	o.mu.Lock()
	return o.buf[:0]
}

// end writes b, built from begin's buffer, keeps it for reuse and unlocks o.
func (o *output) end(b []byte) error {
	_, err := o.w.Write(b)
	if cap(b) <= maxScratch {
		o.buf = b
	} else {
		o.buf = nil
	}
	o.mu.Unlock()
	return err
}

// flush writes out what is buffered.
func (o *output) flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.w.Flush()
}

// write writes p as it is, without the scratch buffer.
func (o *output) write(p []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, err := o.w.Write(p)
	return err
}
