// SPDX-License-Identifier: Apache-2.0

package bigtable

import (
	"context"
	"fmt"

	bt "cloud.google.com/go/bigtable"

	"github.com/chronon-go/chronon/plugins/kv"
)

// MultiPut writes the entries as cells of their value rows (see BulkLoad,
// which it is: Bigtable has one way to write many rows).
func (s *Store) MultiPut(ctx context.Context, dataset string, entries []kv.Entry) error {
	return s.write(ctx, "multiput", dataset, entries)
}

// BulkLoad writes the entries with ApplyBulk: one mutation per row holding
// a SetCell per entry (in order, so the last of two entries with the same
// key and TsMillis wins), at most Options.Experimental.BulkMutations entries
// and about BulkBytes bytes per request, the requests sent one after the
// other. Bigtable applies each row atomically but not a request: when the
// call fails, some rows may be written. Writing the same entries again is
// harmless, so a caller retries a failed call whole.
func (s *Store) BulkLoad(ctx context.Context, dataset string, entries []kv.Entry) error {
	return s.write(ctx, "bulkload", dataset, entries)
}

func (s *Store) write(ctx context.Context, op, dataset string, entries []kv.Entry) error {
	if err := s.checkDataset(ctx, op, dataset); err != nil {
		return err
	}
	for i, e := range entries {
		if err := checkTs(e.TsMillis); err != nil {
			return wrap(op, dataset, fmt.Errorf("entry %d: %w", i, err))
		}
	}
	esc := escapeDataset(dataset)
	b := s.newBatch()
	for _, e := range entries {
		rk := valueRowKey(esc, e.Key)
		size := len(rk) + len(e.Value)
		if b.full(rk, size) {
			if err := b.flush(ctx); err != nil {
				return wrap(op, dataset, err)
			}
		}
		b.mutation(rk, size).Set(familyValue, columnValue, bt.Timestamp(e.TsMillis*microsPerMilli), e.Value)
	}
	if err := b.flush(ctx); err != nil {
		return wrap(op, dataset, err)
	}
	return nil
}

// batch collects the mutations of one ApplyBulk, one per row.
type batch struct {
	table            *bt.Table
	maxOps, maxBytes int
	rows             []string
	muts             []*bt.Mutation
	index            map[string]int // row key -> position in rows
	ops, bytes       int
}

func (s *Store) newBatch() *batch {
	return &batch{
		table:    s.table,
		maxOps:   s.opts.Experimental.BulkMutations,
		maxBytes: s.opts.Experimental.BulkBytes,
		index:    map[string]int{},
	}
}

// full reports whether one more mutation of size bytes on row rk would
// overflow the batch. A batch always takes its first mutation.
func (b *batch) full(rk string, size int) bool {
	if b.ops == 0 {
		return false
	}
	extra := size
	if _, ok := b.index[rk]; !ok {
		extra += len(rk)
	}
	return b.ops+1 > b.maxOps || b.bytes+extra > b.maxBytes
}

// mutation returns the mutation of row rk, counting one more operation of
// size bytes.
func (b *batch) mutation(rk string, size int) *bt.Mutation {
	b.ops++
	b.bytes += size
	if i, ok := b.index[rk]; ok {
		return b.muts[i]
	}
	m := bt.NewMutation()
	b.index[rk] = len(b.rows)
	b.rows = append(b.rows, rk)
	b.muts = append(b.muts, m)
	return m
}

// flush applies the batch's mutations and empties it. A failed row fails
// the flush: the error counts the failed rows and gives the first.
func (b *batch) flush(ctx context.Context) error {
	if len(b.rows) == 0 {
		return nil
	}
	rows, muts := b.rows, b.muts
	b.rows, b.muts, b.index, b.ops, b.bytes = nil, nil, map[string]int{}, 0, 0
	errs, err := b.table.ApplyBulk(ctx, rows, muts)
	if err != nil {
		return fmt.Errorf("apply %d rows: %w", len(rows), err)
	}
	var first error
	failed := 0
	for i, e := range errs {
		if e == nil {
			continue
		}
		if failed == 0 {
			first = fmt.Errorf("row %q: %w", truncate(rows[i]), e)
		}
		failed++
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d rows failed; first: %w", failed, len(rows), first)
	}
	return nil
}

// truncate shortens a row key for an error message.
func truncate(rk string) string {
	const n = 64
	if len(rk) <= n {
		return rk
	}
	return rk[:n] + "..."
}
