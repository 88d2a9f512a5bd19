// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/online"
)

// Upload table columns (Chronon's `<group by output table>_upload`): the
// key and value bytes the KV store's batch dataset receives.
const (
	KeyBytesColumn   = "key_bytes"
	ValueBytesColumn = "value_bytes"
)

// UploadSchema is the data schema of a GroupBy's upload table.
var uploadFields = []arrow.Field{
	{Name: KeyBytesColumn, Type: arrow.BinaryTypes.Binary},
	{Name: ValueBytesColumn, Type: arrow.BinaryTypes.Binary},
}

// UploadSchema returns the data schema (without ds) of an upload table.
func UploadSchema() *arrow.Schema { return arrow.NewSchema(uploadFields, nil) }

// Upload is a compiled batch upload of a GroupBy for one day: per key, what
// the fetcher merges with streaming data. TEMPORAL GroupBys upload IRs (a
// collapsed IR per column and the exact band of events that may leave a
// window while the value is served, core/agg BatchValue); SNAPSHOT ones
// their finalized values as of the batch end; GroupBys without aggregations
// their latest row (core/online rows).
type Upload struct {
	Part *Part
	// BatchEnd is midnight after the uploaded day, epoch ms.
	BatchEnd int64
	day      int64
	temporal bool
	ds, tail string
}

// CompileUpload compiles g's upload of day ds against the tables' schemas.
func CompileUpload(g *api.GroupBy, schemas SchemaFunc, windowTail, ds string) (*Upload, error) {
	b, err := CompileGroupByBackfill(g, schemas, windowTail)
	if err != nil {
		return nil, err
	}
	day, err := DayOf(ds)
	if err != nil {
		return nil, fmt.Errorf("%s: upload day: %w", g.MetaData.GetName(), err)
	}
	tail, err := g.EffectiveWindowTail(windowTail)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", g.MetaData.GetName(), err)
	}
	return &Upload{
		ds:       ds,
		tail:     tail,
		Part:     b.Part,
		BatchEnd: (day + 1) * dayMillis,
		day:      day,
		temporal: g.InferredAccuracy() == api.Temporal && g.Aggregations != nil,
	}, nil
}

// ServingInfo describes the upload for the fetcher: the definition, the
// batch end and the selected schema the aggregations were compiled over.
func (u *Upload) ServingInfo() (*online.ServingInfo, error) {
	return online.NewServingInfo(u.Part.GroupBy.Def, u.ds, u.Part.Sources[0].Schema(), u.tail)
}

// ValueTypes are the types of the finalized values a SNAPSHOT (or
// aggregation-free) upload stores, in order.
func (u *Upload) ValueTypes() []arrow.DataType {
	var out []arrow.DataType
	for _, f := range u.Part.GroupBy.Output {
		out = append(out, f.Type)
	}
	return out
}

// Evaluate computes the upload rows (key bytes, value bytes) of one shard's
// source rows (EventRows records).
func (u *Upload) Evaluate(events []arrow.RecordBatch) (arrow.RecordBatch, error) {
	g := u.Part.GroupBy
	name := g.Def.MetaData.GetName()
	snap := u.Part.Rule.Snapshot()
	gs := newGroups(g)
	type keyed struct {
		key []byte
		gr  *group
	}
	var keys []keyed
	seen := map[*group]bool{}
	for bi, rec := range events {
		enc, err := NewKeyEncoder(rec, g.Keys)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		ts, err := int64Column(rec, api.TimeColumn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		days, err := int64Column(rec, DayColumn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			// An entity upload reads the day's snapshot only.
			if ts.IsNull(i) || ts.Value(i) >= u.BatchEnd || snap && days.Value(i) != u.day {
				continue
			}
			gr := gs.row(enc, i, false, false, 0)
			if gr == nil {
				continue
			}
			if !seen[gr] {
				seen[gr] = true
				key, _ := enc.Append(nil, i)
				keys = append(keys, keyed{key, gr})
			}
			gr.events = append(gr.events, rowRef{batch: int32(bi), row: int32(i), ts: ts.Value(i)})
		}
	}
	cols, err := g.valueColumns(events)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	kb := array.NewBinaryBuilder(memory.DefaultAllocator, arrow.BinaryTypes.Binary)
	vb := array.NewBinaryBuilder(memory.DefaultAllocator, arrow.BinaryTypes.Binary)
	defer kb.Release()
	defer vb.Release()
	types := u.ValueTypes()
	var buf []byte
	for _, k := range keys {
		slices.SortStableFunc(k.gr.events, func(a, b rowRef) int { return cmp.Compare(a.ts, b.ts) })
		evs := makeEvents(k.gr.events, cols, len(g.Values))
		var row []any
		switch {
		case u.temporal:
			buf = g.Spec.AppendBatchValue(buf[:0], g.Spec.Batch(evs, u.BatchEnd))
		case g.Spec == nil:
			row = evs[len(evs)-1].Values
		default:
			row = g.Spec.Sweep(evs, []int64{u.BatchEnd})[0]
		}
		if row != nil {
			if buf, err = online.AppendRow(buf[:0], types, row); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		kb.Append(k.key)
		vb.Append(buf)
	}
	ka, va := kb.NewArray(), vb.NewArray()
	defer ka.Release()
	defer va.Release()
	return array.NewRecordBatch(UploadSchema(), []arrow.Array{ka, va}, int64(len(keys))), nil
}
