package commands

import "testing"

func TestParseSize(t *testing.T) {
	good := map[string]int{
		"1048576": 1 << 20, "1MiB": 1 << 20, "1M": 1 << 20, "64KiB": 64 << 10,
		"64k": 64 << 10, "1000b": 1000, "2 MB": 2000000, "4294967295": 1<<32 - 1,
	}
	for in, want := range good {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "1.5M", "MiB", "4GiB", "12q"} {
		if n, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, n)
		}
	}
}
