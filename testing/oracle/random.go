// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// GenOptions tunes RandomEventsWith. The zero value gives RandomEvents'
// defaults, and so does any zero field.
type GenOptions struct {
	// NullRate is the probability that a column value (and, unless
	// NoNullElements, a list element or map value) is null. Default 0.1; a
	// negative rate means no nulls.
	NullRate float64
	// NoNaN turns off the NaN put by default into each float column (one
	// event per column when n >= 10, timed in the last tenth of [start, end)
	// so that most windows stay NaN-free).
	NoNaN bool
	// NoNullElements turns off null list elements and null map values, which
	// elementWise aggregations reject.
	NoNullElements bool
	// MaxListLen bounds the length of lists and maps (lengths are uniform in
	// [0, MaxListLen]). Default 4.
	MaxListLen int
}

func (o GenOptions) nullRate() float64 {
	switch {
	case o.NullRate < 0:
		return 0
	case o.NullRate == 0:
		return 0.1
	}
	return o.NullRate
}

func (o GenOptions) maxListLen() int {
	if o.MaxListLen > 0 {
		return o.MaxListLen
	}
	return 4
}

// RandomEvents generates n events in arrival order (not sorted by ts) with
// values for cols (name → Arrow type: bool, int8..int64, float32/64, utf8,
// binary, list<scalar> or map<utf8,scalar>) and timestamps in [start, end).
// The data is built to hit edge cases: timestamps with ties and on hop and
// day boundaries (and one millisecond off), ~10% nulls, one NaN per float
// column, duplicate values (small integers, a small string vocabulary that
// also serves as a bucket column), integer extremes, empty lists and maps.
// The result is a deterministic function of rng's state. It panics if
// end <= start or a type is not supported.
func RandomEvents(rng *rand.Rand, n int, cols map[string]arrow.DataType, start, end int64) []Event {
	return RandomEventsWith(rng, n, cols, start, end, GenOptions{})
}

// RandomEventsWith is RandomEvents with options.
func RandomEventsWith(rng *rand.Rand, n int, cols map[string]arrow.DataType, start, end int64, opts GenOptions) []Event {
	if end <= start {
		panic(fmt.Sprintf("oracle.RandomEvents: empty range [%d, %d)", start, end))
	}
	names := make([]string, 0, len(cols))
	for name, t := range cols {
		if !checkGoSupported(t) || t.ID() == arrow.LIST && !isScalar(t.(*arrow.ListType).Elem()) ||
			t.ID() == arrow.MAP && !isScalar(t.(*arrow.MapType).ItemType()) {
			panic(fmt.Sprintf("oracle.RandomEvents: column %q has unsupported type %s", name, t))
		}
		names = append(names, name)
	}
	sort.Strings(names)

	g := &gen{rng: rng, opts: opts}
	span := end - start
	events := make([]Event, n)
	for i := range events {
		events[i] = Event{Ts: g.ts(events[:i], start, span), Values: map[string]any{}}
	}
	for _, name := range names {
		t := cols[name]
		for i := range events {
			events[i].Values[name] = g.value(t, opts.nullRate())
		}
		if !opts.NoNaN && n >= 10 && hasFloat(t) {
			i := rng.IntN(n)
			events[i].Values[name] = g.nanValue(t)
			events[i].Ts = end - 1 - rng.Int64N(max(1, span/10))
		}
	}
	return events
}

func hasFloat(t arrow.DataType) bool {
	switch tt := t.(type) {
	case *arrow.ListType:
		return isFloat(tt.Elem())
	case *arrow.MapType:
		return isFloat(tt.ItemType())
	}
	return isFloat(t)
}

type gen struct {
	rng  *rand.Rand
	opts GenOptions
}

var hops = []int64{1000, 60 * 1000, FiveMinutes, OneHour, OneDay}

// ts draws a timestamp in [start, start+span): a tie with an earlier event,
// a hop or day boundary (or one ms off it), or uniform.
func (g *gen) ts(before []Event, start, span int64) int64 {
	r := g.rng.Float64()
	switch {
	case len(before) > 0 && r < 0.15:
		return before[g.rng.IntN(len(before))].Ts
	case r < 0.30:
		t := Round(start+g.rng.Int64N(span), hops[g.rng.IntN(len(hops))]) + g.rng.Int64N(3) - 1
		if t >= start && t < start+span {
			return t
		}
	}
	return start + g.rng.Int64N(span)
}

var (
	stringVocab = []string{"a", "b", "c", "d", "e", "", "ü", "a b", "zz", "B"}
	binaryVocab = [][]byte{{}, {0}, {1, 2}, {0xff}, {'a'}}
	mapKeys     = []string{"k0", "k1", "k2", "k3", "k4"}
)

