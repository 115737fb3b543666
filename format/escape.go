package format

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrBadEscape is wrapped by the errors Unescape returns, so that callers
// can report malformed input (exit status 65) with errors.Is.
var ErrBadEscape = errors.New("bad escape")

const hexDigits = "0123456789abcdef"

// plain marks the bytes that Escape copies as they are: printable ASCII
// except the backslash. Bytes >= 0x80 are not plain; they are checked as
// UTF-8 one sequence at a time.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '\\'
	}
	return t
}()

// Escape appends payload to dst escaped so that it fits on one line and
// returns the extended slice. Newline, tab, carriage return and backslash
// become \n, \t, \r and \\; other control bytes (below 0x20, and 0x7f),
// the two bytes of each C1 control character (U+0080 to U+009F, which a
// terminal may take as the start of an escape sequence) and every byte
// that is not part of valid UTF-8 become \xNN (lower-case hex). Other
// valid UTF-8, multibyte sequences included, is copied unchanged. The output
// never contains a newline or a tab, and Unescape recovers payload exactly.
func Escape(dst, payload []byte) []byte {
	return appendEscaped(dst, payload)
}

// appendEscaped is Escape for both strings and byte slices, so that
// strings (client ids, field values) are escaped without a conversion.
func appendEscaped[T string | []byte](dst []byte, s T) []byte {
	for i := 0; i < len(s); {
		j := i + plainWords(s[i:])
		for j < len(s) && plain[s[j]] {
			j++
		}
		dst = append(dst, s[i:j]...)
		if j == len(s) {
			break
		}
		n := escapeOne(&dst, s[j:])
		i = j + n
	}
	return dst
}

// Eight bytes at a time (see plainWords).
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainWords returns the length of the longest prefix of s made of whole
// 8-byte words of plain bytes, testing a word at once: it holds no byte
// below 0x20, none above 0x7e and no backslash. (For "a byte below n" the
// test (w - n*ones) &^ w & highs has no false positive in a word that has
// none, which is all it is asked here; likewise the others.)
func plainWords[T string | []byte](s T) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		b := s[i : i+8]
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		control := (w - 0x20*ones) &^ w
		high := (w + (0x7f-0x7e)*ones) | w // a byte over 0x7e sets its top bit
		bs := w ^ '\\'*ones
		backslash := (bs - ones) &^ bs
		if (control|high|backslash)&highs != 0 {
			break
		}
	}
	return i
}

// escapeOne appends the escaped form of the byte or UTF-8 sequence that
// starts s (which is not plain) and returns how many bytes it consumed.
func escapeOne[T string | []byte](dst *[]byte, s T) int {
	c := s[0]
	switch c {
	case '\n':
		*dst = append(*dst, '\\', 'n')
		return 1
	case '\t':
		*dst = append(*dst, '\\', 't')
		return 1
	case '\r':
		*dst = append(*dst, '\\', 'r')
		return 1
	case '\\':
		*dst = append(*dst, '\\', '\\')
		return 1
	}
	if c >= utf8.RuneSelf {
		var buf [utf8.UTFMax]byte
		k := copy(buf[:], s)
		r, n := utf8.DecodeRune(buf[:k])
		switch {
		case r >= 0x80 && r <= 0x9f: // a C1 control, such as CSI: bytes escaped
			*dst = append(*dst, '\\', 'x', hexDigits[buf[0]>>4], hexDigits[buf[0]&0xf],
				'\\', 'x', hexDigits[buf[1]>>4], hexDigits[buf[1]&0xf])
			return n
		case r != utf8.RuneError || n > 1:
			*dst = append(*dst, buf[:n]...)
			return n
		}
	}
	*dst = append(*dst, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
	return 1
}

// Unescape reverses Escape: it returns the bytes that s, escaped, stands
// for. It accepts \n, \t, \r, \\, \0 and \xNN (either case of hex digit);
// any other byte stands for itself. An unknown or truncated escape is an
// error that wraps ErrBadEscape and gives its offset.
func Unescape(s []byte) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		b, n, err := unescapeOne(s[i:])
		if err != nil {
			return nil, fmt.Errorf("%w at byte %d: %w", ErrBadEscape, i, err)
		}
		out = append(out, b)
		i += n
	}
	return out, nil
}

// unescapeOne decodes the escape at the start of s, which begins with a
// backslash, and returns the byte and the length of the escape.
func unescapeOne(s []byte) (byte, int, error) {
	if len(s) < 2 {
		return 0, 0, errors.New("backslash at the end")
	}
	switch s[1] {
	case 'n':
		return '\n', 2, nil
	case 't':
		return '\t', 2, nil
	case 'r':
		return '\r', 2, nil
	case '\\':
		return '\\', 2, nil
	case '0':
		return 0, 2, nil
	case 'x':
		if len(s) < 4 {
			return 0, 0, errors.New(`truncated \x escape`)
		}
		hi, ok1 := unhex(s[2])
		lo, ok2 := unhex(s[3])
		if !ok1 || !ok2 {
			return 0, 0, fmt.Errorf(`bad hex digits in \x%s`, Escape(nil, s[2:4]))
		}
		return hi<<4 | lo, 4, nil
	}
	return 0, 0, fmt.Errorf(`unknown escape \%s`, Escape(nil, s[1:2]))
}

// unhex returns the value of the hex digit c.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
