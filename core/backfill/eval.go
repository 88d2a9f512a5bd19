// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"cmp"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/expr"
)

// Internal columns of the batches moved between the steps of a backfill.
const (
	// RowColumn identifies a left row: its partition day in the high 32
	// bits and its ordinal in the partition in the low 32.
	RowColumn = "__chronon_row"
	// QueryTsColumn is a left row's query time for one join part.
	QueryTsColumn = "__chronon_t"
	// DayColumn is a row's partition day (days since the epoch), or, for a
	// query, the snapshot day it reads (-1: none).
	DayColumn = "__chronon_day"
)

// RowID makes the id of the ordinal-th left row of partition day.
func RowID(day int64, ordinal int) int64 { return day<<32 | int64(ordinal) }

// RowDay is the partition day of a row id.
func RowDay(row int64) int64 { return row >> 32 }

// Shard is one shard's input to a GroupBy evaluation: query batches (keys
// under the GroupBy's names, RowColumn, QueryTsColumn, DayColumn), event
// batches (the projected source plus DayColumn) and, for entities with
// mutations, mutation batches (with mutation_ts and is_before).
type Shard struct {
	Queries   []arrow.RecordBatch
	Events    []arrow.RecordBatch
	Mutations []arrow.RecordBatch
	// SourceKeys says the queries ask for keys taken from the source rows
	// (a GroupBy backfill): a key with some null values is then a key like
	// any other, where a left row's null key value matches nothing.
	SourceKeys bool
}

type rowRef struct {
	batch, row int32
	ts         int64
}

type group struct {
	events, mutations []rowRef
	queries           []query
}

type query struct {
	t, row int64
}

// groups collects a shard's rows by key (and snapshot day for snapshot
// rules).
type groups struct {
	g      *GroupBy
	byKey  map[string]int
	byInt  map[[2]int64]int // one integer key column: (key, snapshot day)
	list   []*group
	keyBuf []byte
}

func newGroups(g *GroupBy) *groups {
	return &groups{g: g, byKey: map[string]int{}, byInt: map[[2]int64]int{}}
}

func (gs *groups) of(key []byte) *group {
	if i, ok := gs.byKey[string(key)]; ok {
		return gs.list[i]
	}
	gs.byKey[string(key)] = len(gs.list)
	return gs.add()
}

func (gs *groups) ofInt(key, day int64) *group {
	k := [2]int64{key, day}
	if i, ok := gs.byInt[k]; ok {
		return gs.list[i]
	}
	gs.byInt[k] = len(gs.list)
	return gs.add()
}

func (gs *groups) add() *group {
	gr := &group{}
	gs.list = append(gs.list, gr)
	return gr
}

// row returns the group of row i of a batch, or nil when its key cannot
// match (KeyEncoder.Usable). day is the snapshot day (snapshot rules).
func (gs *groups) row(enc *KeyEncoder, i int, query, snapshot bool, day int64) *group {
	if !snapshot {
		day = -1 << 63
	}
	if k, ok := enc.Int(i); ok {
		return gs.ofInt(k, day)
	}
	key, nulls := enc.Append(gs.keyBuf[:0], i)
	gs.keyBuf = key
	if !enc.Usable(nulls, query) {
		return nil
	}
	if snapshot {
		key = AppendDay(key, day)
		gs.keyBuf = key
	}
	return gs.of(key)
}

func int64Column(rec arrow.RecordBatch, name string) (*array.Int64, error) {
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return nil, fmt.Errorf("column %q is missing", name)
	}
	c, ok := rec.Column(idx[0]).(*array.Int64)
	if !ok {
		return nil, fmt.Errorf("column %q is %s, want int64", name, rec.Column(idx[0]).DataType())
	}
	return c, nil
}

