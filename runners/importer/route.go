// SPDX-License-Identifier: Apache-2.0

package importer

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// bufferedBatches is how many batches' worth of rows the router may hold
// across all partitions before it writes them all out.
const bufferedBatches = 8

// router splits record batches by partition and writes them to a
// transaction in chunks of about batchRows rows per partition, holding at
// most bufferedBatches*batchRows rows at a time.
type router struct {
	txn       warehouse.Txn
	plan      *plan
	dsName    string
	fixedDS   string
	batchRows int64
	mem       memory.Allocator

	bufs     map[string]*partBuf
	buffered int64
	counts   map[string]int64
	valid    map[string]bool // partition values already checked
	rows     int64
	dsOfRow  []string
}

// partBuf holds the rows of one partition not yet written.
type partBuf struct {
	ds     string // owned copy of the partition value
	pieces []arrow.RecordBatch
	rows   int64
}

func newRouter(txn warehouse.Txn, p *plan, opts *Options) *router {
	return &router{
		txn: txn, plan: p, dsName: opts.DSColumn, fixedDS: opts.DS,
		batchRows: int64(opts.BatchRows), mem: opts.Mem,
		bufs: map[string]*partBuf{}, counts: map[string]int64{}, valid: map[string]bool{},
	}
}

// posErrFunc builds the error for a bad value in row i of the current input
// batch, naming its position in the file.
type posErrFunc func(row int, column, msg string) error

