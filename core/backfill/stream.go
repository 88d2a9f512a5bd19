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
	// Mutations is set for an entity source's mutation topic: messages
	// are mutation rows (Streaming.Mutation), not events.
	Mutations bool
	source    *Source
	scan      *arrow.Schema
}

// StreamingSource returns the index of g's streamed source: its first
// events source with a topic, else its first entities source with a
// mutation topic; -1 without one.
func StreamingSource(g *api.GroupBy) int {
	for i, s := range g.Sources {
		if s.Events != nil && s.Events.Topic != "" {
			return i
		}
	}
	for i, s := range g.Sources {
		if s.Entities != nil && s.Entities.MutationTopic != "" {
			return i
		}
	}
	return -1
}

// StreamedTable is the table whose rows the streamed topic carries: an
// events source's table, or an entity source's mutation table.
func StreamedTable(s *api.Source) string {
	if s.Entities != nil {
		return s.Entities.MutationTable
	}
	return s.Table()
}

// CompileStreaming compiles g's streamed source (StreamingSource) over the
// data schema of the table its messages carry (StreamedTable).
func CompileStreaming(g *api.GroupBy, table *arrow.Schema, windowTail string) (*Streaming, error) {
	name := g.MetaData.GetName()
	idx := StreamingSource(g)
	if idx < 0 {
		return nil, fmt.Errorf("%s: no events source with a topic nor entities source with a mutationTopic to stream", name)
	}
	mutations := g.Sources[idx].Entities != nil
	mode, err := TailMode(g, windowTail)
	if err != nil {
		return nil, err
	}
	scan := ScanSchema(table)
	src, err := CompileSource(name, fmt.Sprintf("sources[%d]", idx), g.Sources[idx], scan, SourceOptions{Mutations: mutations})
	if err != nil {
		return nil, err
	}
	if src.Ts() != TsColumn {
		return nil, fmt.Errorf("%s: sources[%d].%s.query.timeColumn: is required to stream", name, idx, sourceField(g.Sources[idx]))
	}
	gb, err := CompileGroupBy(g, src.Schema(), mode)
	if err != nil {
		return nil, err
	}
	if gb.Spec == nil || g.InferredAccuracy() != api.Temporal {
		return nil, fmt.Errorf("%s: only TEMPORAL GroupBys with aggregations are streamed", name)
	}
	return &Streaming{GroupBy: gb, Mutations: mutations, source: src, scan: scan}, nil
}

// Mutation turns one message of a mutation topic (a row of the mutation
// table) into a keyed mutation, as Event does for events.
func (s *Streaming) Mutation(row map[string]any, ds string) (key []byte, m agg.Mutation, ok bool, err error) {
	out, key, ok, err := s.project(row, ds)
	if out == nil {
		return nil, agg.Mutation{}, false, err
	}
	defer out.Release()
	mts, err := int64Column(out, MutationTsColumn)
	if err != nil {
		return nil, agg.Mutation{}, false, err
	}
	if !ok || mts.IsNull(0) {
		return nil, agg.Mutation{}, false, nil
	}
	before, _ := out.Column(out.Schema().FieldIndices(IsBeforeColumn)[0]).(*array.Boolean)
	m = agg.Mutation{Event: s.event(out), MutationTs: mts.Value(0), Before: before != nil && !before.IsNull(0) && before.Value(0)}
	return key, m, true, nil
}

// Event turns one message, the source table's column values (a missing
// column is null) on partition ds, into a keyed event. ok is false when the
// source's wheres filter the message out, every key is null or ts is null.
// An error means the message does not fit the table's schema.
func (s *Streaming) Event(row map[string]any, ds string) (key []byte, ev agg.Event, ok bool, err error) {
	out, key, ok, err := s.project(row, ds)
	if out == nil {
		return nil, agg.Event{}, false, err
	}
	defer out.Release()
	if !ok {
		return nil, agg.Event{}, false, nil
	}
	return key, s.event(out), true, nil
}

// project applies the source's query to one message. out is nil when the
// message is malformed (err) or filtered; ok is false when its keys are
// all null or its ts is null.
func (s *Streaming) project(row map[string]any, ds string) (out arrow.RecordBatch, key []byte, ok bool, err error) {
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
			return nil, nil, false, fmt.Errorf("field %s: %w", f.Name, err)
		}
	}
	in := array.NewRecordBatch(s.scan, cols, 1)
	defer in.Release()
	if out, err = s.source.Apply(in); err != nil {
		return nil, nil, false, err
	}
	if out.NumRows() == 0 {
		out.Release()
		return nil, nil, false, nil
	}
	enc, err := NewKeyEncoder(out, s.GroupBy.Keys)
	if err != nil {
		out.Release()
		return nil, nil, false, err
	}
	key, nulls := enc.Append(nil, 0)
	ts, err := int64Column(out, api.TimeColumn)
	if err != nil {
		out.Release()
		return nil, nil, false, err
	}
	return out, key, enc.Usable(nulls, false) && !ts.IsNull(0), nil
}

// event reads the projected row's event.
func (s *Streaming) event(out arrow.RecordBatch) agg.Event {
	ts, _ := int64Column(out, api.TimeColumn)
	ev := agg.Event{Ts: ts.Value(0), Values: make([]any, len(s.GroupBy.Values))}
	for i, f := range s.GroupBy.Values {
		ev.Values[i] = expr.ValueAt(out.Column(out.Schema().FieldIndices(f.Name)[0]), 0)
	}
	return ev
}
