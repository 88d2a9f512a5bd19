// SPDX-License-Identifier: Apache-2.0

package stagingquery

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// convFunc converts a result column to its stored type. The caller owns
// the returned array.
type convFunc func(mem memory.Allocator, a arrow.Array) (arrow.Array, error)

// writer routes query results to the partitions of one transaction, begun
// when the first result's schema is known.
type writer struct {
	wh    warehouse.Warehouse
	table string
	wopts warehouse.WriteOptions
	mem   memory.Allocator

	txn   warehouse.Txn
	raw   *arrow.Schema    // the first result's schema, as the query returned it
	data  *arrow.Schema    // the stored schema: raw without ds, types converted
	dsIdx int              // index of ds in raw
	idx   []int            // raw index of each data column
	convs []convFunc       // converter of each data column, nil to keep it
	rows  map[string]int64 // rows written per partition
	valid map[string]bool  // partition values already checked
	done  bool
}

// add writes the rows of rec, a batch of step st's result with the given
// schema, to their partitions. Rows outside the step (when it has a range)
// are counted in st.Dropped.
func (w *writer) add(ctx context.Context, st *Step, schema *arrow.Schema, rec arrow.RecordBatch) error {
	if w.raw == nil {
		if err := w.begin(ctx, schema); err != nil {
			return err
		}
	} else if !sameColumns(w.raw, schema) {
		return fmt.Errorf("the query returned columns (%s), but (%s) in an earlier step", columnList(schema), columnList(w.raw))
	}
	n := int(rec.NumRows())
	if n == 0 {
		return nil
	}
	data, err := w.convert(rec)
	if err != nil {
		return err
	}
	defer data.Release()

	dsOf, err := dsGetter(rec.Column(w.dsIdx))
	if err != nil {
		return err
	}
	groups := map[string][]int32{}
	var order []string
	for i := range n {
		ds, ok := dsOf(i)
		if !ok {
			return fmt.Errorf("a row has a null %s", warehouse.PartitionColumn)
		}
		if !w.valid[ds] {
			if !batch.ValidDS(ds) {
				return fmt.Errorf("a row has %s %q: want YYYY-MM-DD", warehouse.PartitionColumn, ds)
			}
			w.valid[strings.Clone(ds)] = true
		}
		if st.Start != "" && (ds < st.Start || ds > st.End) {
			st.Dropped++
			continue
		}
		g, seen := groups[ds]
		if !seen {
			ds = strings.Clone(ds) // ds may point into rec's buffers; it outlives them in w.rows
			order = append(order, ds)
		}
		groups[ds] = append(g, int32(i))
	}
	slices.Sort(order)
	for _, ds := range order {
		idx := groups[ds]
		part := data
		if len(idx) < n {
			if part, err = batch.Take(ctx, data, idx, w.mem); err != nil {
				return fmt.Errorf("split rows by partition: %w", err)
			}
		}
		err := w.txn.Write(ctx, ds, part)
		if len(idx) < n {
			part.Release()
		}
		if err != nil {
			return fmt.Errorf("write partition %s: %w", ds, err)
		}
		w.rows[ds] += int64(len(idx))
		st.Rows += int64(len(idx))
	}
	return nil
}

// begin derives the stored schema from the first result's and begins the
// transaction.
func (w *writer) begin(ctx context.Context, schema *arrow.Schema) error {
	w.dsIdx = -1
	var fields []arrow.Field
	for i, f := range schema.Fields() {
		if f.Name == warehouse.PartitionColumn {
			if w.dsIdx >= 0 {
				return fmt.Errorf("the query result has two %s columns (columns: %s)", f.Name, columnList(schema))
			}
			w.dsIdx = i
			continue
		}
		out, conv := storedField(f)
		fields = append(fields, out)
		w.idx = append(w.idx, i)
		w.convs = append(w.convs, conv)
	}
	if w.dsIdx < 0 {
		return fmt.Errorf("the query result has no %s column (columns: %s): select the partition of each row, e.g. ds, or '{{ end_date }}' AS ds",
			warehouse.PartitionColumn, columnList(schema))
	}
	switch t := schema.Field(w.dsIdx).Type; t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.DATE32:
	default:
		return dsTypeErr(t)
	}
	w.raw, w.data = schema, arrow.NewSchema(fields, nil)
	txn, err := w.wh.Begin(ctx, w.table, w.data, w.wopts)
	if errors.Is(err, warehouse.ErrSchemaConflict) {
		return fmt.Errorf("begin write of %s: %w (the table holds other column types; remove it to recompute it with the new ones)", w.table, err)
	}
	if err != nil {
		return fmt.Errorf("begin write of %s: %w", w.table, err)
	}
	w.txn = txn
	return nil
}

// convert returns rec's data columns in the stored schema.
func (w *writer) convert(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, len(w.idx))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, j := range w.idx {
		col := rec.Column(j)
		if w.convs[i] == nil {
			col.Retain()
			cols[i] = col
			continue
		}
		out, err := w.convs[i](w.mem, col)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", rec.ColumnName(j), err)
		}
		cols[i] = out
	}
	return array.NewRecordBatch(w.data, cols, rec.NumRows()), nil
}