// addRows groups the rows of recs. tsCol names the ordering time; dayShift
// is added to the partition day for snapshot grouping (-1 for mutations,
// which pair with the previous day's snapshot).
func (gs *groups) addRows(recs []arrow.RecordBatch, snapshot bool, tsCol string, dayShift int64, pick func(*group) *[]rowRef) error {
	for bi, rec := range recs {
		enc, err := NewKeyEncoder(rec, gs.g.Keys)
		if err != nil {
			return err
		}
		ts, err := int64Column(rec, tsCol)
		if err != nil {
			return err
		}
		var days *array.Int64
		if snapshot {
			if days, err = int64Column(rec, DayColumn); err != nil {
				return err
			}
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			if ts.IsNull(i) {
				continue
			}
			var day int64
			if snapshot {
				day = days.Value(i) + dayShift
			}
			gr := gs.row(enc, i, false, snapshot, day)
			if gr == nil {
				continue
			}
			l := pick(gr)
			*l = append(*l, rowRef{batch: int32(bi), row: int32(i), ts: ts.Value(i)})
		}
	}
	return nil
}

// valueColumns returns, per batch, the columns of g.Values.
func (g *GroupBy) valueColumns(recs []arrow.RecordBatch) ([][]arrow.Array, error) {
	out := make([][]arrow.Array, len(recs))
	for bi, rec := range recs {
		for _, f := range g.Values {
			idx := rec.Schema().FieldIndices(f.Name)
			if len(idx) == 0 {
				return nil, fmt.Errorf("value column %q is missing", f.Name)
			}
			out[bi] = append(out[bi], rec.Column(idx[0]))
		}
	}
	return out, nil
}

func makeEvents(refs []rowRef, cols [][]arrow.Array, width int) []agg.Event {
	evs := make([]agg.Event, len(refs))
	vals := make([]any, len(refs)*width)
	for i, r := range refs {
		v := vals[i*width : (i+1)*width : (i+1)*width]
		for c, col := range cols[r.batch] {
			v[c] = expr.ValueAt(col, int(r.row))
		}
		evs[i] = agg.Event{Ts: r.ts, Values: v}
	}
	return evs
}

// Evaluate computes, for every query of the shard, the GroupBy's base value
// columns under rule, and returns them per output day as records of
// RowColumn followed by g.Output. Queries whose key has no rows are left
// out: the assembly step fills their columns with nulls.
func (g *GroupBy) Evaluate(rule Rule, in Shard) (map[int64]arrow.RecordBatch, error) {
	gs := newGroups(g)
	snap := rule.Snapshot()
	if err := gs.addRows(in.Events, snap, api.TimeColumn, 0, func(gr *group) *[]rowRef { return &gr.events }); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	if err := gs.addRows(in.Mutations, snap, MutationTsColumn, -1, func(gr *group) *[]rowRef { return &gr.mutations }); err != nil {
		return nil, fmt.Errorf("mutations: %w", err)
	}
	if err := gs.addQueries(in.Queries, snap, !in.SourceKeys); err != nil {
		return nil, fmt.Errorf("queries: %w", err)
	}
	evCols, err := g.valueColumns(in.Events)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	var mut *mutationColumns
	if len(in.Mutations) > 0 {
		if mut, err = g.mutationColumns(in.Mutations); err != nil {
			return nil, fmt.Errorf("mutations: %w", err)
		}
	}
	// Keys are independent: sweep them on every core (the direct runner
	// runs one bundle on one goroutine).
	workers := min(runtime.GOMAXPROCS(0), max(1, len(gs.list)/64))
	results := make([]map[int64]arrow.RecordBatch, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := newDayBuilders(g.Output)
			defer out.release()
			for i := w; i < len(gs.list); i += workers {
				if err := g.evaluateGroup(rule, gs.list[i], evCols, mut, out); err != nil {
					errs[w] = err
					return
				}
			}
			results[w] = out.finish()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, r := range results {
			releaseDays(r)
		}
		return nil, err
	}
	return mergeDays(results)
}

// evaluateGroup answers one key's queries into out.
func (g *GroupBy) evaluateGroup(rule Rule, gr *group, evCols [][]arrow.Array, mut *mutationColumns, out *dayBuilders) (err error) {
	if len(gr.queries) == 0 || len(gr.events)+len(gr.mutations) == 0 {
		return nil
	}
	row := make([]any, len(g.Output))
	slices.SortStableFunc(gr.events, func(a, b rowRef) int { return cmp.Compare(a.ts, b.ts) })
	slices.SortStableFunc(gr.queries, func(a, b query) int { return cmp.Compare(a.t, b.t) })
	events := makeEvents(gr.events, evCols, len(g.Values))
	emit := func(q int, vals []any) error {
		return out.append(RowDay(gr.queries[q].row), gr.queries[q].row, vals)
	}
	switch {
	case g.Spec == nil:
		return g.passthrough(rule, events, gr.queries, row, emit)
	case rule == RuleMutations:
		slices.SortStableFunc(gr.mutations, func(a, b rowRef) int { return cmp.Compare(a.ts, b.ts) })
		return g.withMutations(events, mut.events(gr.mutations, len(g.Values)), gr.queries, row, emit)
	}
	ts := make([]int64, len(gr.queries))
	for i, q := range gr.queries {
		ts[i] = q.t
	}
	g.Spec.SweepEach(events, ts, func(q int, vals []any) {
		if err == nil {
			err = emit(q, vals)
		}
	})
	return err
}

