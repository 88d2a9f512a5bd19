// SPDX-License-Identifier: Apache-2.0

package testkit

import (
	"context"
	"io"
	"maps"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/expr"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// TableRows reads every row of a warehouse table as a map of column to
// value (core/expr's Go values; ds included), in scan order.
func TableRows(t testing.TB, wh warehouse.Warehouse, table string) []map[string]any {
	t.Helper()
	var out []map[string]any
	ScanRows(t, wh, table, func(rec arrow.RecordBatch, i int) {
		row := map[string]any{}
		for c, f := range rec.Schema().Fields() {
			row[f.Name] = expr.ValueAt(rec.Column(c), i)
		}
		out = append(out, row)
	})
	return out
}

// ScanRows calls row for every row of a warehouse table, in scan order, and
// returns the table's schema.
func ScanRows(t testing.TB, wh warehouse.Warehouse, table string, row func(rec arrow.RecordBatch, i int)) *arrow.Schema {
	t.Helper()
	ctx := context.Background()
	sc, err := wh.Scan(ctx, table, warehouse.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	for {
		rec, err := sc.Next(ctx)
		if err == io.EOF {
			return sc.Schema()
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			row(rec, i)
		}
		rec.Release()
	}
}

// Schema builds a schema of nullable fields from name, type pairs:
// Schema("user", arrow.BinaryTypes.String, "ts", arrow.PrimitiveTypes.Int64).
func Schema(cols ...any) *arrow.Schema {
	var fields []arrow.Field
	for i := 0; i < len(cols); i += 2 {
		fields = append(fields, arrow.Field{Name: cols[i].(string), Type: cols[i+1].(arrow.DataType), Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

// PutRows writes rows (each with a "ds" string) to a table in one
// transaction, one partition per ds.
func PutRows[R ~map[string]any](t testing.TB, wh warehouse.Warehouse, table string, schema *arrow.Schema, rows []R) {
	t.Helper()
	ctx := context.Background()
	byDS := map[string][]R{}
	for _, r := range rows {
		ds := r["ds"].(string)
		byDS[ds] = append(byDS[ds], r)
	}
	txn, err := wh.Begin(ctx, table, schema, warehouse.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range slices.Sorted(maps.Keys(byDS)) {
		cols := make([]arrow.Array, schema.NumFields())
		for i, f := range schema.Fields() {
			vals := make([]any, len(byDS[ds]))
			for j, r := range byDS[ds] {
				vals[j] = r[f.Name]
			}
			if cols[i], err = batch.NewArrayOf(f.Type, vals); err != nil {
				t.Fatalf("%s column %s: %v", table, f.Name, err)
			}
		}
		rec := array.NewRecordBatch(schema, cols, int64(len(byDS[ds])))
		err := txn.Write(ctx, ds, rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}
