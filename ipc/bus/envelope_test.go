package bus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/ipcctl/ipcctl/ipc"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	status := 3
	zero := 0
	h := Header{Op: "answer", To: "c1", Call: 7, Error: "exit\nstatus 3 <&>", Status: &status, UID: &zero,
		Groups: []string{"a", "b"}, Members: []Member{{Addr: "c2", Groups: []string{"x"}, PID: 9}}}
	body := []byte("line1\nline2\x00\xff")
	p, err := Encode(&h, body)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.IndexByte(p, '\n'); !bytes.Equal(p[i+1:], body) {
		t.Fatalf("body after the first newline is %q, want %q", p[i+1:], body)
	}
	if !bytes.Contains(p, []byte(`<&>`)) {
		t.Fatalf("header escapes HTML characters: %s", p)
	}
	got, gotBody, err := Decode(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(gotBody, body) || got.Op != h.Op || got.Error != h.Error || *got.Status != 3 || *got.UID != 0 ||
		got.Call != 7 || len(got.Members) != 1 || got.Members[0].Addr != "c2" || got.GID != nil {
		t.Fatalf("got %+v %q, want %+v %q", got, gotBody, h, body)
	}
}

func TestEncodeEmptyBody(t *testing.T) {
	p, err := Encode(&Header{Op: "sub", Group: "g"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(p) != "{\"op\":\"sub\",\"group\":\"g\"}\n" {
		t.Fatalf("got %q", p)
	}
	_, body, err := Decode(p)
	if err != nil || len(body) != 0 {
		t.Fatalf("got body %q, err %v", body, err)
	}
}

func TestAppendEncodeKeepsDst(t *testing.T) {
	dst := []byte("prefix")
	out, err := AppendEncode(dst, &Header{Op: "msg", Group: "g"}, []byte("x"))
	if err != nil || string(out) != "prefix{\"op\":\"msg\",\"group\":\"g\"}\nx" {
		t.Fatalf("got %q, %v", out, err)
	}
	long := &Header{Op: "msg", Error: strings.Repeat("e", MaxHeader)}
	out, err = AppendEncode(dst, long, nil)
	if !errors.Is(err, ipc.ErrBadData) || string(out) != "prefix" {
		t.Fatalf("over-long header: got %q, %v", out, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, p := range []string{
		"",
		`{"op":"msg"}`,
		"[1,2]\n",
		"null\n",
		"\n",
		"{}\n",
		`{"op":1}` + "\n",
		`{"op":"msg","call":-1}` + "\n",
		`{"op":"msg","each":"yes"}` + "\n",
		`{"op":"msg","groups":"g"}` + "\n",
		`{"op":"msg"} x` + "\n",
		`{"op":"msg"` + "\n" + `}`,
	} {
		if h, _, err := Decode([]byte(p)); !errors.Is(err, ipc.ErrBadData) {
			t.Errorf("Decode(%q) = %+v, %v; want ErrBadData", p, h, err)
		}
	}
}

func TestDecodeIgnoresUnknownFields(t *testing.T) {
	h, body, err := Decode([]byte(`{"op":"msg","group":"g","future":{"x":[1]}}` + "\nbody"))
	if err != nil || h.Group != "g" || string(body) != "body" {
		t.Fatalf("got %+v %q %v", h, body, err)
	}
}

func TestDecodeHeaderLimit(t *testing.T) {
	pad := strings.Repeat(" ", MaxHeader-len(`{"op":"msg"}`))
	at := []byte(`{"op":"msg"}` + pad + "\n")
	if _, _, err := decode(at, MaxHeader, nil); err != nil {
		t.Fatalf("header of exactly %d bytes: %v", MaxHeader, err)
	}
	over := []byte(`{"op":"msg"} ` + pad + "\n")
	if _, _, err := decode(over, MaxHeader, nil); !errors.Is(err, ipc.ErrBadData) {
		t.Fatalf("header over the limit: %v", err)
	}
	if _, _, err := Decode(over); err != nil {
		t.Fatalf("Decode takes any header length: %v", err)
	}
}

func TestValidGroup(t *testing.T) {
	for _, g := range []string{"a", "news.sport", "@presence", "~!#", strings.Repeat("g", 255)} {
		if err := ValidGroup(g); err != nil {
			t.Errorf("ValidGroup(%q) = %v", g, err)
		}
	}
	for _, g := range []string{"", "a b", "tab\t", "é", "x\x7f", strings.Repeat("g", 256)} {
		if err := ValidGroup(g); !errors.Is(err, ipc.ErrBadData) {
			t.Errorf("ValidGroup(%q) = %v, want ErrBadData", g, err)
		}
	}
}

// FuzzDecode checks that Decode never panics, that what it accepts has an
// op and a body that is the envelope's tail, and that re-encoding it keeps
// its meaning.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("{\"op\":\"msg\",\"group\":\"g\"}\nhello"))
	f.Add([]byte("{\"op\":\"sub\"}\n"))
	f.Fuzz(func(t *testing.T, p []byte) {
		quickAgrees(t, p)
		h, body, err := Decode(p)
		if err != nil {
			if !errors.Is(err, ipc.ErrBadData) {
				t.Fatalf("error %v does not wrap ErrBadData", err)
			}
			return
		}
		if h.Op == "" || !bytes.HasSuffix(p, body) {
			t.Fatalf("accepted %q as %+v with body %q", p, h, body)
		}
		again, err := appendEnvelope(nil, &h, body)
		if err != nil {
			t.Fatal(err)
		}
		h2, body2, err := Decode(again)
		if err != nil || h2.Op != h.Op || h2.Group != h.Group || h2.Call != h.Call || !bytes.Equal(body2, body) {
			t.Fatalf("re-encoded %q decodes as %+v %q %v", again, h2, body2, err)
		}
		// A reader's names give the same header, the first time and
		// the next, when they hand out what they kept.
		var n names
		for range 2 {
			h3, body3, err := decode(p, len(p), &n)
			if err != nil || !reflect.DeepEqual(h3, h) || !bytes.Equal(body3, body) {
				t.Fatalf("with names, %q decodes as %+v %q %v, not %+v", p, h3, body3, err, h)
			}
		}
	})
}

// TestNames: a reader's envelopes that name the same sender and group
// again decode without an allocation, to the strings of the first.
func TestNames(t *testing.T) {
	var n names
	p := []byte(`{"op":"msg","from":"c1@k2j9x0qa17","group":"news"}` + "\nhello")
	first, _, err := decode(p, len(p), &n)
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		h, _, err := decode(p, len(p), &n)
		if err != nil || h.From != "c1@k2j9x0qa17" || h.Group != "news" {
			t.Fatalf("%+v %v", h, err)
		}
		if unsafe.StringData(h.From) != unsafe.StringData(first.From) {
			t.Fatal("a new string for the same sender")
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations a decode", allocs)
	}
	// More names than it keeps: each still decodes as it is.
	for i := range 20 {
		g := fmt.Sprintf("g%d", i)
		h, _, err := decode([]byte(`{"op":"msg","group":"`+g+`"}`+"\n"), MaxHeader, &n)
		if err != nil || h.Group != g {
			t.Fatalf("%+v %v, want group %s", h, err, g)
		}
	}
}

// quickAgrees checks that a header the fast path reads is one
// encoding/json reads the same way.
func quickAgrees(t *testing.T, p []byte) {
	head, _, _ := bytes.Cut(p, []byte("\n"))
	var quick, slow Header
	if !quickHeader(head, &quick, nil) {
		return
	}
	if err := json.Unmarshal(head, &slow); err != nil {
		t.Fatalf("fast path read %q, encoding/json refuses it: %v", head, err)
	}
	if !reflect.DeepEqual(quick, slow) {
		t.Fatalf("%q: fast path read %+v, encoding/json %+v", head, quick, slow)
	}
}

func TestQuickHeader(t *testing.T) {
	for _, head := range []string{
		`{"op":"msg","group":"g","from":"c1","call":12,"each":true,"undeliverable":false,"version":1,"pid":77}`,
		`{"op":"dropped","count":18446744073709551}`,
		`{}`,
	} {
		var h Header
		if !quickHeader([]byte(head), &h, nil) {
			t.Errorf("fast path refused %s", head)
		}
		quickAgrees(t, []byte(head))
	}
	for _, head := range []string{
		`{"op":"m\u0073g"}`, `{"op":"msg" }`, `{"Op":"msg"}`, `{"op":"msg",}`, `{"call":01}`,
		`{"call":-1}`, `{"status":1}`, `{"groups":["a"]}`, `{"op":null}`, `{"op":"é"}`, `{"op""msg"}`,
		`{"each":tru}`, `{"op":"msg"}}`, `{,}`,
	} {
		var h Header
		if quickHeader([]byte(head), &h, nil) {
			t.Errorf("fast path took %s as %+v", head, h)
		}
	}
}

// slowEncode is encoding/json's envelope header, with its "\n".
func slowEncode(t *testing.T, h *Header) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(h); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzEncode checks that the headers written without reflection are the
// bytes encoding/json writes.
func FuzzEncode(f *testing.F) {
	f.Add("msg", "g", "", "c1", uint64(3), uint64(0), true, "", 0)
	f.Add("hello", "", "", "", uint64(0), uint64(0), false, "x\"y", 1)
	f.Fuzz(func(t *testing.T, op, group, to, from string, ref, call uint64, each bool, text string, n int) {
		h := &Header{Op: op, Group: group, To: to, From: from, Ref: ref, Call: call, Each: each,
			Undeliverable: !each, Error: text, Reason: text, Event: group, Bus: to, Addr: from,
			Version: n, PID: n / 2, Count: ref ^ call, After: from, More: each}
		quick, ok := appendQuick([]byte("x"), h)
		if !ok {
			if string(quick) != "x" {
				t.Fatalf("a refused header left %q", quick)
			}
			return
		}
		if want := slowEncode(t, h); string(quick[1:]) != string(want) {
			t.Fatalf("got %s, want %s", quick[1:], want)
		}
	})
}