// mergeDays concatenates the workers' records day by day.
func mergeDays(results []map[int64]arrow.RecordBatch) (map[int64]arrow.RecordBatch, error) {
	byDay := map[int64][]arrow.RecordBatch{}
	for _, r := range results {
		for day, rec := range r {
			byDay[day] = append(byDay[day], rec)
		}
	}
	out := make(map[int64]arrow.RecordBatch, len(byDay))
	var err error
	for day, recs := range byDay {
		if err == nil {
			var rec arrow.RecordBatch
			if rec, err = Concat(recs); err == nil {
				out[day] = rec
			}
		}
		for _, r := range recs {
			r.Release()
		}
	}
	if err != nil {
		releaseDays(out)
		return nil, err
	}
	return out, nil
}

func releaseDays(m map[int64]arrow.RecordBatch) {
	for _, r := range m {
		r.Release()
	}
}

func (gs *groups) addQueries(recs []arrow.RecordBatch, snapshot, left bool) error {
	for _, rec := range recs {
		enc, err := NewKeyEncoder(rec, gs.g.Keys)
		if err != nil {
			return err
		}
		rows, err := int64Column(rec, RowColumn)
		if err != nil {
			return err
		}
		ts, err := int64Column(rec, QueryTsColumn)
		if err != nil {
			return err
		}
		days, err := int64Column(rec, DayColumn)
		if err != nil {
			return err
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			gr := gs.row(enc, i, left, snapshot, days.Value(i))
			if gr == nil {
				continue
			}
			gr.queries = append(gr.queries, query{t: ts.Value(i), row: rows.Value(i)})
		}
	}
	return nil
}

// passthrough answers queries of a GroupBy without aggregations: the
// latest row before the query time (for a snapshot, its rows all are).
func (g *GroupBy) passthrough(rule Rule, events []agg.Event, queries []query, row []any, emit func(int, []any) error) error {
	next := 0
	for q, qu := range queries {
		for next < len(events) && (rule.Snapshot() || events[next].Ts < qu.t) {
			next++
		}
		if next == 0 {
			continue
		}
		copy(row, events[next-1].Values)
		if err := emit(q, row); err != nil {
			return err
		}
	}
	return nil
}

// dayBuilders accumulates output rows per output day.
type dayBuilders struct {
	schema *arrow.Schema
	days   map[int64]*array.RecordBuilder
}

func newDayBuilders(values []arrow.Field) *dayBuilders {
	fields := append([]arrow.Field{{Name: RowColumn, Type: arrow.PrimitiveTypes.Int64}}, values...)
	return &dayBuilders{schema: arrow.NewSchema(fields, nil), days: map[int64]*array.RecordBuilder{}}
}

func (d *dayBuilders) append(day, row int64, vals []any) error {
	b, ok := d.days[day]
	if !ok {
		b = array.NewRecordBuilder(memory.DefaultAllocator, d.schema)
		d.days[day] = b
	}
	b.Field(0).(*array.Int64Builder).Append(row)
	for i, v := range vals {
		if err := batch.AppendValue(b.Field(i+1), v); err != nil {
			return fmt.Errorf("column %s: %w", d.schema.Field(i+1).Name, err)
		}
	}
	return nil
}

func (d *dayBuilders) finish() map[int64]arrow.RecordBatch {
	out := make(map[int64]arrow.RecordBatch, len(d.days))
	for day, b := range d.days {
		out[day] = b.NewRecordBatch()
	}
	return out
}

func (d *dayBuilders) release() {
	for _, b := range d.days {
		b.Release()
	}
}
