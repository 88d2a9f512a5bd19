// SPDX-License-Identifier: Apache-2.0

package orchestrate

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// kvRetentionStep expires a group-by's batch uploads older than the
// latest Retention.BatchVersions, and its streaming values older than the
// latest batch end (less the slack): the fetcher reads streaming values
// from the batch end on only.
type kvRetentionStep struct {
	e *Env
	g *api.GroupBy
}

func (s *kvRetentionStep) UpToDate(context.Context) (bool, error) { return false, nil }

func (s *kvRetentionStep) Run(ctx context.Context) (Outcome, error) {
	r := s.e.Retention.withDefaults()
	served, err := servedBatch(ctx, s.e.KV, s.g)
	if err != nil || served == "" {
		return Outcome{Detail: "nothing uploaded"}, err
	}
	// The serving info, not the run's day: a run for an old day must not
	// expire what a newer upload serves.
	start, err := batch.MillisOfDS(served)
	if err != nil {
		return Outcome{}, fmt.Errorf("%s: serving info batch end %q: %w", s.g.MetaData.GetName(), served, err)
	}
	batchEnd := start + batch.DayMillis
	expire := func(dataset string, before int64, keepLatest bool) (int64, error) {
		n, err := s.e.KV.Expire(ctx, dataset, before, keepLatest)
		if errors.Is(err, kv.ErrNoDataset) {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("%s: expire %s: %w", s.g.MetaData.GetName(), dataset, err)
		}
		return n, nil
	}
	batchN, err := expire(s.g.MetaData.BatchDataset(), batchEnd-int64(r.BatchVersions-1)*batch.DayMillis, true)
	if err != nil {
		return Outcome{}, err
	}
	streamN, err := expire(s.g.MetaData.StreamingDataset(), batchEnd-int64(r.StreamingSlackDays)*batch.DayMillis, false)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Changed: batchN+streamN > 0, Detail: fmt.Sprintf("expired %d batch and %d streaming values", batchN, streamN)}, nil
}

// logRetentionStep empties the partitions of a log table older than
// Retention.LogTTLDays before the run's day. Each is overwritten with no
// rows in one transaction: the warehouse has no partition drop, and an
// overwrite of old partitions cannot lose rows the fetcher appends to
// today's meanwhile (a rewrite of the whole table could).
type logRetentionStep struct {
	e     *Env
	table string
}

func (s *logRetentionStep) UpToDate(context.Context) (bool, error) { return false, nil }

func (s *logRetentionStep) Run(ctx context.Context) (Outcome, error) {
	r := s.e.Retention.withDefaults()
	cutoff, err := batch.ShiftDS(s.e.DS, -r.LogTTLDays)
	if err != nil {
		return Outcome{}, err
	}
	info, err := s.e.Warehouse.Describe(ctx, s.table)
	if errors.Is(err, warehouse.ErrTableNotFound) {
		return Outcome{Detail: "no table"}, nil
	}
	if err != nil {
		return Outcome{}, err
	}
	var expired []string
	for _, p := range info.Partitions {
		if p.DS < cutoff && p.Rows > 0 {
			expired = append(expired, p.DS)
		}
	}
	if len(expired) == 0 {
		return Outcome{Detail: "nothing past the TTL"}, nil
	}
	txn, err := s.e.Warehouse.Begin(ctx, s.table, info.Schema, warehouse.WriteOptions{Mode: warehouse.Overwrite})
	if err != nil {
		return Outcome{}, err
	}
	empty := emptyBatch(info.Schema)
	defer empty.Release()
	for _, ds := range expired {
		if err := txn.Write(ctx, ds, empty); err != nil {
			txn.Abort()
			return Outcome{}, fmt.Errorf("empty %s/ds=%s: %w", s.table, ds, err)
		}
	}
	if err := txn.Commit(ctx); err != nil {
		return Outcome{}, fmt.Errorf("empty old partitions of %s: %w", s.table, err)
	}
	return Outcome{Partitions: expired, Changed: true, Detail: fmt.Sprintf("emptied partitions before %s", cutoff)}, nil
}

// emptyBatch returns a batch of schema with no rows.
func emptyBatch(schema *arrow.Schema) arrow.RecordBatch {
	cols := make([]arrow.Array, schema.NumFields())
	for i, f := range schema.Fields() {
		b := array.NewBuilder(memory.DefaultAllocator, f.Type)
		cols[i] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecordBatch(schema, cols, 0)
	for _, c := range cols {
		c.Release()
	}
	return rec
}
