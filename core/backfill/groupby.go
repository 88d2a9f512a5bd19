// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/api"
)

// GroupByBackfill is a compiled GroupBy backfill: one row per key and day,
// the GroupBy's values as of the end of the day (Chronon's daily snapshots,
// whatever the accuracy).
type GroupByBackfill struct {
	Part *Part
}

// CompileGroupByBackfill compiles g against the tables' schemas.
// windowTail is chronon.yaml's window_tail ("exact", "hop" or "").
func CompileGroupByBackfill(g *api.GroupBy, schemas SchemaFunc, windowTail string) (*GroupByBackfill, error) {
	rule := RuleDayEnd
	if g.DataModel() == api.EntitiesModel {
		rule = RuleSnapshotSame
	}
	p, err := compilePart(g, rule, schemas, windowTail)
	if err != nil {
		return nil, err
	}
	return &GroupByBackfill{Part: p}, nil
}

// Evaluate computes the output rows of one shard's events for the output
// days: the keys that have rows (an entity key: in that day's snapshot),
// their values and ds, after the GroupBy's derivations. Rows of an events
// GroupBy whose values are all null are dropped, as Chronon drops them. The
// result maps a day to its rows.
func (b *GroupByBackfill) Evaluate(days []int64, events []arrow.RecordBatch) (map[int64]arrow.RecordBatch, error) {
	p := b.Part
	name := p.GroupBy.Def.MetaData.GetName()
	keys, queries, err := b.queries(days, events)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if keys == nil {
		return nil, nil
	}
	defer keys.Release()
	defer queries.Release()
	vals, err := p.GroupBy.Evaluate(p.Rule, Shard{Queries: []arrow.RecordBatch{queries}, Events: events, SourceKeys: true})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out := make(map[int64]arrow.RecordBatch, len(vals))
	defer func() {
		for _, v := range vals {
			v.Release()
		}
	}()
	for day, rec := range vals {
		r, err := b.dayRows(day, keys, rec)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, DayString(day), err)
		}
		if r != nil {
			out[day] = r
		}
	}
	return out, nil
}

// queries lists every key of the events once (keys: their key columns) and
// asks, for each output day, for the key's values at the end of the day.
// Query row ids are RowID(day, key index).
func (b *GroupByBackfill) queries(days []int64, events []arrow.RecordBatch) (keys, queries arrow.RecordBatch, err error) {
	p := b.Part
	snap := p.Rule.Snapshot()
	seen := map[string]bool{}
	var firsts []arrow.RecordBatch
	var keyDays [][]int64 // per key, the days it is asked for
	var buf []byte
	for _, rec := range events {
		enc, err := NewKeyEncoder(rec, p.GroupBy.Keys)
		if err != nil {
			return nil, nil, err
		}
		dayCol, err := int64Column(rec, DayColumn)
		if err != nil {
			return nil, nil, err
		}
		var rows []int32
		for i := 0; i < int(rec.NumRows()); i++ {
			key, nulls := enc.Append(buf[:0], i)
			buf = key
			if !enc.Usable(nulls, false) {
				continue
			}
			if snap {
				key = AppendDay(key, dayCol.Value(i))
				buf = key
			}
			if seen[string(key)] {
				continue
			}
			seen[string(key)] = true
			rows = append(rows, int32(i))
			if snap {
				keyDays = append(keyDays, []int64{dayCol.Value(i)})
			} else {
				keyDays = append(keyDays, days)
			}
		}
		if len(rows) == 0 {
			continue
		}
		cols := make([]arrow.Array, len(p.GroupBy.Keys))
		fields := make([]arrow.Field, len(p.GroupBy.Keys))
		for k, name := range p.GroupBy.Keys {
			idx := rec.Schema().FieldIndices(name)
			cols[k] = rec.Column(idx[0])
			fields[k] = rec.Schema().Field(idx[0])
		}
		keyRec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
		sub, err := Take(keyRec, rows)
		keyRec.Release()
		if err != nil {
			return nil, nil, err
		}
		firsts = append(firsts, sub)
	}
	defer func() {
		for _, f := range firsts {
			f.Release()
		}
	}()
	if keys, err = Concat(firsts); err != nil || keys == nil {
		return nil, nil, err
	}
	// One query per (key, day), keys repeated through Take.
	var at []int32
	rb := array.NewInt64Builder(memory.DefaultAllocator)
	tb := array.NewInt64Builder(memory.DefaultAllocator)
	db := array.NewInt64Builder(memory.DefaultAllocator)
	defer rb.Release()
	defer tb.Release()
	defer db.Release()
	for k, ds := range keyDays {
		for _, d := range ds {
			at = append(at, int32(k))
			rb.Append(RowID(d, k))
			t, day := p.Rule.Query(0, d)
			tb.Append(t)
			db.Append(day)
		}
	}
	kq, err := Take(keys, at)
	if err != nil {
		keys.Release()
		return nil, nil, err
	}
	defer kq.Release()
	ra, ta, da := rb.NewArray(), tb.NewArray(), db.NewArray()
	defer ra.Release()
	defer ta.Release()
	defer da.Release()
	fields := append(append([]arrow.Field(nil), kq.Schema().Fields()...),
		arrow.Field{Name: RowColumn, Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: QueryTsColumn, Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: DayColumn, Type: arrow.PrimitiveTypes.Int64})
	cols := append(append([]arrow.Array(nil), kq.Columns()...), ra, ta, da)
	return keys, array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(len(at))), nil
}

