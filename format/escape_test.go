package format

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain", "hello world", "hello world"},
		{"newline", "a\nb", `a\nb`},
		{"tab", "a\tb", `a\tb`},
		{"carriage return", "a\r\n", `a\r\n`},
		{"backslash", `a\b`, `a\\b`},
		{"nul", "\x00", `\x00`},
		{"escape", "\x1b[31m", `\x1b[31m`},
		{"delete", "\x7f", `\x7f`},
		{"multibyte", "héllo, 世界 🎉", "héllo, 世界 🎉"},
		{"invalid byte", "a\xffb", `a\xffb`},
		{"truncated sequence", "\xe4\xb8", `\xe4\xb8`},
		{"overlong", "\xc0\xaf", `\xc0\xaf`},
		{"surrogate", "\xed\xa0\x80", `\xed\xa0\x80`},
		{"valid after invalid", "\xff世", `\xff世`},
		{"C1 control", "a\u009b31mb\u0080", `a\xc2\x9b31mb\xc2\x80`},
		{"after C1", "\u00a0é", "\u00a0é"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Escape(nil, []byte(tt.in))
			if string(got) != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
			back, err := Unescape(got)
			if err != nil || string(back) != tt.in {
				t.Errorf("Unescape(%q) = %q, %v, want %q", got, back, err, tt.in)
			}
		})
	}
}

func TestEscapeAppends(t *testing.T) {
	got := Escape([]byte("pre:"), []byte("a\n"))
	if string(got) != `pre:a\n` {
		t.Errorf("got %q", got)
	}
}

func TestEscapeAllBytes(t *testing.T) {
	for c := 0; c < 256; c++ {
		in := []byte{'a', byte(c), 'z'}
		esc := Escape(nil, in)
		if bytes.ContainsAny(esc, "\n\t\r") {
			t.Errorf("Escape(%q) = %q contains a line or column break", in, esc)
		}
		if !utf8.Valid(esc) {
			t.Errorf("Escape(%q) = %q is not valid UTF-8", in, esc)
		}
		back, err := Unescape(esc)
		if err != nil || !bytes.Equal(back, in) {
			t.Errorf("byte %#02x: Unescape(%q) = %q, %v", c, esc, back, err)
		}
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	back, err := Unescape(Escape(nil, all))
	if err != nil || !bytes.Equal(back, all) {
		t.Errorf("all 256 bytes: round trip gave %q, %v", back, err)
	}
}

func TestUnescape(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{``, ""},
		{`plain`, "plain"},
		{`\0`, "\x00"},
		{`\x41\x4a\x4A`, "AJJ"},
		{`\n\t\r\\`, "\n\t\r\\"},
		{"raw\ttab", "raw\ttab"},
	}
	for _, tt := range tests {
		got, err := Unescape([]byte(tt.in))
		if err != nil || string(got) != tt.want {
			t.Errorf("Unescape(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestUnescapeErrors(t *testing.T) {
	for _, in := range []string{`\`, `a\`, `\x`, `\x4`, `\xg0`, `\q`, `\N`, "\\\xff"} {
		got, err := Unescape([]byte(in))
		if err == nil {
			t.Errorf("Unescape(%q) = %q, want an error", in, got)
			continue
		}
		if !errors.Is(err, ErrBadEscape) {
			t.Errorf("Unescape(%q): %v does not wrap ErrBadEscape", in, err)
		}
	}
}

func TestEscapeAllocs(t *testing.T) {
	msg := bytes.Repeat([]byte("abcdefgh"), 8)
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf = Escape(buf[:0], msg) }); n != 0 {
		t.Errorf("Escape allocates %v times per call", n)
	}
}

func FuzzEscapeRoundTrip(f *testing.F) {
	f.Add([]byte("hello"))
	f.Add([]byte("a\nb\tc\\d\x00\xff世"))
	f.Fuzz(func(t *testing.T, in []byte) {
		esc := Escape(nil, in)
		if bytes.ContainsAny(esc, "\n\t") {
			t.Fatalf("Escape(%q) = %q breaks the line", in, esc)
		}
		back, err := Unescape(esc)
		if err != nil || !bytes.Equal(back, in) {
			t.Fatalf("Unescape(Escape(%q)) = %q, %v", in, back, err)
		}
	})
}

func FuzzUnescape(f *testing.F) {
	f.Add([]byte(`a\nb\x41\0\\`))
	f.Add([]byte(`\x`))
	f.Fuzz(func(t *testing.T, s []byte) {
		raw, err := Unescape(s)
		if err != nil {
			return
		}
		again, err := Unescape(Escape(nil, raw))
		if err != nil || !bytes.Equal(again, raw) {
			t.Fatalf("Unescape(%q) = %q, but its escape unescapes to %q, %v", s, raw, again, err)
		}
	})
}

func BenchmarkEscape64(b *testing.B) {
	msg := bytes.Repeat([]byte("abcdefgh"), 8)
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		buf = Escape(buf[:0], msg)
	}
}

// TestPlainWords puts every byte value at every place of 24 plain bytes:
// plainWords must never pass a byte that is not plain, and must pass
// every whole word before it.
func TestPlainWords(t *testing.T) {
	for c := 0; c < 256; c++ {
		for at := 0; at < 24; at++ {
			s := bytes.Repeat([]byte{'a'}, 24)
			s[at] = byte(c)
			got := plainWords(s)
			want := 24
			if !plain[c] {
				want = at &^ 7
			}
			if got != want || plainWords(string(s)) != got {
				t.Fatalf("byte %#x at %d: plainWords = %d, want %d", c, at, got, want)
			}
		}
	}
}
