// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/expr"
)

// Streaming is a GroupBy's streaming source compiled for the streaming job:
// it turns one decoded message (a row of the source table) into a keyed
// event with the same query (selects, wheres, time column) and key
// encoding as the backfill, so online and offline values agree.
type Streaming struct {
	GroupBy *GroupBy
	source  *Source
	scan    *arrow.Schema
}

// CompileStreaming compiles g's streaming source (its first events source
// with a topic) over the source table's data schema.
func CompileStreaming(g *api.GroupBy, table *arrow.Schema, windowTail string) (*Streaming, error) {
	name := g.MetaData.GetName()
	idx := -1
	for i, s := range g.Sources {
		if s.Events != nil && s.Events.Topic != "" {
			idx = i
			break
		}
	}
	if idx < 0 {
		return nil, fmt.Errorf("%s: no events source with a topic to stream (entity mutation topics are not streamed yet)", name)
	}
	tail, err := g.EffectiveWindowTail(windowTail)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	mode, err := agg.ParseTailMode(tail)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	scan := ScanSchema(table)
	src, err := CompileSource(name, fmt.Sprintf("sources[%d]", idx), g.Sources[idx], scan, SourceOptions{})
	if err != nil {
		return nil, err
	}
	if src.Ts() != TsColumn {
		return nil, fmt.Errorf("%s: sources[%d].events.query.timeColumn: is required to stream events", name, idx)
	}
	gb, err := CompileGroupBy(g, src.Schema(), mode)
	if err != nil {
		return nil, err
	}
	if gb.Spec == nil || g.InferredAccuracy() != api.Temporal {
		return nil, fmt.Errorf("%s: only TEMPORAL GroupBys with aggregations are streamed", name)
	}
	return &Streaming{GroupBy: gb, source: src, scan: scan}, nil
}

// Event turns one message, the source table's column values (a missing
// column is null) on partition ds, into a keyed event. ok is false when the
// source's wheres filter the message out, every key is null or ts is null.
// An error means the message does not fit the table's schema.
func (s *Streaming) Event(row map[string]any, ds string) (key []byte, ev agg.Event, ok bool, err error) {
	cols := make([]arrow.Array, s.scan.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, f := range s.scan.Fields() {
		v := row[f.Name]
		if f.Name == api.PartitionColumn {
			v = ds
		}
		if cols[i], err = batch.NewArrayOf(f.Type, []any{v}); err != nil {
			return nil, agg.Event{}, false, fmt.Errorf("field %s: %w", f.Name, err)
		}
	}
	in := array.NewRecordBatch(s.scan, cols, 1)
	defer in.Release()
	out, err := s.source.Apply(in)
	if err != nil {
		return nil, agg.Event{}, false, err
	}
	defer out.Release()
	if out.NumRows() == 0 {
		return nil, agg.Event{}, false, nil
	}
	enc, err := NewKeyEncoder(out, s.GroupBy.Keys)
	if err != nil {
		return nil, agg.Event{}, false, err
	}
	key, nulls := enc.Append(nil, 0)
	ts, err := int64Column(out, api.TimeColumn)
	if err != nil {
		return nil, agg.Event{}, false, err
	}
	if !enc.Usable(nulls, false) || ts.IsNull(0) {
		return nil, agg.Event{}, false, nil
	}
	ev = agg.Event{Ts: ts.Value(0), Values: make([]any, len(s.GroupBy.Values))}
	for i, f := range s.GroupBy.Values {
		ev.Values[i] = expr.ValueAt(out.Column(out.Schema().FieldIndices(f.Name)[0]), 0)
	}
	return key, ev, true, nil
}