// dayRows turns one day's evaluated values into output rows: keys, values
// (after derivations), ds; event snapshot rows with only null values are
// dropped.
func (b *GroupByBackfill) dayRows(day int64, keys, vals arrow.RecordBatch) (arrow.RecordBatch, error) {
	p := b.Part
	ids := vals.Column(0).(*array.Int64)
	var keep, keyAt []int32
	for i := 0; i < ids.Len(); i++ {
		allNull := true
		for c := 1; c < int(vals.NumCols()); c++ {
			if !vals.Column(c).IsNull(i) {
				allNull = false
				break
			}
		}
		// Chronon drops the all-null rows of event snapshots
		// (snapshotEventsBase), not those of entity snapshots.
		if allNull && p.GroupBy.Spec != nil && p.Rule == RuleDayEnd {
			continue
		}
		keep = append(keep, int32(i))
		keyAt = append(keyAt, int32(ids.Value(i)&0xffffffff))
	}
	if len(keep) == 0 {
		return nil, nil
	}
	kr, err := Take(keys, keyAt)
	if err != nil {
		return nil, err
	}
	defer kr.Release()
	vr, err := Take(vals, keep)
	if err != nil {
		return nil, err
	}
	defer vr.Release()
	ds := dsArray(day, len(keep))
	defer ds.Release()
	fields := append(append([]arrow.Field(nil), kr.Schema().Fields()...), vr.Schema().Fields()[1:]...)
	fields = append(fields, arrow.Field{Name: api.PartitionColumn, Type: arrow.BinaryTypes.String, Nullable: true})
	cols := append(append([]arrow.Array(nil), kr.Columns()...), vr.Columns()[1:]...)
	cols = append(cols, ds)
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(len(keep)))
	if p.derive == nil {
		return rec, nil
	}
	defer rec.Release()
	derived, err := p.derive.Apply(rec)
	if err != nil {
		return nil, err
	}
	defer derived.Release()
	// keys, derived values, ds
	fields = append(append([]arrow.Field(nil), kr.Schema().Fields()...), derived.Schema().Fields()...)
	fields = append(fields, arrow.Field{Name: api.PartitionColumn, Type: arrow.BinaryTypes.String, Nullable: true})
	cols = append(append([]arrow.Array(nil), kr.Columns()...), derived.Columns()...)
	cols = append(cols, ds)
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(len(keep))), nil
}