// commit writes every partition of compute that got no rows as an empty
// partition, then commits.
func (w *writer) commit(ctx context.Context, compute []string) error {
	if w.txn == nil {
		return errors.New("no query result to write") // QueryEach always reports a schema
	}
	for _, ds := range compute {
		if _, ok := w.rows[ds]; ok {
			continue
		}
		rb := array.NewRecordBuilder(w.mem, w.data)
		empty := rb.NewRecordBatch()
		rb.Release()
		err := w.txn.Write(ctx, ds, empty)
		empty.Release()
		if err != nil {
			return fmt.Errorf("write empty partition %s: %w", ds, err)
		}
		w.rows[ds] = 0
	}
	if err := w.txn.Commit(ctx); err != nil {
		return fmt.Errorf("commit %s: %w", w.table, err)
	}
	w.done = true
	return nil
}

// abort discards the transaction unless it was committed. Its error is
// dropped: abort runs after the error being returned, which matters more.
func (w *writer) abort() {
	if w.txn != nil && !w.done {
		_ = w.txn.Abort()
	}
}

// sameColumns reports whether two results have the same column names and
// types.
func sameColumns(a, b *arrow.Schema) bool {
	return slices.EqualFunc(a.Fields(), b.Fields(), func(x, y arrow.Field) bool {
		return x.Name == y.Name && arrow.TypeEqual(x.Type, y.Type)
	})
}

// dsGetter returns a function reading the partition value of row i of col,
// a string or date32 column. The string it returns may point into col's
// buffers.
func dsGetter(col arrow.Array) (func(i int) (string, bool), error) {
	switch a := col.(type) {
	case *array.String:
		return func(i int) (string, bool) { return a.Value(i), a.IsValid(i) }, nil
	case *array.LargeString:
		return func(i int) (string, bool) { return a.Value(i), a.IsValid(i) }, nil
	case *array.Date32:
		return func(i int) (string, bool) { return batch.FormatDS(a.Value(i).ToTime()), a.IsValid(i) }, nil
	}
	return nil, dsTypeErr(col.DataType())
}

func dsTypeErr(t arrow.DataType) error {
	return fmt.Errorf("the query's %s column has type %s: want VARCHAR \"YYYY-MM-DD\" or DATE", warehouse.PartitionColumn, t)
}

// storedField returns the field a result column is stored as, and its
// converter (nil when stored as is). Types without a Chronon counterpart are
// converted: decimals without fraction digits (DuckDB's HUGEINT, the type
// of SUM over integers, arrives as decimal(38, 0)) to long, other decimals
// to double, NULL-typed columns to string, second timestamps to
// milliseconds. Every stored column is nullable.
func storedField(f arrow.Field) (arrow.Field, convFunc) {
	out := arrow.Field{Name: f.Name, Type: f.Type, Nullable: true}
	switch t := f.Type.(type) {
	case *arrow.Decimal128Type:
		if t.Scale == 0 {
			out.Type = arrow.PrimitiveTypes.Int64
			return out, decimalToLong
		}
		out.Type = arrow.PrimitiveTypes.Float64
		return out, decimalToDouble
	case *arrow.NullType:
		out.Type = arrow.BinaryTypes.String
		return out, func(mem memory.Allocator, a arrow.Array) (arrow.Array, error) {
			return array.MakeArrayOfNull(mem, arrow.BinaryTypes.String, a.Len()), nil
		}
	case *arrow.TimestampType:
		if t.Unit == arrow.Second {
			out.Type = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: t.TimeZone}
			return out, secondsToMillis
		}
	}
	return out, nil
}

// decimalToLong converts a decimal128 array of scale 0 to int64; a value
// out of range is an error.
func decimalToLong(mem memory.Allocator, a arrow.Array) (arrow.Array, error) {
	d := a.(*array.Decimal128)
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.Reserve(d.Len())
	for i := range d.Len() {
		if d.IsNull(i) {
			b.AppendNull()
			continue
		}
		v := d.Value(i)
		hi, lo := v.HighBits(), v.LowBits()
		if !(hi == 0 && lo <= math.MaxInt64 || hi == -1 && lo > math.MaxInt64) {
			return nil, fmt.Errorf("value %s does not fit a long", v.ToString(0))
		}
		b.Append(int64(lo))
	}
	return b.NewArray(), nil
}

// decimalToDouble converts a decimal128 array to float64.
func decimalToDouble(mem memory.Allocator, a arrow.Array) (arrow.Array, error) {
	d := a.(*array.Decimal128)
	scale := d.DataType().(*arrow.Decimal128Type).Scale
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.Reserve(d.Len())
	for i := range d.Len() {
		if d.IsNull(i) {
			b.AppendNull()
			continue
		}
		b.Append(d.Value(i).ToFloat64(scale))
	}
	return b.NewArray(), nil
}

// secondsToMillis converts a timestamp[s] array to timestamp[ms].
func secondsToMillis(mem memory.Allocator, a arrow.Array) (arrow.Array, error) {
	ts := a.(*array.Timestamp)
	typ := &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: ts.DataType().(*arrow.TimestampType).TimeZone}
	b := array.NewTimestampBuilder(mem, typ)
	defer b.Release()
	b.Reserve(ts.Len())
	for i := range ts.Len() {
		if ts.IsNull(i) {
			b.AppendNull()
			continue
		}
		v := int64(ts.Value(i))
		if v > math.MaxInt64/1000 || v < math.MinInt64/1000 {
			return nil, fmt.Errorf("timestamp %d s is out of range in milliseconds", v)
		}
		b.Append(arrow.Timestamp(v * 1000))
	}
	return b.NewArray(), nil
}
