// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// TailMode says where a window's tail is for a query at time T.
type TailMode int

const (
	// ExactTails counts an event in window W at T iff T - W <= ts < T, to the
	// millisecond (the default).
	ExactTails TailMode = iota
	// HopTails rounds the tail down to the window's tail hop, as Chronon's
	// sawtooth windows do: round(T - W, hop) <= ts < T.
	HopTails
)

// ParseTailMode parses chronon.yaml's window_tail: "exact" or "hop" ("" is
// exact).
func ParseTailMode(s string) (TailMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "exact":
		return ExactTails, nil
	case "hop":
		return HopTails, nil
	}
	return 0, fmt.Errorf("window_tail %q is not supported (supported: exact, hop)", s)
}

// String returns "exact" or "hop".
func (m TailMode) String() string {
	if m == HopTails {
		return "hop"
	}
	return "exact"
}

// Hop sizes of Chronon's FiveMinuteResolution.
const (
	minuteMillis int64 = 60 * 1000
	hourMillis         = 60 * minuteMillis
	dayMillis          = 24 * hourMillis
)

// TailHop is the hop a window's tail moves by under HopTails: 1 day for
// windows of 12 days or more, 1 hour for 12 hours or more, else 5 minutes.
func TailHop(windowMillis int64) int64 {
	switch {
	case windowMillis >= 12*dayMillis:
		return dayMillis
	case windowMillis >= 12*hourMillis:
		return hourMillis
	}
	return 5 * minuteMillis
}

// floorTo rounds x down to a multiple of step (also for negative x).
func floorTo(x, step int64) int64 {
	r := x % step
	if r < 0 {
		r += step
	}
	return x - r
}

// Tail returns the earliest event time that counts in a window of
// windowMillis (0: unbounded) for a query at t.
func Tail(t, windowMillis int64, mode TailMode) int64 {
	if windowMillis <= 0 {
		return minTs
	}
	if mode == HopTails {
		return floorTo(t-windowMillis, TailHop(windowMillis))
	}
	return t - windowMillis
}

// minTs is before every event.
const minTs = -1 << 63

// Event is one source row: its event time and its values by column index.
type Event struct {
	Ts     int64
	Values []any
}

// Base is a windowless aggregator reading its input (and bucket) column from
// events. Several output columns (one per window) share one Base.
type Base struct {
	Agg    Aggregator
	Input  int // column index of the input value
	Bucket int // column index of the bucket value, or -1
}

// InputOf returns event e's input to the base's aggregator.
func (b *Base) InputOf(e *Event) Input { return b.input(e) }

func (b *Base) input(e *Event) Input {
	in := Input{Value: e.Values[b.Input], Ts: e.Ts}
	if b.Bucket >= 0 {
		in.Bucket = e.Values[b.Bucket]
	}
	return in
}

// Column is one output column: a Base aggregated over a window.
type Column struct {
	// Name is the output column name (core/api OutputColumnName).
	Name string
	// Base indexes Spec.Bases.
	Base int
	// Window is the window length in milliseconds; 0 means unbounded.
	Window int64
}

// Spec describes the aggregations of a GroupBy: its distinct base
// aggregators and its output columns in order. It is immutable and safe for
// concurrent use.
type Spec struct {
	Bases   []Base
	Columns []Column
	Mode    TailMode
}

// NewSpec builds the Spec of a GroupBy's aggregations over source columns
// (names and Arrow types, in the order events carry their values).
// Aggregation parts that differ only by window share a Base.
func NewSpec(aggs []*api.Aggregation, columns []arrow.Field, mode TailMode) (*Spec, error) {
	index := map[string]int{}
	for i, f := range columns {
		index[f.Name] = i
	}
	s := &Spec{Mode: mode}
	bases := map[string]int{}
	for ai, a := range aggs {
		for _, p := range a.Unpack() {
			in, ok := index[p.InputColumn]
			if !ok {
				return nil, fmt.Errorf("aggregations[%d]: input column %q is not a source column", ai, p.InputColumn)
			}
			bucket := -1
			if p.Bucket != "" {
				if bucket, ok = index[p.Bucket]; !ok {
					return nil, fmt.Errorf("aggregations[%d]: bucket column %q is not a source column", ai, p.Bucket)
				}
				if id := columns[bucket].Type.ID(); id != arrow.STRING && id != arrow.LARGE_STRING {
					return nil, fmt.Errorf("aggregations[%d]: bucket column %q must be a string, not %s", ai, p.Bucket, columns[bucket].Type)
				}
			}
			win := int64(0)
			if p.Window != nil {
				win = p.Window.Millis()
			}
			key := baseKey(p)
			bi, ok := bases[key]
			if !ok {
				base := p
				base.Window = nil
				agg, err := New(base, columns[in].Type)
				if err != nil {
					return nil, fmt.Errorf("aggregations[%d] %s: %w", ai, p.OutputColumnName(), err)
				}
				bi = len(s.Bases)
				bases[key] = bi
				s.Bases = append(s.Bases, Base{Agg: agg, Input: in, Bucket: bucket})
			}
			s.Columns = append(s.Columns, Column{Name: p.OutputColumnName(), Base: bi, Window: win})
		}
	}
	return s, nil
}

// baseKey identifies an aggregation part without its window.
func baseKey(p api.AggregationPart) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00%d\x00%s\x00%v", p.InputColumn, p.Operation, p.Bucket, p.ElementWise)
	for _, k := range sortedKeys(p.ArgMap) {
		fmt.Fprintf(&b, "\x00%s=%s", k, p.ArgMap[k])
	}
	return b.String()
}
