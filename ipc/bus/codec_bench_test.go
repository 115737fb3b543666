package bus

import "testing"

// BenchmarkDecode reads the header of a delivered message.
func BenchmarkDecode(b *testing.B) {
	p, _ := Encode(&Header{Op: "msg", From: "c12", Group: "news.sport", Call: 7}, make([]byte, 64))
	for b.Loop() {
		if _, _, err := Decode(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncode writes the header of a delivered message.
func BenchmarkEncode(b *testing.B) {
	h := &Header{Op: "msg", From: "c12", Group: "news.sport", Call: 7}
	body := make([]byte, 64)
	var buf []byte
	for b.Loop() {
		buf, _ = appendEnvelope(buf[:0], h, body)
	}
}
