// SPDX-License-Identifier: Apache-2.0

//go:build cgo

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/chronon-go/chronon/plugins/warehouse"
)

// idColumn identifies a left row in both outputs.
const idColumn = "row_id"

// relTol is the largest relative difference between two floats that agree.
const relTol = 1e-9

// column holds one output column's values: ints (int64), floats (float64)
// or strs (strings); null[i] marks a null.
type column struct {
	kind   byte // 'i', 'f' or 's'
	ints   []int64
	floats []float64
	strs   []string
	null   []bool
}

func (c *column) text(i int) string {
	switch {
	case c.null[i]:
		return "NULL"
	case c.kind == 'i':
		return strconv.FormatInt(c.ints[i], 10)
	case c.kind == 'f':
		return strconv.FormatFloat(c.floats[i], 'g', -1, 64)
	}
	return strconv.Quote(c.strs[i])
}

// frame is a table's rows read into memory, column by column.
type frame struct {
	names []string
	cols  map[string]*column
	rows  int
}

// add appends rec's rows. Every batch must have the first batch's columns.
func (f *frame) add(rec arrow.RecordBatch) error {
	if f.cols == nil {
		f.cols = map[string]*column{}
		for _, fd := range rec.Schema().Fields() {
			c := &column{}
			switch fd.Type.ID() {
			case arrow.INT64:
				c.kind = 'i'
			case arrow.FLOAT64:
				c.kind = 'f'
			case arrow.STRING, arrow.LARGE_STRING:
				c.kind = 's'
			default:
				continue // LAST_K lists and the like: not compared
			}
			f.names = append(f.names, fd.Name)
			f.cols[fd.Name] = c
		}
	}
	for _, name := range f.names {
		idx := rec.Schema().FieldIndices(name)
		if len(idx) != 1 {
			return fmt.Errorf("batch without column %s", name)
		}
		c, arr := f.cols[name], rec.Column(idx[0])
		n := arr.Len()
		for i := 0; i < n; i++ {
			c.null = append(c.null, arr.IsNull(i))
		}
		switch a := arr.(type) {
		case *array.Int64:
			if c.kind != 'i' {
				return fmt.Errorf("column %s changes type to %s", name, arr.DataType())
			}
			c.ints = append(c.ints, a.Int64Values()...)
		case *array.Float64:
			if c.kind != 'f' {
				return fmt.Errorf("column %s changes type to %s", name, arr.DataType())
			}
			c.floats = append(c.floats, a.Float64Values()...)
		case array.StringLike:
			if c.kind != 's' {
				return fmt.Errorf("column %s changes type to %s", name, arr.DataType())
			}
			for i := 0; i < n; i++ {
				c.strs = append(c.strs, a.ValueStr(i))
			}
		default:
			return fmt.Errorf("column %s changes type to %s", name, arr.DataType())
		}
	}
	f.rows += int(rec.NumRows())
	return nil
}

// readTable reads a warehouse table (every partition, ds included).
func readTable(ctx context.Context, wh warehouse.Warehouse, table string) (*frame, error) {
	sc, err := wh.Scan(ctx, table, warehouse.ScanOptions{})
	if err != nil {
		return nil, err
	}
	defer sc.Close()
	f := &frame{}
	for {
		rec, err := sc.Next(ctx)
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return nil, err
		}
		err = f.add(rec)
		rec.Release()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", table, err)
		}
	}
}

// readParquet reads a Parquet file.
func readParquet(ctx context.Context, path string) (*frame, error) {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 * 1024}, memory.DefaultAllocator)
	if err != nil {
		return nil, err
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return nil, err
	}
	defer rr.Release()
	f := &frame{}
	for rr.Next() {
		if err := f.add(rr.RecordBatch()); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// mismatch is one value on which two outputs disagree.
type mismatch struct {
	RowID      int64
	Column     string
	Ours, Want string
}

func (m mismatch) String() string {
	return fmt.Sprintf("row_id %d %s: ours %s, duckdb %s", m.RowID, m.Column, m.Ours, m.Want)
}

// report is what diff found.
type report struct {
	Rows, Columns int        // rows and columns compared
	Mismatches    int        // every disagreement
	First         []mismatch // the first few
}

// diff compares ours with want row for row, matching rows on idColumn:
// both must have the same columns and row ids; ints and strings must be
// equal, floats within relTol relative, nulls in the same places. It
// returns an error when the outputs cannot be compared at all.
func diff(ours, want *frame, keep int) (*report, error) {
	if !slices.Equal(sorted(ours.names), sorted(want.names)) {
		return nil, fmt.Errorf("columns differ:\nours:   %v\nduckdb: %v", sorted(ours.names), sorted(want.names))
	}
	for _, name := range ours.names {
		if o, w := ours.cols[name].kind, want.cols[name].kind; o != w {
			return nil, fmt.Errorf("column %s is of kind %c in ours, %c in duckdb's", name, o, w)
		}
	}
	oid, wid := ours.cols[idColumn], want.cols[idColumn]
	if oid == nil || oid.kind != 'i' || wid.kind != 'i' {
		return nil, fmt.Errorf("no int64 column %s", idColumn)
	}
	rep := &report{Columns: len(ours.names) - 1}
	add := func(m mismatch) {
		rep.Mismatches++
		if len(rep.First) < keep {
			rep.First = append(rep.First, m)
		}
	}
	at := make(map[int64]int, want.rows)
	for j := 0; j < want.rows; j++ {
		if wid.null[j] {
			return nil, fmt.Errorf("duckdb output has a null %s", idColumn)
		}
		if _, dup := at[wid.ints[j]]; dup {
			add(mismatch{RowID: wid.ints[j], Column: idColumn, Ours: "-", Want: "duplicate row"})
		}
		at[wid.ints[j]] = j
	}
	seen := make(map[int64]bool, ours.rows)
	for i := 0; i < ours.rows; i++ {
		if oid.null[i] {
			return nil, fmt.Errorf("our output has a null %s", idColumn)
		}
		id := oid.ints[i]
		if seen[id] {
			add(mismatch{RowID: id, Column: idColumn, Ours: "duplicate row", Want: "-"})
			continue
		}
		seen[id] = true
		j, ok := at[id]
		if !ok {
			add(mismatch{RowID: id, Column: idColumn, Ours: "row", Want: "missing"})
			continue
		}
		rep.Rows++
		for _, name := range ours.names {
			o, w := ours.cols[name], want.cols[name]
			if !agree(o, i, w, j) {
				add(mismatch{RowID: id, Column: name, Ours: o.text(i), Want: w.text(j)})
			}
		}
	}
	for j := 0; j < want.rows; j++ {
		if !seen[wid.ints[j]] {
			add(mismatch{RowID: wid.ints[j], Column: idColumn, Ours: "missing", Want: "row"})
		}
	}
	return rep, nil
}

// agree reports whether value i of a equals value j of b.
func agree(a *column, i int, b *column, j int) bool {
	switch {
	case a.null[i] || b.null[j]:
		return a.null[i] == b.null[j]
	case a.kind == 'i':
		return a.ints[i] == b.ints[j]
	case a.kind == 's':
		return a.strs[i] == b.strs[j]
	}
	x, y := a.floats[i], b.floats[j]
	return x == y || math.Abs(x-y) <= relTol*max(math.Abs(x), math.Abs(y))
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }
