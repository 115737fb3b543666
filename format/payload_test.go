package format

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
)

func TestPayloadWriter(t *testing.T) {
	msgs := [][]byte{[]byte("hello"), nil, []byte("a\nb"), {0xff, 0}}
	tests := []struct {
		mode Mode
		want string
	}{
		{Text, "hello\n\na\\nb\n\\xff\\x00\n"},
		{Raw, "helloa\nb\xff\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			var buf bytes.Buffer
			pw := NewPayloadWriter(&buf, tt.mode)
			for _, m := range msgs {
				if err := pw.WriteMessage(m); err != nil {
					t.Fatal(err)
				}
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %q before Flush", buf.String())
			}
			pw.Flush()
			if got := buf.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPayloadWriterJSON(t *testing.T) {
	var buf bytes.Buffer
	pw := NewPayloadWriter(&buf, JSON, WithClient("7"), WithFields(Field{"group", "news"}))
	for _, m := range [][]byte{[]byte("hi\n"), nil, {0xff}} {
		pw.WriteMessage(m)
	}
	pw.Flush()
	type object struct {
		Event, Client, Time, Group string
		Data                       *string
		DataB64                    *string `json:"data_b64"`
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	var objs []object
	for _, line := range lines {
		var o object
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if o.Event != "message" || o.Client != "7" || o.Group != "news" || o.Time == "" {
			t.Errorf("bad object %q", line)
		}
		objs = append(objs, o)
	}
	if objs[0].Data == nil || *objs[0].Data != "hi\n" {
		t.Errorf("first data: %q", lines[0])
	}
	if objs[1].Data == nil || *objs[1].Data != "" {
		t.Errorf("empty message: %q", lines[1])
	}
	if objs[2].DataB64 == nil || *objs[2].DataB64 != "/w==" {
		t.Errorf("binary message: %q", lines[2])
	}
}

func TestPayloadWriterStyled(t *testing.T) {
	bracket := func(s string) string { return "[" + s + "]" }
	for _, tt := range []struct {
		mode Mode
		want string
	}{
		{Text, "[a\\nb]\n"},
		{Raw, "a\nb"},
	} {
		var buf bytes.Buffer
		pw := NewPayloadWriter(&buf, tt.mode)
		pw.WriteMessageStyled([]byte("a\nb"), bracket)
		pw.Flush()
		if buf.String() != tt.want {
			t.Errorf("%v: got %q, want %q", tt.mode, buf.String(), tt.want)
		}
	}
}

func TestPayloadWriterAllocs(t *testing.T) {
	msg := bytes.Repeat([]byte("abcdefgh"), 8)
	for _, mode := range []Mode{Text, Raw} {
		pw := NewPayloadWriter(discard{}, mode)
		if n := testing.AllocsPerRun(1000, func() { pw.WriteMessage(msg) }); n != 0 {
			t.Errorf("%v: %v allocations per message", mode, n)
		}
	}
}

// benchmarkPayload writes 64-byte messages into a pipe drained by another
// goroutine, as listen does, and reports messages per second.
func benchmarkPayload(b *testing.B, mode Mode) {
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, r)
		close(done)
	}()
	msg := bytes.Repeat([]byte("abcdefgh"), 8)
	pw := NewPayloadWriter(w, mode)
	b.ReportAllocs()
	for b.Loop() {
		pw.WriteMessage(msg)
	}
	if err := pw.Flush(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	w.Close()
	<-done
	r.Close()
}

func BenchmarkPayloadText64(b *testing.B) { benchmarkPayload(b, Text) }
func BenchmarkPayloadRaw64(b *testing.B)  { benchmarkPayload(b, Raw) }
func BenchmarkPayloadJSON64(b *testing.B) { benchmarkPayload(b, JSON) }
