package format

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var when = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

func TestText(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		opts []Option
		want string
	}{
		{"listening", Record{Event: "listening", Time: when, Fields: []Field{{"path", "/tmp/x/pong"}}},
			nil, "listening\t-\t%T\t\tpath=/tmp/x/pong\n"},
		{"message", Record{Event: "message", Client: "3", Time: when, Data: []byte("hi\tthere\n")},
			nil, "message\t3\t%T\thi\\tthere\\n\n"},
		{"empty payload", Record{Event: "message", Client: "3", Time: when, Data: []byte{}},
			nil, "message\t3\t%T\t\n"},
		{"connection", Record{Event: "connection", Client: "7", Time: when, Peer: &Peer{PID: 42, UID: 1000, GID: 100}},
			nil, "connection\t7\t%T\t\tpid=42\tuid=1000\tgid=100\n"},
		{"fields", Record{Event: "error", Client: "1", Time: when, Fields: []Field{
			{"error", errors.New("bad\nthing")}, {"status", 2}, {"took", 1500 * time.Millisecond},
			{"ok", false}, {"size", uint64(64)}, {"ratio", 0.5}, {"n", int64(-1)}}},
			nil, "error\t1\t%T\t\terror=bad\\nthing\tstatus=2\ttook=1.5s\tok=false\tsize=64\tratio=0.5\tn=-1\n"},
		{"time", Record{Event: "timer", Time: when},
			nil, "timer\t-\t%T\t\n"},
		{"list", Record{Event: "member", Client: "c1", Time: when, Fields: []Field{{"groups", []string{"a", "b\tc"}}, {"none", []string{}}}},
			nil, "member\tc1\t%T\t\tgroups=a b\\tc\tnone=\n"},
		{"binary", Record{Event: "message", Client: "a\tb", Time: when, Data: []byte{0, 0xff, '\\'}},
			nil, "message\ta\\tb\t%T\t\\x00\\xff\\\\\n"},
		{"fields never shift the payload", Record{Event: "message", Client: "1", Time: when, Data: []byte("a=b"),
			Fields: []Field{{"from", "client"}}}, nil, "message\t1\t%T\ta=b\tfrom=client\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			e := NewText(&buf, tt.opts...)
			if err := e.Write(&tt.rec); err != nil {
				t.Fatal(err)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %q before Flush", buf.String())
			}
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
			if got, want := buf.String(), strings.ReplaceAll(tt.want, "%T", "2024-05-06T07:08:09.123456789Z"); got != want {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

func TestTextOneLinePerRecord(t *testing.T) {
	var buf bytes.Buffer
	e := NewText(&buf)
	for c := 0; c < 256; c++ {
		e.Write(&Record{Event: "message", Client: "1", Data: []byte{byte(c), '\n'}})
	}
	e.Flush()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 256 {
		t.Fatalf("%d lines for 256 records", len(lines))
	}
	for c, line := range lines {
		cols := strings.Split(line, "\t")
		data, err := Unescape([]byte(cols[3]))
		if len(cols) != 4 || err != nil || !bytes.Equal(data, []byte{byte(c), '\n'}) {
			t.Errorf("byte %#02x: line %q gives %q, %v", c, line, data, err)
		}
	}
}

func TestJSON(t *testing.T) {
	tests := []struct {
		name string
		rec  Record
		want map[string]any
	}{
		{"listening", Record{Event: "listening", Time: when},
			map[string]any{"event": "listening", "time": "2024-05-06T07:08:09.123456789Z"}},
		{"utf8 data", Record{Event: "message", Client: "3", Time: when, Data: []byte("héllo \"x\"\n\x00\x1f\x7f\\")},
			map[string]any{"event": "message", "client": "3", "time": "2024-05-06T07:08:09.123456789Z",
				"data": "héllo \"x\"\n\x00\x1f\x7f\\"}},
		{"empty data", Record{Event: "message", Client: "3", Time: when, Data: []byte{}},
			map[string]any{"event": "message", "client": "3", "time": "2024-05-06T07:08:09.123456789Z", "data": ""}},
		{"binary data", Record{Event: "message", Client: "3", Time: when, Data: []byte{0xff, 0, 'a'}},
			map[string]any{"event": "message", "client": "3", "time": "2024-05-06T07:08:09.123456789Z",
				"data_b64": base64.StdEncoding.EncodeToString([]byte{0xff, 0, 'a'})}},
		{"peer", Record{Event: "connection", Client: "1", Time: when, Peer: &Peer{PID: 9, UID: 0, GID: 5}},
			map[string]any{"event": "connection", "client": "1", "time": "2024-05-06T07:08:09.123456789Z",
				"pid": 9.0, "uid": 0.0, "gid": 5.0}},
		{"fields", Record{Event: "error", Time: when, Fields: []Field{
			{"error", errors.New("boom")}, {"status", 2}, {"took", 1500 * time.Millisecond},
			{"ok", true}, {"size", uint64(1 << 40)}, {"ratio", 2.5e-9}, {"bad\xff", "x\xffy"},
			{"nan", nanValue()}, {"none", nil}, {"at", when}}},
			map[string]any{"event": "error", "time": "2024-05-06T07:08:09.123456789Z",
				"error": "boom", "status": 2.0, "took": "1.5s", "ok": true, "size": float64(1 << 40),
				"ratio": 2.5e-9, "bad\ufffd": "x\ufffdy", "nan": "NaN", "none": nil,
				"at": "2024-05-06T07:08:09.123456789Z"}},
		{"list", Record{Event: "member", Client: "c1", Time: when, Fields: []Field{
			{"groups", []string{"a", "\"b\""}}, {"none", []string{}}}},
			map[string]any{"event": "member", "client": "c1", "time": "2024-05-06T07:08:09.123456789Z",
				"groups": []any{"a", "\"b\""}, "none": []any{}}},
		{"built-in keys", Record{Event: "message", Client: "1", Time: when, Data: []byte("x"), Fields: []Field{
			{"time", "later"}, {"data", "y"}, {"client", "2"}, {"field_time", "z"}, {"event", "e\"q"}}},
			map[string]any{"event": "message", "client": "1", "time": "2024-05-06T07:08:09.123456789Z", "data": "x",
				"field_time": "later", "field_data": "y", "field_client": "2", "field_field_time": "z", "field_event": "e\"q"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			e := NewJSON(&buf)
			if err := e.Write(&tt.rec); err != nil {
				t.Fatal(err)
			}
			e.Flush()
			line := buf.String()
			if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
				t.Fatalf("not one line: %q", line)
			}
			var got map[string]any
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("invalid JSON %q: %v", line, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %v\nwant %v\nfrom %s", got, tt.want, line)
			}
		})
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

func TestJSONKeyOrder(t *testing.T) {
	var buf bytes.Buffer
	e := NewJSON(&buf)
	e.Write(&Record{Event: "connection", Client: "1", Time: when, Data: []byte("x"),
		Peer: &Peer{1, 2, 3}, Fields: []Field{{"z", 1}, {"a", 2}}})
	e.Flush()
	want := `{"event":"connection","client":"1","time":"2024-05-06T07:08:09.123456789Z","data":"x",` +
		`"pid":1,"uid":2,"gid":3,"z":1,"a":2}` + "\n"
	if buf.String() != want {
		t.Errorf("got  %s\nwant %s", buf.String(), want)
	}
}

func TestJSONAllBytes(t *testing.T) {
	var buf bytes.Buffer
	e := NewJSON(&buf)
	for c := 0; c < 256; c++ {
		p := []byte{'a', byte(c), 'z'}
		e.Write(&Record{Event: "message", Client: string(p), Data: p})
	}
	e.Flush()
	dec := json.NewDecoder(&buf)
	for c := 0; c < 256; c++ {
		var got struct {
			Data    *string
			DataB64 []byte `json:"data_b64"`
		}
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("byte %#02x: %v", c, err)
		}
		data := got.DataB64
		if got.Data != nil {
			data = []byte(*got.Data)
		}
		if want := []byte{'a', byte(c), 'z'}; !bytes.Equal(data, want) {
			t.Errorf("byte %#02x: data %q, want %q", c, data, want)
		}
	}
}

func TestJSONTimeDefaultsToNow(t *testing.T) {
	var buf bytes.Buffer
	e := NewJSON(&buf)
	before := time.Now()
	e.Write(&Record{Event: "timer"})
	e.Flush()
	var got struct{ Time time.Time }
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Time.Before(before.Add(-time.Second)) || got.Time.After(time.Now()) {
		t.Errorf("time %v is not now", got.Time)
	}
}

func TestNewEncoder(t *testing.T) {
	if _, ok := NewEncoder(nil, JSON).(*JSONEncoder); !ok {
		t.Error("NewEncoder(JSON) is not a JSONEncoder")
	}
	if _, ok := NewEncoder(nil, Text).(*TextEncoder); !ok {
		t.Error("NewEncoder(Text) is not a TextEncoder")
	}
	for _, s := range []string{"text", "raw", "json"} {
		if m, err := ParseMode(s); err != nil || m.String() != s {
			t.Errorf("ParseMode(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := ParseMode("yaml"); err == nil {
		t.Error("ParseMode(yaml) succeeded")
	}
}

func BenchmarkTextRecord(b *testing.B) {
	e := NewText(discard{})
	r := &Record{Event: "message", Client: "12", Data: bytes.Repeat([]byte("abcdefgh"), 8)}
	for b.Loop() {
		e.Write(r)
	}
}

func BenchmarkJSONRecord(b *testing.B) {
	e := NewJSON(discard{})
	r := &Record{Event: "message", Client: "12", Time: when, Data: bytes.Repeat([]byte("abcdefgh"), 8)}
	for b.Loop() {
		e.Write(r)
	}
}

// discard is io.Discard without its ReaderFrom, so bufio is exercised.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func FuzzJSONRecord(f *testing.F) {
	f.Add("1", []byte("hello"), "k", "v")
	f.Add("\xff", []byte{0xff, '"', '\\'}, "\x00", "\u2028")
	f.Fuzz(func(t *testing.T, client string, data []byte, key, value string) {
		var buf bytes.Buffer
		e := NewJSON(&buf)
		e.Write(&Record{Event: "message", Client: client, Data: data, Fields: []Field{{"f" + key, value}}})
		e.Flush()
		if bytes.Count(buf.Bytes(), []byte("\n")) != 1 {
			t.Fatalf("not one line: %q", buf.String())
		}
		var got struct {
			Data    *string
			DataB64 []byte `json:"data_b64"`
		}
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("invalid JSON %q: %v", buf.String(), err)
		}
		back := got.DataB64
		if got.Data != nil {
			back = []byte(*got.Data)
		}
		if !bytes.Equal(back, data) {
			t.Fatalf("data %q came back as %q", data, back)
		}
	})
}
