// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"fmt"
	"runtime"
	"strings"
	"time"
)

// Options configure a Store. It is always valid to pass a nil *Options,
// which means to use the default values; any zero field of a non-nil
// *Options also means to use the default value for that field.
type Options struct {
	// ReadConns is the size of the read connection pool: how many MultiGet
	// calls of this Store run at once (more wait for a free connection).
	// The default value is max(4, runtime.GOMAXPROCS(0)).
	ReadConns int
	// BusyTimeout is how long a call waits for a lock another connection
	// or process holds (a write waiting for another process's write
	// transaction) before failing. A done context ends the wait sooner.
	// The default value is 10s.
	BusyTimeout time.Duration
	// Synchronous is SQLite's PRAGMA synchronous for writes: "NORMAL" (a
	// commit survives a crash of the process; the last commits may be
	// lost on a power failure or OS crash, never corrupting the file) or
	// "FULL" (every commit is durable when the call returns). The default
	// value is "NORMAL", the usual setting with WAL.
	Synchronous string
	// MmapSize is how many bytes of the file each connection reads through
	// a memory map (SQLite's PRAGMA mmap_size) rather than read calls:
	// gets of a dataset larger than the page cache are some 20% faster.
	// A negative value turns memory mapping off. The default value is
	// 1 GiB (address space, not memory).
	MmapSize int64
}

// Default values of Options.
const (
	defaultMinReadConns = 4
	defaultBusyTimeout  = 10 * time.Second
	defaultSynchronous  = "NORMAL"
	defaultMmapSize     = 1 << 30
)

// EnsureDefaults returns a copy of o with every zero field set to its
// default value (a negative MmapSize becomes -1). o may be nil; o itself
// is not modified.
func (o *Options) EnsureDefaults() *Options {
	mmap := o.GetMmapSize()
	if mmap == 0 {
		mmap = -1
	}
	return &Options{
		ReadConns:   o.GetReadConns(),
		BusyTimeout: o.GetBusyTimeout(),
		Synchronous: o.GetSynchronous(),
		MmapSize:    mmap,
	}
}

// GetReadConns returns ReadConns, or its default when o is nil or the
// field is zero.
func (o *Options) GetReadConns() int {
	if o == nil || o.ReadConns == 0 {
		return max(defaultMinReadConns, runtime.GOMAXPROCS(0))
	}
	return o.ReadConns
}

// GetBusyTimeout returns BusyTimeout, or its default when o is nil or the
// field is zero.
func (o *Options) GetBusyTimeout() time.Duration {
	if o == nil || o.BusyTimeout == 0 {
		return defaultBusyTimeout
	}
	return o.BusyTimeout
}

// GetSynchronous returns Synchronous in upper case, or its default when o
// is nil or the field is empty.
func (o *Options) GetSynchronous() string {
	if o == nil || o.Synchronous == "" {
		return defaultSynchronous
	}
	return strings.ToUpper(o.Synchronous)
}

// GetMmapSize returns MmapSize, or its default when o is nil or the field
// is zero; it is 0 when memory mapping is off.
func (o *Options) GetMmapSize() int64 {
	switch {
	case o == nil || o.MmapSize == 0:
		return defaultMmapSize
	case o.MmapSize < 0:
		return 0
	}
	return o.MmapSize
}

// validate reports the first invalid field of o (after defaults).
func (o *Options) validate() error {
	if n := o.GetReadConns(); n < 1 {
		return fmt.Errorf("ReadConns %d: must be at least 1", n)
	}
	if d := o.GetBusyTimeout(); d < time.Millisecond {
		return fmt.Errorf("BusyTimeout %v: must be at least 1ms", d)
	}
	switch s := o.GetSynchronous(); s {
	case "NORMAL", "FULL":
	default:
		return fmt.Errorf("Synchronous %q: must be NORMAL or FULL", s)
	}
	return nil
}
