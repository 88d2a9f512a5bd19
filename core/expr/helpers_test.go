// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// testSchema is the schema most table tests compile against.
var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "l", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "d", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "t", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "dt", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts", Type: TimestampType, Nullable: true},
	{Name: "arr", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
	{Name: "darr", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64), Nullable: true},
	{Name: "sarr", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64), Nullable: true},
	{Name: "m2", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64), Nullable: true},
	{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true}), Nullable: true},
	{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "Price", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

// buildBatch builds a record batch of schema from rows of Go values.
func buildBatch(t testing.TB, schema *arrow.Schema, rows []map[string]any) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, row := range rows {
		for i, f := range schema.Fields() {
			nt, err := normalizeType(f.Type)
			if err != nil {
				t.Fatal(err)
			}
			v, err := coerceIn(row[f.Name], nt)
			if err != nil {
				t.Fatalf("row value %s: %v", f.Name, err)
			}
			appendValue(b.Field(i), nt, v)
		}
	}
	return b.NewRecordBatch()
}

// valuesEqual compares evaluation results: NaN equals NaN, maps and lists
// deeply.
func valuesEqual(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y && math.Signbit(x) == math.Signbit(y) || (x != x && y != y))
	case float32:
		y, ok := b.(float32)
		return ok && (x == y && math.Signbit(float64(x)) == math.Signbit(float64(y)) || (x != x && y != y))
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !valuesEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !valuesEqual(v, w) {
				return false
			}
		}
		return true
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return reflect.DeepEqual(a, b)
}

func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case map[string]any:
		ks := make([]string, 0, len(x))
		for k := range x {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		s := "{"
		for i, k := range ks {
			if i > 0 {
				s += ", "
			}
			s += k + ": " + show(x[k])
		}
		return s + "}"
	case []any:
		s := "["
		for i, e := range x {
			if i > 0 {
				s += ", "
			}
			s += show(e)
		}
		return s + "]"
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

// evalBoth compiles src, evaluates it over rows with EvalRow and over a batch
// of the rows with EvalBatch, checks both agree and returns the results.
func evalBoth(t testing.TB, src string, schema *arrow.Schema, rows []map[string]any) ([]any, *Program) {
	t.Helper()
	p, err := Compile(src, schema)
	if err != nil {
		t.Fatalf("Compile(%q): %v", src, err)
	}
	rec := buildBatch(t, schema, rows)
	defer rec.Release()
	arr, err := p.EvalBatch(rec)
	if err != nil {
		t.Fatalf("EvalBatch(%q): %v", src, err)
	}
	defer arr.Release()
	if arr.Len() != len(rows) {
		t.Fatalf("EvalBatch(%q): %d rows, want %d", src, arr.Len(), len(rows))
	}
	if !arrow.TypeEqual(arr.DataType(), p.Type()) {
		t.Fatalf("EvalBatch(%q): type %s, want %s", src, arr.DataType(), p.Type())
	}
	out := make([]any, len(rows))
	for i, row := range rows {
		rv, err := p.EvalRow(row)
		if err != nil {
			t.Fatalf("EvalRow(%q): %v", src, err)
		}
		bv := ValueAt(arr, i)
		if !valuesEqual(rv, bv) {
			t.Fatalf("%q row %d: EvalRow = %s, EvalBatch = %s", src, i, show(rv), show(bv))
		}
		out[i] = rv
	}
	return out, p
}
