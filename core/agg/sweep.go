// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// Sweep evaluates every column of s at every query time for one key, in one
// pass: events enter a column's window as the query time passes them and
// leave as its tail does. Deletable operations with exact (integer) results
// or compensated float sums (SUM, AVERAGE) subtract leaving events; the
// others keep a two-stack queue of partial
// aggregates, so each event is added and removed once and no query rescans
// the window: O(events + queries) aggregate operations per column, amortised.
//
// events must be sorted by Ts, in arrival order among equal Ts (a stable
// sort keeps it); queries must be sorted ascending. The result holds, for
// each query, the finalized value of each column (nil for null).
func (s *Spec) Sweep(events []Event, queries []int64) [][]any {
	out := make([][]any, len(queries))
	vals := make([]any, len(queries)*len(s.Columns))
	s.SweepEach(events, queries, func(q int, row []any) {
		out[q] = vals[q*len(s.Columns) : (q+1)*len(s.Columns)]
		copy(out[q], row)
	})
	return out
}

// SweepEach is Sweep calling fn with each query's row of values instead of
// collecting them, so a caller streaming rows into a table holds no more
// than one row. fn must not retain row (it is reused).
func (s *Spec) SweepEach(events []Event, queries []int64, fn func(q int, row []any)) {
	type cursor struct {
		state      windowState
		head, tail int
	}
	cols := make([]cursor, len(s.Columns))
	for c := range s.Columns {
		cols[c].state = newWindowState(s.Bases[s.Columns[c].Base].Agg, s.Columns[c].Window)
	}
	row := make([]any, len(s.Columns))
	for q, t := range queries {
		for c := range s.Columns {
			col, cur := &s.Columns[c], &cols[c]
			base := &s.Bases[col.Base]
			for cur.head < len(events) && events[cur.head].Ts < t {
				cur.state.add(base.input(&events[cur.head]))
				cur.head++
			}
			if col.Window > 0 {
				from := Tail(t, col.Window, s.Mode)
				for cur.tail < cur.head && events[cur.tail].Ts < from {
					cur.state.remove(base.input(&events[cur.tail]))
					cur.tail++
				}
			}
			row[c] = cur.state.value()
		}
		fn(q, row)
	}
}

// windowState holds one column's aggregate of the events inside its window.
type windowState interface {
	add(Input)
	// remove drops the oldest event added and not yet removed (in is that
	// event).
	remove(in Input)
	value() any
}

func newWindowState(agg Aggregator, window int64) windowState {
	switch {
	case window <= 0:
		return &runningState{agg: agg}
	case agg.Deletable() && (exactType(agg.OutputType()) || compensated(agg)):
		return &subtractState{runningState{agg: agg}}
	}
	return &twoStack{agg: agg}
}

// compensatedSum is implemented by aggregators whose floating-point sums
// are compensated (Neumaier): subtracting a leaving input records its
// rounding error like adding does, so a window slid by subtraction stays
// within a few ulp of the window's own sum.
type compensatedSum interface{ compensated() bool }

func compensated(a Aggregator) bool {
	c, ok := a.(compensatedSum)
	return ok && c.compensated()
}

// exactType reports whether values of t are computed exactly (no floating
// point), so that subtracting leaving inputs cannot accumulate rounding.
func exactType(t arrow.DataType) bool {
	switch t := t.(type) {
	case *arrow.Float16Type, *arrow.Float32Type, *arrow.Float64Type:
		return false
	case *arrow.ListType:
		return exactType(t.Elem())
	case *arrow.MapType:
		return exactType(t.KeyType()) && exactType(t.ItemType())
	case *arrow.StructType:
		for _, f := range t.Fields() {
			if !exactType(f.Type) {
				return false
			}
		}
	}
	return true
}

// runningState aggregates every event added (unbounded windows).
type runningState struct {
	agg Aggregator
	ir  IR
}

func (r *runningState) add(in Input) { r.ir = r.agg.Update(r.ir, in) }
func (r *runningState) remove(Input) {}
func (r *runningState) value() any   { return r.agg.Finalize(r.ir) }

// subtractState deletes leaving events from one running aggregate.
type subtractState struct{ runningState }

func (s *subtractState) remove(in Input) { s.ir = s.agg.Delete(s.ir, in) }

// twoStack is a sliding-window aggregate for operations that cannot delete:
// new events go to the back (one running aggregate); when the oldest event
// leaves and the front is empty, the back's events are flipped into the
// front as suffix aggregates, so front[i] aggregates front events i.. and
// the window is front[first] merged with back.
type twoStack struct {
	agg        Aggregator
	front      []IR
	first      int // index in front of the oldest event still inside
	back       IR
	backInputs []Input
}

func (t *twoStack) add(in Input) {
	t.back = t.agg.Update(t.back, in)
	t.backInputs = append(t.backInputs, in)
}

func (t *twoStack) remove(Input) {
	if t.first == len(t.front) {
		t.flip()
	}
	t.front[t.first] = nil // release the IR as soon as it leaves
	t.first++
}

func (t *twoStack) flip() {
	n := len(t.backInputs)
	if cap(t.front) < n {
		t.front = make([]IR, n)
	}
	t.front = t.front[:n]
	var acc IR
	for i := n - 1; i >= 0; i-- {
		// acc aggregates inputs i+1..n-1; the input at i arrived before them.
		acc = t.agg.Merge(t.agg.Update(nil, t.backInputs[i]), acc)
		t.front[i] = acc
	}
	t.first = 0
	t.back = nil
	clear(t.backInputs)
	t.backInputs = t.backInputs[:0]
}

func (t *twoStack) value() any {
	if t.first == len(t.front) {
		return t.agg.Finalize(t.back)
	}
	if t.back == nil {
		return t.agg.Finalize(t.front[t.first])
	}
	return t.agg.Finalize(t.agg.Merge(t.agg.Clone(t.front[t.first]), t.back))
}
