package commands

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeUnits are the suffixes parseSize accepts, longest first.
var sizeUnits = []struct {
	suffix string
	factor int
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30},
	{"b", 1},
}

// parseSize reads a byte count such as 1048576, 64KiB, 1M or 1MiB. A bare
// K, M or G is binary, as in most tools that take sizes.
func parseSize(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	factor := 1
	for _, u := range sizeUnits {
		if rest, ok := strings.CutSuffix(t, u.suffix); ok {
			t, factor = strings.TrimSpace(rest), u.factor
			break
		}
	}
	n, err := strconv.ParseUint(t, 10, 40)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("invalid size %q (want a positive byte count such as 65536, 64KiB or 1MiB)", s)
	}
	if n*uint64(factor) > 1<<32-1 {
		return 0, fmt.Errorf("size %q is over the 4 GiB a frame can announce", s)
	}
	return int(n) * factor, nil
}
