// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/batch"
)

const dayMillis = batch.DayMillis

// DayOf returns the partition day of a ds.
func DayOf(ds string) (int64, error) {
	ms, err := batch.MillisOfDS(ds)
	if err != nil {
		return 0, err
	}
	return ms / dayMillis, nil
}

// DayString is the ds of a partition day.
func DayString(day int64) string { return batch.DSOfMillis(day * dayMillis) }

// EventRows projects one scanned record of source i (partition day) into
// the rows a shard sweeps: the source's columns and DayColumn. mutation
// selects the source's mutation query instead. It returns nil when no row
// is left.
func (p *Part) EventRows(i int, mutation bool, scanned arrow.RecordBatch, day int64) (arrow.RecordBatch, error) {
	src := p.Sources[i]
	if mutation {
		src = p.Mutations[i]
		if src == nil {
			return nil, fmt.Errorf("sources[%d] has no mutation table", i)
		}
	}
	rec, err := src.Apply(scanned)
	if err != nil {
		return nil, fmt.Errorf("%s: sources[%d]: %w", p.GroupBy.Def.MetaData.GetName(), i, err)
	}
	defer rec.Release()
	n := int(rec.NumRows())
	if n == 0 {
		return nil, nil
	}
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	for j := 0; j < n; j++ {
		b.Append(day)
	}
	days := b.NewArray()
	defer days.Release()
	fields := append(append([]arrow.Field(nil), rec.Schema().Fields()...), arrow.Field{Name: DayColumn, Type: arrow.PrimitiveTypes.Int64})
	cols := append(append([]arrow.Array(nil), rec.Columns()...), days)
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n)), nil
}

// SplitByShard splits rec's rows by the shard of their key columns among n
// shards. Rows whose keys cannot match are dropped (KeyEncoder.Usable;
// queries says rec holds left rows).
func SplitByShard(rec arrow.RecordBatch, keys []string, n int, queries bool) (map[int]arrow.RecordBatch, error) {
	enc, err := NewKeyEncoder(rec, keys)
	if err != nil {
		return nil, err
	}
	idx := make(map[int][]int32)
	var buf []byte
	for i := 0; i < int(rec.NumRows()); i++ {
		key, nulls := enc.Append(buf[:0], i)
		buf = key
		if !enc.Usable(nulls, queries) {
			continue
		}
		s := ShardOf(key, n)
		idx[s] = append(idx[s], int32(i))
	}
	out := make(map[int]arrow.RecordBatch, len(idx))
	for s, rows := range idx {
		sub, err := Take(rec, rows)
		if err != nil {
			return nil, err
		}
		out[s] = sub
	}
	return out, nil
}
