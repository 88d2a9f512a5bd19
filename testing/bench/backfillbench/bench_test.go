// SPDX-License-Identifier: Apache-2.0

//go:build cgo

package main

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
)

// TestAgreement runs the benchmark's measured steps on a few thousand rows:
// the backfill and join.sql must agree on every value.
func TestAgreement(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	root := filepath.Join(dir, "warehouse")
	c := config{Left: 2000, Events: 6000, Keys: 10, Days: 4} // few keys: many events on a window's bounds
	if _, err := generate(ctx, root, c); err != nil {
		t.Fatal(err)
	}
	ours, err := stepOurs(ctx, root, joinMain, 2, "", false)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "duckdb.parquet")
	duck, err := stepDuck(ctx, root, eventsTable, out)
	if err != nil {
		t.Fatal(err)
	}
	if ours.Rows != int64(c.Left) || duck.Rows != int64(c.Left) {
		t.Fatalf("rows: ours %d, duckdb %d, want %d", ours.Rows, duck.Rows, c.Left)
	}
	rep, err := compareOutputs(ctx, root, joinMain, out)
	if err != nil {
		t.Fatal(err)
	}
	// row_id, user_id, ts, ds and 3 operations x 3 windows.
	if rep.Mismatches != 0 || rep.Rows != c.Left || rep.Columns != 12 {
		t.Fatalf("compared %d rows x %d columns, %d mismatches: %v", rep.Rows, rep.Columns, rep.Mismatches, rep.First)
	}
	// The windows are not empty: most values are not null.
	wh, err := parquet.Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	got, err := readTable(ctx, wh, "bench.bench_main")
	if err != nil {
		t.Fatal(err)
	}
	nulls := 0
	for _, isNull := range got.cols["bench_amounts_amount_sum_3d"].null {
		if isNull {
			nulls++
		}
	}
	if nulls > c.Left/10 {
		t.Errorf("%d of %d 3-day sums are null", nulls, c.Left)
	}
}

// TestGenerateDeterministic: the data depends on the sizes only.
func TestGenerateDeterministic(t *testing.T) {
	ctx := context.Background()
	c := config{Left: 3000, Events: 3000, Keys: 50, Days: 3}
	var left [2]*frame
	for i := range left {
		root := t.TempDir()
		if _, err := generate(ctx, root, c); err != nil {
			t.Fatal(err)
		}
		wh, err := parquet.Open(root, nil)
		if err != nil {
			t.Fatal(err)
		}
		left[i], err = readTable(ctx, wh, leftTable)
		wh.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	rep, err := diff(left[0], left[1], 3)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Mismatches != 0 || rep.Rows != c.Left {
		t.Fatalf("two generations differ: %d rows, %d mismatches: %v", rep.Rows, rep.Mismatches, rep.First)
	}
}

// frameOf builds a frame of row_id, n (int64) and x (float64) columns; a nil
// value is a null.
func frameOf(t *testing.T, ids []int64, n []any, x []any) *frame {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: idColumn, Type: arrow.PrimitiveTypes.Int64},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i, id := range ids {
		b.Field(0).(*array.Int64Builder).Append(id)
		if n[i] == nil {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Int64Builder).Append(n[i].(int64))
		}
		if x[i] == nil {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Float64Builder).Append(x[i].(float64))
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	f := &frame{}
	if err := f.add(rec); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestDiff(t *testing.T) {
	ours := frameOf(t, []int64{1, 2, 3, 4}, []any{int64(1), nil, int64(3), int64(4)}, []any{1.0, 2.0, nil, 1e6})
	for _, tc := range []struct {
		name string
		want *frame
		bad  []string // mismatching "row_id/column", in order
	}{
		{"equal, rows in another order, floats within 1e-9",
			frameOf(t, []int64{4, 3, 2, 1}, []any{int64(4), int64(3), nil, int64(1)}, []any{1e6 * (1 + 5e-10), nil, 2.0, 1.0}), nil},
		{"float off by 1e-8",
			frameOf(t, []int64{1, 2, 3, 4}, []any{int64(1), nil, int64(3), int64(4)}, []any{1.0, 2.0, nil, 1e6 * (1 + 1e-8)}), []string{"4/x"}},
		{"int off by one, nulls swapped",
			frameOf(t, []int64{1, 2, 3, 4}, []any{int64(2), int64(0), int64(3), int64(4)}, []any{1.0, 2.0, 3.0, 1e6}), []string{"1/n", "2/n", "3/x"}},
		{"row missing and row extra",
			frameOf(t, []int64{1, 2, 3, 5}, []any{int64(1), nil, int64(3), int64(4)}, []any{1.0, 2.0, nil, 1e6}), []string{"4/row_id", "5/row_id"}},
		{"duplicate row",
			frameOf(t, []int64{1, 2, 3, 4, 4}, []any{int64(1), nil, int64(3), int64(4), int64(4)}, []any{1.0, 2.0, nil, 1e6, 1e6}), []string{"4/row_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := diff(ours, tc.want, 10)
			if err != nil {
				t.Fatal(err)
			}
			var bad []string
			for _, m := range rep.First {
				bad = append(bad, strconv.FormatInt(m.RowID, 10)+"/"+m.Column)
			}
			if strings.Join(bad, " ") != strings.Join(tc.bad, " ") || rep.Mismatches != len(tc.bad) {
				t.Fatalf("mismatches %v (%d), want %v", bad, rep.Mismatches, tc.bad)
			}
		})
	}
	// Different columns cannot be compared.
	other := frameOf(t, []int64{1}, []any{int64(1)}, []any{1.0})
	other.names[2] = "y"
	other.cols["y"] = other.cols["x"]
	delete(other.cols, "x")
	if _, err := diff(ours, other, 10); err == nil {
		t.Fatal("diff of frames with different columns succeeded")
	}
}
