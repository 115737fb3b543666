// Package faults is ipcctl's fault suite: its tests run the real binary,
// built once, against clients that crash, lie about lengths, send slowly,
// flood, churn, exhaust file descriptors or are cut off by a shutdown,
// and check that a service holds: it goes on, its memory, file
// descriptors and child processes stay bounded, and nothing it accepted is
// lost. docs/limits.md lists the limits these cases prove.
package faults
