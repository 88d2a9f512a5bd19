// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"fmt"

	"github.com/chronon-go/chronon/core/api"
)

// TailMode says how a window's tail (its start) moves with the query time.
type TailMode int

const (
	// Exact is window_tail: exact (the default): an event counts iff
	// T - W <= ts < T.
	Exact TailMode = iota
	// Hop is window_tail: hop (Chronon's sawtooth): an event counts iff
	// round(T - W, h) <= ts < T, with h = TailHop(W).
	Hop
)

// String returns "exact" or "hop".
func (m TailMode) String() string {
	switch m {
	case Exact:
		return "exact"
	case Hop:
		return "hop"
	}
	return fmt.Sprintf("tailmode(%d)", int(m))
}

// Hop sizes in milliseconds (Chronon's FiveMinuteResolution).
const (
	FiveMinutes int64 = 5 * 60 * 1000
	OneHour     int64 = 60 * 60 * 1000
	OneDay      int64 = 24 * OneHour
)

// TailHop returns the tail hop of a window of wMillis milliseconds: one day
// if W >= 12 days, one hour if W >= 12 hours, else five minutes.
func TailHop(wMillis int64) int64 {
	switch {
	case wMillis >= 12*OneDay:
		return OneDay
	case wMillis >= 12*OneHour:
		return OneHour
	}
	return FiveMinutes
}

// Round returns floor(x / h) * h (rounding toward minus infinity, so times
// before the epoch round down too).
func Round(x, h int64) int64 {
	q := x / h
	if x%h != 0 && (x < 0) != (h < 0) {
		q--
	}
	return q * h
}

// Midnight returns the start (00:00 UTC) of the day holding ts; SNAPSHOT
// accuracy evaluates a query at ts as a query at Midnight(ts).
func Midnight(ts int64) int64 { return Round(ts, OneDay) }

// WindowStart returns the smallest ts that counts for a query at T with
// window w in mode, and false when the window is unbounded (nil or
// w.Unbounded()).
func WindowStart(T int64, w *api.Window, mode TailMode) (int64, bool) {
	if w == nil || w.Unbounded() {
		return 0, false
	}
	W := w.Millis()
	if mode == Hop {
		return Round(T-W, TailHop(W)), true
	}
	return T - W, true
}

// Counts reports whether an event at ts counts for a query at T with window
// w (nil or unbounded: all time) in mode. The end is always exclusive: an
// event at exactly T does not count.
func Counts(ts, T int64, w *api.Window, mode TailMode) bool {
	if ts >= T {
		return false
	}
	start, bounded := WindowStart(T, w, mode)
	return !bounded || ts >= start
}