// value draws a value of type t, null with probability nullRate.
func (g *gen) value(t arrow.DataType, nullRate float64) any {
	if g.rng.Float64() < nullRate {
		return nil
	}
	elemNulls := g.opts.nullRate()
	if g.opts.NoNullElements {
		elemNulls = 0
	}
	switch tt := t.(type) {
	case *arrow.ListType:
		l := make([]any, g.rng.IntN(g.opts.maxListLen()+1))
		for i := range l {
			l[i] = g.value(tt.Elem(), elemNulls)
		}
		return l
	case *arrow.MapType:
		m := map[string]any{}
		for _, i := range g.rng.Perm(len(mapKeys))[:min(len(mapKeys), g.rng.IntN(g.opts.maxListLen()+1))] {
			m[mapKeys[i]] = g.value(tt.ItemType(), elemNulls)
		}
		return m
	}
	switch t.ID() {
	case arrow.BOOL:
		return g.rng.IntN(2) == 1
	case arrow.INT8:
		return int8(g.int(math.MinInt8, math.MaxInt8))
	case arrow.INT16:
		return int16(g.int(math.MinInt16, math.MaxInt16))
	case arrow.INT32:
		return int32(g.int(math.MinInt32, math.MaxInt32))
	case arrow.INT64:
		return g.int(math.MinInt64, math.MaxInt64)
	case arrow.FLOAT32:
		return float32(g.float())
	case arrow.FLOAT64:
		return g.float()
	case arrow.STRING:
		if g.rng.Float64() < 0.9 {
			return stringVocab[g.rng.IntN(len(stringVocab))]
		}
		b := make([]byte, 1+g.rng.IntN(6))
		for i := range b {
			b[i] = byte('a' + g.rng.IntN(26))
		}
		return string(b)
	case arrow.BINARY:
		if g.rng.Float64() < 0.9 {
			return slices.Clone(binaryVocab[g.rng.IntN(len(binaryVocab))])
		}
		b := make([]byte, 1+g.rng.IntN(4))
		for i := range b {
			b[i] = byte(g.rng.IntN(256))
		}
		return b
	}
	panic(fmt.Sprintf("oracle.RandomEvents: unsupported type %s", t))
}

// int draws mostly small integers (duplicates), sometimes up to ±1e6 and
// sometimes lo or hi.
func (g *gen) int(lo, hi int64) int64 {
	r := g.rng.Float64()
	switch {
	case r < 0.75:
		return g.rng.Int64N(41) - 20
	case r < 0.95:
		lim := min(hi, 1_000_000)
		return g.rng.Int64N(2*lim+1) - lim
	case r < 0.975:
		return lo
	}
	return hi
}

// float draws small integers (duplicates, exact sums), values in ±1000 and
// small values in ±0.001.
func (g *gen) float() float64 {
	r := g.rng.Float64()
	switch {
	case r < 0.4:
		return float64(g.rng.IntN(41) - 20)
	case r < 0.9:
		return (2*g.rng.Float64() - 1) * 1000
	}
	return (2*g.rng.Float64() - 1) / 1000
}

// nanValue returns a value of float-bearing type t holding a NaN.
func (g *gen) nanValue(t arrow.DataType) any {
	nan := func(t arrow.DataType) any {
		if t.ID() == arrow.FLOAT32 {
			return float32(math.NaN())
		}
		return math.NaN()
	}
	switch tt := t.(type) {
	case *arrow.ListType:
		l, _ := g.value(t, 0).([]any)
		return append([]any{nan(tt.Elem())}, l...)
	case *arrow.MapType:
		m, _ := g.value(t, 0).(map[string]any)
		m[mapKeys[0]] = nan(tt.ItemType())
		return m
	}
	return nan(t)
}

// SortedByTs returns a copy of events stably sorted by ts (arrival order
// kept among ties), as evaluators that sort their input must do.
func SortedByTs(events []Event) []Event {
	out := slices.Clone(events)
	slices.SortStableFunc(out, func(a, b Event) int { return cmp.Compare(a.Ts, b.Ts) })
	return out
}

// RandomQueryTimes returns up to n distinct query times in [start, end),
// sorted, that probe the edges of windows over events: event timestamps and
// one ms either side, the times an event leaves a window (ts + W, ±1 ms), the
// times it leaves a hop-tailed window (round(ts, h) + h + W, ±1 ms), hop
// boundaries (5 min, 1 h, 1 day; ±1 ms), midnights (±1 ms), start, end - 1,
// and uniform times. Unbounded windows in windows are ignored. The result is
// a deterministic function of rng's state.
func RandomQueryTimes(rng *rand.Rand, events []Event, windows []api.Window, n int, start, end int64) []int64 {
	if end <= start || n <= 0 {
		return nil
	}
	span := end - start
	var ws []int64
	for _, w := range windows {
		if !w.Unbounded() {
			ws = append(ws, w.Millis())
		}
	}
	off := func() int64 { return rng.Int64N(3) - 1 }
	type draw func() int64
	draws := []draw{
		func() int64 { return start + rng.Int64N(span) },
		func() int64 { return []int64{start, start + 1, end - 1}[rng.IntN(3)] },
		func() int64 { return Round(start+rng.Int64N(span), hops[2+rng.IntN(3)]) + off() },
		func() int64 { return Midnight(start+rng.Int64N(span)) + off() },
	}
	if len(events) > 0 {
		ev := func() int64 { return events[rng.IntN(len(events))].Ts }
		draws = append(draws, func() int64 { return ev() + off() })
		if len(ws) > 0 {
			w := func() int64 { return ws[rng.IntN(len(ws))] }
			draws = append(draws,
				func() int64 { return ev() + w() + off() },
				func() int64 {
					W := w()
					h := TailHop(W)
					return Round(ev(), h) + h + W + off()
				})
		}
	}
	seen := map[int64]bool{}
	var out []int64
	for attempt := 0; len(out) < n && attempt < 50*n; attempt++ {
		t := draws[rng.IntN(len(draws))]()
		if t < start || t >= end || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}
