// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"math/rand/v2"
	"testing"

	"github.com/chronon-go/chronon/core/api"
)

func TestTailHop(t *testing.T) {
	for _, c := range []struct {
		w    api.Window
		want int64
	}{
		{api.Hours(1), FiveMinutes},
		{api.Hours(11), FiveMinutes},
		{api.Hours(12), OneHour},
		{api.Days(1), OneHour},
		{api.Days(11), OneHour},
		{api.Hours(287), OneHour}, // 11d 23h
		{api.Days(12), OneDay},
		{api.Hours(288), OneDay}, // 12d
		{api.Days(30), OneDay},
	} {
		if got := TailHop(c.w.Millis()); got != c.want {
			t.Errorf("TailHop(%s) = %d, want %d", c.w, got, c.want)
		}
	}
}

func TestRound(t *testing.T) {
	for _, c := range []struct{ x, h, want int64 }{
		{0, 10, 0}, {9, 10, 0}, {10, 10, 10}, {-1, 10, -10}, {-10, 10, -10}, {-11, 10, -20},
	} {
		if got := Round(c.x, c.h); got != c.want {
			t.Errorf("Round(%d, %d) = %d, want %d", c.x, c.h, got, c.want)
		}
	}
	if got := Midnight(19700*OneDay + 5*OneHour + 1); got != 19700*OneDay {
		t.Errorf("Midnight = %d", got)
	}
}

func TestCounts(t *testing.T) {
	const min, sec = 60 * 1000, 1000
	D := int64(19700) * OneDay // a midnight
	// T = D + 10h 7m 3.004s
	T := D + 10*OneHour + 7*min + 3*sec + 4
	w1h, w1d, w30d, w12h := api.Hours(1), api.Days(1), api.Days(30), api.Hours(12)
	for _, c := range []struct {
		name string
		ts   int64
		T    int64
		w    *api.Window
		mode TailMode
		want bool
	}{
		{"exact: event at T excluded", T, T, &w1h, Exact, false},
		{"exact: event after T excluded", T + 1, T, &w1h, Exact, false},
		{"exact: T-1 included", T - 1, T, &w1h, Exact, true},
		{"exact: T-W included", T - OneHour, T, &w1h, Exact, true},
		{"exact: T-W-1 excluded", T - OneHour - 1, T, &w1h, Exact, false},
		{"hop: event at T excluded", T, T, &w1h, Hop, false},
		{"hop 1h (5min tail): T-W-1 included", T - OneHour - 1, T, &w1h, Hop, true},
		// round(D + 9h 7m 3.004s, 5min) = D + 9h 5m
		{"hop 1h: tail start included", D + 9*OneHour + 5*min, T, &w1h, Hop, true},
		{"hop 1h: before tail start excluded", D + 9*OneHour + 5*min - 1, T, &w1h, Hop, false},
		// round(D - 1d + 10h 7m 3.004s, 1h) = D - 1d + 10h
		{"hop 1d (1h tail): tail start included", D - OneDay + 10*OneHour, T, &w1d, Hop, true},
		{"hop 1d: before tail start excluded", D - OneDay + 10*OneHour - 1, T, &w1d, Hop, false},
		{"exact 1d: tail start excluded", D - OneDay + 10*OneHour, T, &w1d, Exact, false},
		// round(D - 30d + 10h 7m 3.004s, 1d) = D - 30d
		{"hop 30d (1d tail): tail start included", D - 30*OneDay, T, &w30d, Hop, true},
		{"hop 30d: before tail start excluded", D - 30*OneDay - 1, T, &w30d, Hop, false},
		{"exact 30d: midnight excluded", D - 30*OneDay, T, &w30d, Exact, false},
		// round(D - 2h 7m 3.004s... ): 12h window has a 1h tail hop: T-W = D - 1h 52m 56.996s -> D - 2h
		{"hop 12h (1h tail): tail start included", D - 2*OneHour, T, &w12h, Hop, true},
		{"hop 12h: before tail start excluded", D - 2*OneHour - 1, T, &w12h, Hop, false},
		{"hop: T-W on a hop boundary", D, D + OneHour, &w1h, Hop, true},
		{"hop: T-W on a hop boundary, -1", D - 1, D + OneHour, &w1h, Hop, false},
		// T - W = -28 min rounds down to -30 min
		{"hop: tail before the epoch", -30 * min, 32 * min, &w1h, Hop, true},
		{"hop: tail before the epoch, -1", -30*min - 1, 32 * min, &w1h, Hop, false},
		{"unbounded nil: old event included", 0, T, nil, Exact, true},
		{"unbounded nil: T excluded", T, T, nil, Hop, false},
		{"unbounded length 0", -5 * OneDay, T, &api.Window{}, Exact, true},
	} {
		if got := Counts(c.ts, c.T, c.w, c.mode); got != c.want {
			t.Errorf("%s: Counts(%d, %d, %v, %s) = %v, want %v", c.name, c.ts, c.T, c.w, c.mode, got, c.want)
		}
	}
}

// TestCountsHopRandom checks the hop rule against a reformulation: with m*h
// the rounded tail, m*h <= ts iff m <= floor(ts/h).
func TestCountsHopRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	windows := []api.Window{api.Hours(1), api.Hours(12), api.Days(1), api.Days(12), api.Days(30)}
	floorDiv := func(a, b int64) int64 {
		q := a / b
		if a%b != 0 && a < 0 {
			q--
		}
		return q
	}
	for range 20000 {
		w := windows[rng.IntN(len(windows))]
		W := w.Millis()
		h := TailHop(W)
		T := rng.Int64N(60*OneDay) - 30*OneDay
		ts := T - rng.Int64N(W+2*h) + h/2
		want := ts < T && floorDiv(T-W, h) <= floorDiv(ts, h)
		if got := Counts(ts, T, &w, Hop); got != want {
			t.Fatalf("Counts(%d, %d, %s, hop) = %v, want %v", ts, T, w, got, want)
		}
		wantExact := ts < T && ts >= T-W
		if got := Counts(ts, T, &w, Exact); got != wantExact {
			t.Fatalf("Counts(%d, %d, %s, exact) = %v, want %v", ts, T, w, got, wantExact)
		}
	}
}