// add routes rec's rows (of the input schema) to their partitions.
func (r *router) add(ctx context.Context, rec arrow.RecordBatch, posErr posErrFunc) error {
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	cols := make([]arrow.Array, len(r.plan.dataIdx))
	for i, idx := range r.plan.dataIdx {
		cols[i] = rec.Column(idx)
	}
	data := array.NewRecordBatch(r.plan.data, cols, int64(n))
	defer data.Release()
	if r.plan.dsIdx < 0 {
		return r.push(ctx, r.fixedDS, data)
	}

	dsOf, err := dsGetter(rec.Column(r.plan.dsIdx))
	if err != nil {
		return fmt.Errorf("column %q: %w", r.dsName, err)
	}
	r.dsOfRow = slices.Grow(r.dsOfRow[:0], n)
	single := true
	for i := 0; i < n; i++ {
		ds, ok := dsOf(i)
		if !ok {
			return posErr(i, r.dsName, "has no partition value")
		}
		if !r.valid[ds] {
			if !batch.ValidDS(ds) {
				return posErr(i, r.dsName, fmt.Sprintf("%q is not a YYYY-MM-DD date", ds))
			}
			r.valid[strings.Clone(ds)] = true
		}
		r.dsOfRow = append(r.dsOfRow, ds)
		if ds != r.dsOfRow[0] {
			single = false
		}
	}
	if single {
		return r.push(ctx, r.dsOfRow[0], data)
	}

	// Several partitions: gather each one's rows.
	groups := map[string][]int32{}
	var order []string
	for i, ds := range r.dsOfRow {
		g, ok := groups[ds]
		if !ok {
			order = append(order, ds)
		}
		groups[ds] = append(g, int32(i))
	}
	for _, ds := range order {
		part, err := batch.Take(ctx, data, groups[ds], r.mem)
		if err != nil {
			return fmt.Errorf("split rows by partition: %w", err)
		}
		err = r.push(ctx, ds, part)
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// dsGetter returns a function reading the partition value of row i of col.
// The string it returns may point into col's buffers.
func dsGetter(col arrow.Array) (func(i int) (string, bool), error) {
	switch a := col.(type) {
	case *array.String:
		return func(i int) (string, bool) { return a.Value(i), a.IsValid(i) }, nil
	case *array.LargeString:
		return func(i int) (string, bool) { return a.Value(i), a.IsValid(i) }, nil
	case *array.Date32:
		return func(i int) (string, bool) {
			return batch.FormatDS(a.Value(i).ToTime()), a.IsValid(i)
		}, nil
	}
	return nil, fmt.Errorf("type %s cannot hold partition values: want string or date32", col.DataType())
}

// push buffers rec's rows for partition ds, writing the partition once it
// holds batchRows rows, and every partition once the router holds too many.
func (r *router) push(ctx context.Context, ds string, rec arrow.RecordBatch) error {
	n := rec.NumRows()
	buf, ok := r.bufs[ds]
	if !ok {
		buf = &partBuf{ds: strings.Clone(ds)}
		r.bufs[buf.ds] = buf
	}
	rec.Retain()
	buf.pieces = append(buf.pieces, rec)
	buf.rows += n
	r.buffered += n
	r.counts[buf.ds] += n
	r.rows += n
	if buf.rows >= r.batchRows {
		if err := r.flush(ctx, buf); err != nil {
			return err
		}
	}
	if r.buffered > bufferedBatches*r.batchRows {
		return r.flushAll(ctx)
	}
	return nil
}

// flush writes buf's rows to its partition and empties buf.
func (r *router) flush(ctx context.Context, buf *partBuf) error {
	ds := buf.ds
	if buf.rows == 0 && len(buf.pieces) == 0 {
		return nil
	}
	rec, err := concat(buf.pieces, r.mem)
	for _, p := range buf.pieces {
		p.Release()
	}
	r.buffered -= buf.rows
	buf.pieces, buf.rows = buf.pieces[:0], 0
	if err != nil {
		return fmt.Errorf("partition %s: %w", ds, err)
	}
	defer rec.Release()
	if err := r.txn.Write(ctx, ds, rec); err != nil {
		return fmt.Errorf("write partition %s: %w", ds, err)
	}
	return nil
}

// flushAll writes every partition's buffered rows, in ds order.
func (r *router) flushAll(ctx context.Context) error {
	keys := make([]string, 0, len(r.bufs))
	for ds, b := range r.bufs {
		if b.rows > 0 {
			keys = append(keys, ds)
		}
	}
	slices.Sort(keys)
	for _, ds := range keys {
		if err := r.flush(ctx, r.bufs[ds]); err != nil {
			return err
		}
	}
	return nil
}

// finish writes what is left. A fixed partition of an empty input is
// written empty, so the import still overwrites it.
func (r *router) finish(ctx context.Context) error {
	if r.plan.dsIdx < 0 && r.rows == 0 {
		rb := array.NewRecordBuilder(r.mem, r.plan.data)
		empty := rb.NewRecordBatch()
		rb.Release()
		defer empty.Release()
		if err := r.txn.Write(ctx, r.fixedDS, empty); err != nil {
			return fmt.Errorf("write partition %s: %w", r.fixedDS, err)
		}
		r.counts[r.fixedDS] = 0
		return nil
	}
	return r.flushAll(ctx)
}

// release frees whatever is still buffered (after an error).
func (r *router) release() {
	for _, b := range r.bufs {
		for _, p := range b.pieces {
			p.Release()
		}
		b.pieces = nil
	}
}

// partitions returns the rows written per partition, sorted by ds.
func (r *router) partitions() []PartitionRows {
	out := make([]PartitionRows, 0, len(r.counts))
	for ds, n := range r.counts {
		out = append(out, PartitionRows{DS: ds, Rows: n})
	}
	slices.SortFunc(out, func(a, b PartitionRows) int { return strings.Compare(a.DS, b.DS) })
	return out
}

// concat joins record batches of one schema into one.
func concat(recs []arrow.RecordBatch, mem memory.Allocator) (arrow.RecordBatch, error) {
	if len(recs) == 1 {
		recs[0].Retain()
		return recs[0], nil
	}
	schema := recs[0].Schema()
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	var rows int64
	for _, r := range recs {
		rows += r.NumRows()
	}
	parts := make([]arrow.Array, len(recs))
	for i := range cols {
		for j, r := range recs {
			parts[j] = r.Column(i)
		}
		c, err := array.Concatenate(parts, mem)
		if err != nil {
			return nil, fmt.Errorf("concatenate column %q: %w", schema.Field(i).Name, err)
		}
		cols[i] = c
	}
	return array.NewRecordBatch(schema, cols, rows), nil
}
