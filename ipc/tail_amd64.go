//go:build !race

package ipc

import "unsafe"

// release publishes the tail's word w, which ends a hold. On amd64 a
// plain store does: the processor makes no store visible before the ones
// that precede it (the frame's bytes), and the call keeps the compiler
// from moving them past it. It costs a fraction of atomic.Uint64.Store,
// an exchange, which locks the bus as the claim's compare-and-swap does:
// a stream of Schedule calls pays for one such instruction a message
// instead of two.
func (t *tail) release(w uint64) { storeRelease((*uint64)(unsafe.Pointer(&t.word)), w) }

// storeRelease stores v at p with a plain MOV (tail_amd64.s).
//
//go:noescape
func storeRelease(p *uint64, v uint64)
