//go:build !amd64 || race

package ipc

// release publishes the tail's word w, which ends a hold (see
// tail_amd64.go; the race detector sees the atomic store).
func (t *tail) release(w uint64) { t.word.Store(w) }
