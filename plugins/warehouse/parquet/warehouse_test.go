// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/chronon-go/chronon/core/batch"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/chronon-go/chronon/plugins/warehouse"
)

// allTypes has a column of every supported type.
func allTypes() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "i16", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "u8", Type: arrow.PrimitiveTypes.Uint8, Nullable: true},
		{Name: "u16", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
		{Name: "u32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
		{Name: "u64", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "lbin", Type: arrow.BinaryTypes.LargeBinary, Nullable: true},
		{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "ts", Type: arrow.FixedWidthTypes.Timestamp_ms, Nullable: true},
		{Name: "ts_local", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
		{Name: "ts_us", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "ts_ns", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "America/New_York"}, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "lnn", Type: arrow.ListOfNonNullable(arrow.BinaryTypes.String), Nullable: true},
		{Name: "ll", Type: arrow.LargeListOf(arrow.PrimitiveTypes.Float64), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64), Nullable: true},
		{Name: "ml", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.ListOf(arrow.PrimitiveTypes.Int32)), Nullable: true},
		{Name: "st", Type: arrow.StructOf(
			arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
			arrow.Field{Name: "y", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
			arrow.Field{Name: "z", Type: arrow.StructOf(arrow.Field{Name: "q", Type: arrow.FixedWidthTypes.Boolean}), Nullable: true},
		), Nullable: true},
		{Name: "ls_st", Type: arrow.ListOf(arrow.StructOf(
			arrow.Field{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true},
			arrow.Field{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		)), Nullable: true},
	}, nil)
}

const allTypesRows = `[
 {"id": 1, "b": true, "i8": -8, "i16": -16, "i32": -32, "u8": 8, "u16": 16, "u32": 4000000000, "u64": 18000000000000000001,
  "f32": 1.5, "f64": 2.25, "s": "héllo", "ls": "large", "bin": "AAEC", "lbin": "/w==", "d": "2024-01-02",
  "ts": "2024-01-02T03:04:05.678Z", "ts_local": 1704164645678, "ts_us": 1704164645678901, "ts_ns": 1704164645678901234,
  "l": [1, null, 3], "lnn": ["a", "b"], "ll": [0.5], "m": [{"key": "a", "value": 1.0}, {"key": "b", "value": null}],
  "ml": [{"key": "k", "value": [1, 2]}], "st": {"x": 7, "y": ["p", null], "z": {"q": true}},
  "ls_st": [{"k": "a", "v": 1}, null, {"k": null, "v": 3}]},
 {"id": 2, "b": null, "i8": null, "i16": null, "i32": null, "u8": null, "u16": null, "u32": null, "u64": null,
  "f32": null, "f64": null, "s": null, "ls": null, "bin": null, "lbin": null, "d": null,
  "ts": null, "ts_local": null, "ts_us": null, "ts_ns": null,
  "l": null, "lnn": null, "ll": null, "m": null, "ml": null, "st": null, "ls_st": null},
 {"id": 3, "b": false, "i8": 127, "i16": 0, "i32": 2147483647, "u8": 255, "u16": 65535, "u32": 0, "u64": 0,
  "f32": -0.25, "f64": 1e300, "s": "", "ls": "", "bin": "", "lbin": "", "d": "1970-01-01",
  "ts": "1970-01-01T00:00:00Z", "ts_local": 0, "ts_us": 0, "ts_ns": 0,
  "l": [], "lnn": [], "ll": [], "m": [], "ml": [{"key": "e", "value": null}], "st": {"x": null, "y": null, "z": null},
  "ls_st": []}
]`

func TestRoundTripAllTypes(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"default", Options{}},
		{"zstd", Options{Compression: Zstd}},
		{"uncompressed-tiny-row-groups", Options{Compression: Uncompressed, RowGroupRows: 2}},
		{"snappy-one-row-groups", Options{Compression: Snappy, RowGroupRows: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, e *env) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				opts := tc.opts
				opts.Allocator = mem
				w := e.open(t, &opts)
				schema := allTypes()
				rec := recordJSON(t, mem, schema, allTypesRows)
				defer rec.Release()
				writeTxn(t, w, "ns.all", schema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{
					"2024-01-01": {rec},
					"2024-01-02": {rec, rec},
				})
				info, err := w.Describe(context.Background(), "ns.all")
				if err != nil {
					t.Fatal(err)
				}
				if !info.Schema.Equal(schema) {
					t.Errorf("table schema\n%v\nwant\n%v", info.Schema, schema)
				}
				res := scanAll(t, w, "ns.all", warehouse.ScanOptions{})
				wantSchema := arrow.NewSchema(append(schema.Fields(), arrow.Field{Name: "ds", Type: arrow.BinaryTypes.String}), nil)
				if !res.schema.Equal(wantSchema) {
					t.Errorf("scan schema\n%v\nwant\n%v", res.schema, wantSchema)
				}
				in := rowsOf(t, rec)
				want := append(withDS(in, "2024-01-01"), withDS(append(in, in...), "2024-01-02")...)
				if !reflect.DeepEqual(res.rows, want) {
					t.Errorf("rows\n%v\nwant\n%v", res.rows, want)
				}
				if limit := int64(tc.opts.RowGroupRows); limit > 0 && res.maxRows > limit {
					t.Errorf("batch of %d rows, RowGroupRows is %d", res.maxRows, limit)
				}
			})
		})
	}
}

func TestProjectionAndRanges(t *testing.T) {
	forEachBackend(t, testProjectionAndRanges)
}

func testProjectionAndRanges(t *testing.T, e *env) {
	w := e.open(t, &Options{RowGroupRows: 2})
	mem := memory.DefaultAllocator
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64},
		{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32, Nullable: true}), Nullable: true},
	}, nil)
	parts := map[string][]arrow.RecordBatch{}
	for i, ds := range []string{"2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05"} {
		rows := `[{"a": ` + string(rune('1'+i)) + `, "b": "` + ds + `", "st": {"x": 1}}, {"a": 0, "b": null, "st": null}, {"a": 9, "b": "z", "st": {"x": null}}]`
		parts[ds] = []arrow.RecordBatch{recordJSON(t, mem, schema, rows)}
	}
	writeTxn(t, w, "ns.p", schema, warehouse.WriteOptions{}, parts)

	allRows := func(dss ...string) []map[string]any {
		var out []map[string]any
		for _, ds := range dss {
			out = append(out, withDS(rowsOf(t, parts[ds][0]), ds)...)
		}
		return out
	}
	project := func(rows []map[string]any, cols ...string) []map[string]any {
		out := []map[string]any{}
		for _, r := range rows {
			p := map[string]any{}
			for _, c := range cols {
				p[c] = r[c]
			}
			out = append(out, p)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		opts     warehouse.ScanOptions
		wantCols []string
		wantDS   []string
		wantErr  string
	}{
		{name: "all", opts: warehouse.ScanOptions{}, wantCols: []string{"a", "b", "st", "ds"},
			wantDS: []string{"2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05"}},
		{name: "reorder", opts: warehouse.ScanOptions{Columns: []string{"b", "ds", "a"}}, wantCols: []string{"b", "ds", "a"},
			wantDS: []string{"2024-01-01", "2024-01-02", "2024-01-03", "2024-01-05"}},
		{name: "nested only", opts: warehouse.ScanOptions{Columns: []string{"st"}, StartDS: "2024-01-02", EndDS: "2024-01-02"},
			wantCols: []string{"st"}, wantDS: []string{"2024-01-02"}},
		{name: "ds only", opts: warehouse.ScanOptions{Columns: []string{"ds"}, StartDS: "2024-01-03"}, wantCols: []string{"ds"},
			wantDS: []string{"2024-01-03", "2024-01-05"}},
		{name: "end only", opts: warehouse.ScanOptions{Columns: []string{"a"}, EndDS: "2024-01-02"}, wantCols: []string{"a"},
			wantDS: []string{"2024-01-01", "2024-01-02"}},
		{name: "range with gap", opts: warehouse.ScanOptions{StartDS: "2024-01-03", EndDS: "2024-01-31"}, wantCols: []string{"a", "b", "st", "ds"},
			wantDS: []string{"2024-01-03", "2024-01-05"}},
		{name: "empty range", opts: warehouse.ScanOptions{StartDS: "2024-01-04", EndDS: "2024-01-04"}, wantCols: []string{"a", "b", "st", "ds"}},
		{name: "inverted range", opts: warehouse.ScanOptions{StartDS: "2024-01-05", EndDS: "2024-01-01"}, wantCols: []string{"a", "b", "st", "ds"}},
		{name: "unknown column", opts: warehouse.ScanOptions{Columns: []string{"a", "nope"}}, wantErr: `"nope"`},
		{name: "bad start", opts: warehouse.ScanOptions{StartDS: "2024-1-1"}, wantErr: "2024-1-1"},
		{name: "bad end", opts: warehouse.ScanOptions{EndDS: "yesterday"}, wantErr: "yesterday"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantErr != "" {
				_, err := w.Scan(context.Background(), "ns.p", tc.opts)
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "ns.p") {
					t.Fatalf("Scan error %v, want one naming %s and the table", err, tc.wantErr)
				}
				return
			}
			res := scanAll(t, w, "ns.p", tc.opts)
			var names []string
			for _, f := range res.schema.Fields() {
				names = append(names, f.Name)
			}
			if !reflect.DeepEqual(names, tc.wantCols) {
				t.Errorf("columns %v, want %v", names, tc.wantCols)
			}
			want := project(allRows(tc.wantDS...), tc.wantCols...)
			if !reflect.DeepEqual(res.rows, want) {
				t.Errorf("rows\n%v\nwant\n%v", res.rows, want)
			}
			if res.maxRows > 2 {
				t.Errorf("batch of %d rows, RowGroupRows is 2", res.maxRows)
			}
		})
	}
}

// TestProjectionDecodesOnlyProjected checks that a projected scan does not
// read the other columns: it allocates far less than their size.
func TestProjectionDecodesOnlyProjected(t *testing.T) {
	forEachBackend(t, testProjectionDecodesOnlyProjected)
}

func testProjectionDecodesOnlyProjected(t *testing.T, e *env) {
	alloc := &peakAllocator{Allocator: memory.NewGoAllocator()}
	w := e.open(t, &Options{Allocator: alloc, Compression: Uncompressed})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "small", Type: arrow.PrimitiveTypes.Int32},
		{Name: "big", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	const rows, width = 2000, 1000
	for i := range rows {
		b.Field(0).(*array.Int32Builder).Append(int32(i))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("%0*d", width, i))
	}
	rec := b.NewRecordBatch()
	writeTxn(t, w, "ns.wide", schema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{"2024-01-01": {rec}})

	for _, tc := range []struct {
		cols     []string
		min, max int64
	}{
		{[]string{"small", "ds"}, 0, rows * width / 10},
		{[]string{"big"}, rows * width, 1 << 40},
	} {
		before := alloc.total.Load()
		res := scanAll(t, w, "ns.wide", warehouse.ScanOptions{Columns: tc.cols})
		if len(res.rows) != rows {
			t.Fatalf("%v: %d rows", tc.cols, len(res.rows))
		}
		n := alloc.total.Load() - before
		t.Logf("scan of %v allocated %d bytes", tc.cols, n)
		if n < tc.min || n > tc.max {
			t.Errorf("scan of %v allocated %d bytes, want [%d, %d]", tc.cols, n, tc.min, tc.max)
		}
	}
}

func TestOverwriteAndAppend(t *testing.T) {
	forEachBackend(t, testOverwriteAndAppend)
}

func testOverwriteAndAppend(t *testing.T, e *env) {
	ctx := context.Background()
	w := e.open(t, nil)
	mem := memory.DefaultAllocator
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	rec := func(vals string) arrow.RecordBatch {
		var rows []string
		for _, v := range strings.Split(vals, ",") {
			rows = append(rows, `{"v": `+v+`}`)
		}
		return recordJSON(t, mem, schema, "["+strings.Join(rows, ",")+"]")
	}
	write := func(mode warehouse.WriteMode, parts map[string]string) {
		t.Helper()
		m := map[string][]arrow.RecordBatch{}
		for ds, vals := range parts {
			m[ds] = []arrow.RecordBatch{rec(vals)}
		}
		writeTxn(t, w, "ns.t", schema, warehouse.WriteOptions{Mode: mode}, m)
	}
	values := func() map[string][]int64 {
		t.Helper()
		out := map[string][]int64{}
		for _, r := range scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows {
			ds := r["ds"].(string)
			v, err := r["v"].(json.Number).Int64()
			if err != nil {
				t.Fatal(err)
			}
			out[ds] = append(out[ds], v)
		}
		return out
	}
	files := func(ds string) []string {
		t.Helper()
		info, err := w.Describe(ctx, "ns.t")
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range info.Partitions {
			if p.DS == ds {
				return p.Files
			}
		}
		return nil
	}

	write(warehouse.Overwrite, map[string]string{"2024-01-01": "1,2", "2024-01-02": "3"})
	oldDay2 := files("2024-01-02")
	write(warehouse.Overwrite, map[string]string{"2024-01-02": "30,31", "2024-01-03": "40"})
	if got, want := values(), map[string][]int64{"2024-01-01": {1, 2}, "2024-01-02": {30, 31}, "2024-01-03": {40}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after overwrite: %v, want %v", got, want)
	}
	for _, f := range oldDay2 {
		if _, err := e.stat(t, f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("replaced file %s still exists (stat: %v)", f, err)
		}
	}

	write(warehouse.Append, map[string]string{"2024-01-01": "5", "2024-01-04": "6"})
	write(warehouse.Append, map[string]string{"2024-01-01": "7"})
	if got, want := values(), map[string][]int64{"2024-01-01": {1, 2, 5, 7}, "2024-01-02": {30, 31}, "2024-01-03": {40}, "2024-01-04": {6}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after appends: %v, want %v", got, want)
	}
	info, err := w.Describe(ctx, "ns.t")
	if err != nil {
		t.Fatal(err)
	}
	var dss []string
	for _, p := range info.Partitions {
		dss = append(dss, p.DS)
		for _, f := range p.Files {
			st, err := e.stat(t, f) // also checks that f is absolute, or a gs:// URI
			if err != nil {
				t.Errorf("partition %s file %s: stat=%v", p.DS, f, err)
				continue
			}
			if p.Bytes <= 0 || st.Size > p.Bytes {
				t.Errorf("partition %s: bytes %d, file size %d", p.DS, p.Bytes, st.Size)
			}
		}
	}
	if want := []string{"2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"}; !reflect.DeepEqual(dss, want) {
		t.Errorf("partitions %v, want %v", dss, want)
	}
	if p := info.Partitions[0]; p.Rows != 4 || len(p.Files) != 3 {
		t.Errorf("appended partition: rows %d files %v, want 4 rows in 3 files", p.Rows, p.Files)
	}

	// An overwrite after appends replaces every file of the partition.
	day1 := files("2024-01-01")
	write(warehouse.Overwrite, map[string]string{"2024-01-01": "100"})
	if got := values()["2024-01-01"]; !reflect.DeepEqual(got, []int64{100}) {
		t.Errorf("overwritten appended partition: %v", got)
	}
	for _, f := range day1 {
		if _, err := e.stat(t, f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("replaced file %s still exists", f)
		}
	}
}

func TestEmptyPartition(t *testing.T) {
	forEachBackend(t, testEmptyPartition)
}

func testEmptyPartition(t *testing.T, e *env) {
	ctx := context.Background()
	w := e.open(t, nil)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "v", Type: arrow.PrimitiveTypes.Int64},
		{Name: "l", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	empty := recordJSON(t, memory.DefaultAllocator, schema, `[]`)
	one := recordJSON(t, memory.DefaultAllocator, schema, `[{"v": 1, "l": ["x"]}]`)
	writeTxn(t, w, "ns.e", schema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{
		"2024-01-01": {one},
		"2024-01-02": {empty},
	})
	info, err := w.Describe(ctx, "ns.e")
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Partitions) != 2 || info.Partitions[1].DS != "2024-01-02" || info.Partitions[1].Rows != 0 {
		t.Fatalf("partitions %+v, want 2024-01-02 committed with 0 rows", info.Partitions)
	}
	for _, f := range info.Partitions[1].Files {
		if _, err := e.stat(t, f); err != nil {
			t.Errorf("empty partition file: %v", err)
		}
	}
	for _, cols := range [][]string{nil, {"ds"}, {"l"}} {
		res := scanAll(t, w, "ns.e", warehouse.ScanOptions{StartDS: "2024-01-02", Columns: cols})
		if len(res.rows) != 0 {
			t.Errorf("columns %v: empty partition returned %v", cols, res.rows)
		}
	}
	if got := scanAll(t, w, "ns.e", warehouse.ScanOptions{}).rows; len(got) != 1 {
		t.Errorf("rows %v, want 1", got)
	}
	// Overwriting a partition with nothing empties it.
	writeTxn(t, w, "ns.e", schema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{"2024-01-01": {empty}})
	if got := scanAll(t, w, "ns.e", warehouse.ScanOptions{}).rows; len(got) != 0 {
		t.Errorf("rows after emptying %v", got)
	}
}

func TestUncommittedInvisible(t *testing.T) {
	forEachBackend(t, testUncommittedInvisible)
}

func testUncommittedInvisible(t *testing.T, e *env) {
	ctx := context.Background()
	w := e.open(t, nil)
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	rec := recordJSON(t, memory.DefaultAllocator, schema, `[{"v": 1}]`)

	// A new table is not visible before its first commit.
	txn, err := w.Begin(ctx, "ns.new", schema, warehouse.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := txn.Write(ctx, "2024-01-01", rec); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Describe(ctx, "ns.new"); !errors.Is(err, warehouse.ErrTableNotFound) {
		t.Errorf("Describe before commit: %v, want ErrTableNotFound", err)
	}
	if tables, _ := w.Tables(ctx); len(tables) != 0 {
		t.Errorf("Tables before commit: %v", tables)
	}
	if err := txn.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := txn.Abort(); err != nil {
		t.Errorf("second Abort: %v", err)
	}
	if err := txn.Commit(ctx); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	if err := txn.Write(ctx, "2024-01-01", rec); err == nil {
		t.Error("Write after Abort succeeded")
	}
	if entries := e.list(t, "ns/new/"+stagingName); len(entries) != 0 {
		t.Errorf("staging left after Abort: %v", entries)
	}

	// An existing table keeps its data while a transaction is open or aborted.
	writeTxn(t, w, "ns.t", schema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{"2024-01-01": {rec}})
	before := scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows
	for _, mode := range []warehouse.WriteMode{warehouse.Overwrite, warehouse.Append} {
		txn, err := w.Begin(ctx, "ns.t", schema, warehouse.WriteOptions{Mode: mode, SemanticHash: "h2"})
		if err != nil {
			t.Fatal(err)
		}
		for _, ds := range []string{"2024-01-01", "2024-01-02"} {
			if err := txn.Write(ctx, ds, rec); err != nil {
				t.Fatal(err)
			}
		}
		if got := scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows; !reflect.DeepEqual(got, before) {
			t.Errorf("mode %d: open transaction visible: %v", mode, got)
		}
		if err := txn.Abort(); err != nil {
			t.Fatal(err)
		}
		if got := scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows; !reflect.DeepEqual(got, before) {
			t.Errorf("mode %d: aborted transaction visible: %v", mode, got)
		}
	}
	if info, _ := w.Describe(ctx, "ns.t"); info.SemanticHash != "" {
		t.Errorf("aborted transaction set the semantic hash %q", info.SemanticHash)
	}

	// Commit then Abort: Abort does nothing; a second Commit fails.
	txn, err = w.Begin(ctx, "ns.t", schema, warehouse.WriteOptions{Mode: warehouse.Append})
	if err != nil {
		t.Fatal(err)
	}
	if err := txn.Write(ctx, "2024-01-01", rec); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := txn.Abort(); err != nil {
		t.Errorf("Abort after Commit: %v", err)
	}
	if err := txn.Commit(ctx); err == nil {
		t.Error("second Commit succeeded")
	}
	if got := scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows; len(got) != 2 {
		t.Errorf("rows after append %v", got)
	}
	if entries := e.list(t, "ns/t/"+stagingName); len(entries) != 0 {
		t.Errorf("staging left after Commit: %v", entries)
	}
}

func TestSchemaEvolution(t *testing.T) {
	forEachBackend(t, testSchemaEvolution)
}

func testSchemaEvolution(t *testing.T, e *env) {
	ctx := context.Background()
	w := e.open(t, nil)
	mem := memory.DefaultAllocator
	v1 := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "tags", Type: arrow.ListOfNonNullable(arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	writeTxn(t, w, "ns.ev", v1, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{
		"2024-01-01": {recordJSON(t, mem, v1, `[{"id": 1, "name": "a", "tags": ["x"]}]`)},
	})

	// Add a column (also a struct), reorder the old ones and make a list's
	// elements nullable.
	v2 := arrow.NewSchema([]arrow.Field{
		{Name: "score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "extra", Type: arrow.StructOf(arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int32}), Nullable: true},
	}, nil)
	writeTxn(t, w, "ns.ev", v2, warehouse.WriteOptions{Mode: warehouse.Append}, map[string][]arrow.RecordBatch{
		"2024-01-02": {recordJSON(t, mem, v2, `[{"id": 2, "name": "b", "score": 0.5, "tags": [null, "y"], "extra": {"n": 3}}]`)},
	})
	// Drop a nullable column.
	v3 := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	writeTxn(t, w, "ns.ev", v3, warehouse.WriteOptions{Mode: warehouse.Append}, map[string][]arrow.RecordBatch{
		"2024-01-03": {recordJSON(t, mem, v3, `[{"id": 3}]`)},
	})

	info, err := w.Describe(ctx, "ns.ev")
	if err != nil {
		t.Fatal(err)
	}
	want := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "extra", Type: arrow.StructOf(arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int32}), Nullable: true},
	}, nil)
	if !info.Schema.Equal(want) {
		t.Fatalf("schema\n%v\nwant\n%v", info.Schema, want)
	}
	got := scanAll(t, w, "ns.ev", warehouse.ScanOptions{}).rows
	wantRows := decodeRows(t, `[
	{"id": 1, "name": "a", "tags": ["x"], "score": null, "extra": null, "ds": "2024-01-01"},
	{"id": 2, "name": "b", "tags": [null, "y"], "score": 0.5, "extra": {"n": 3}, "ds": "2024-01-02"},
	{"id": 3, "name": null, "tags": null, "score": null, "extra": null, "ds": "2024-01-03"}
]`)
	if !reflect.DeepEqual(got, wantRows) {
		t.Errorf("rows\n%v\nwant\n%v", got, wantRows)
	}
	// Projection of a column that an old file lacks.
	if got := scanAll(t, w, "ns.ev", warehouse.ScanOptions{Columns: []string{"score"}, EndDS: "2024-01-01"}).rows; !reflect.DeepEqual(got, []map[string]any{{"score": nil}}) {
		t.Errorf("projected new column in old file: %v", got)
	}

	for _, tc := range []struct {
		name   string
		schema *arrow.Schema
		column string
	}{
		{"type change", arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}}, nil), "id"},
		{"width change", arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int32}}, nil), "id"},
		{"list element change", arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "tags", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)}}, nil), "tags"},
		{"struct field added", arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "extra", Type: arrow.StructOf(
			arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int32}, arrow.Field{Name: "m", Type: arrow.PrimitiveTypes.Int32})}}, nil), "extra"},
		{"non-nullable column missing", arrow.NewSchema([]arrow.Field{{Name: "name", Type: arrow.BinaryTypes.String}}, nil), "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.Begin(ctx, "ns.ev", tc.schema, warehouse.WriteOptions{})
			if !errors.Is(err, warehouse.ErrSchemaConflict) || !strings.Contains(err.Error(), `"`+tc.column+`"`) || !strings.Contains(err.Error(), "ns.ev") {
				t.Errorf("Begin: %v, want ErrSchemaConflict naming %q and the table", err, tc.column)
			}
		})
	}

	// A conflicting schema committed concurrently is caught at Commit.
	t.Run("conflict at commit", func(t *testing.T) {
		a := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "c", Type: arrow.PrimitiveTypes.Int64}}, nil)
		b := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "c", Type: arrow.BinaryTypes.String}}, nil)
		ta, err := w.Begin(ctx, "ns.ev", a, warehouse.WriteOptions{Mode: warehouse.Append})
		if err != nil {
			t.Fatal(err)
		}
		tb, err := w.Begin(ctx, "ns.ev", b, warehouse.WriteOptions{Mode: warehouse.Append})
		if err != nil {
			t.Fatal(err)
		}
		if err := ta.Write(ctx, "2024-01-04", recordJSON(t, mem, a, `[{"id": 4, "c": 4}]`)); err != nil {
			t.Fatal(err)
		}
		if err := tb.Write(ctx, "2024-01-04", recordJSON(t, mem, b, `[{"id": 5, "c": "5"}]`)); err != nil {
			t.Fatal(err)
		}
		if err := ta.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := tb.Commit(ctx); !errors.Is(err, warehouse.ErrSchemaConflict) {
			t.Fatalf("second Commit: %v, want ErrSchemaConflict", err)
		}
		rows := scanAll(t, w, "ns.ev", warehouse.ScanOptions{Columns: []string{"id", "c"}, StartDS: "2024-01-04"}).rows
		if !reflect.DeepEqual(rows, decodeRows(t, `[{"id": 4, "c": 4}]`)) {
			t.Errorf("rows %v", rows)
		}
	})
}

func TestBeginAndWriteErrors(t *testing.T) {
	forEachBackend(t, testBeginAndWriteErrors)
}

func testBeginAndWriteErrors(t *testing.T, e *env) {
	ctx := context.Background()
	w := e.open(t, nil)
	mem := memory.DefaultAllocator
	good := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	for _, tc := range []struct {
		name    string
		table   string
		schema  *arrow.Schema
		opts    warehouse.WriteOptions
		wantErr string
	}{
		{"no namespace", "t", good, warehouse.WriteOptions{}, `"t"`},
		{"three parts", "a.b.c", good, warehouse.WriteOptions{}, `"a.b.c"`},
		{"dash", "ns.my-table", good, warehouse.WriteOptions{}, `"ns.my-table"`},
		{"empty part", "ns.", good, warehouse.WriteOptions{}, `"ns."`},
		{"traversal", "...", good, warehouse.WriteOptions{}, `"..."`},
		{"nil schema", "ns.t", nil, warehouse.WriteOptions{}, "nil schema"},
		{"ds column", "ns.t", arrow.NewSchema([]arrow.Field{{Name: "ds", Type: arrow.BinaryTypes.String}}, nil), warehouse.WriteOptions{}, `"ds"`},
		{"duplicate column", "ns.t", arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: arrow.PrimitiveTypes.Int32}}, nil), warehouse.WriteOptions{}, `duplicate column "v"`},
		{"duration", "ns.t", arrow.NewSchema([]arrow.Field{{Name: "d", Type: arrow.FixedWidthTypes.Duration_ms}}, nil), warehouse.WriteOptions{}, `column "d"`},
		{"date64", "ns.t", arrow.NewSchema([]arrow.Field{{Name: "d", Type: arrow.FixedWidthTypes.Date64}}, nil), warehouse.WriteOptions{}, `column "d"`},
		{"timestamp seconds", "ns.t", arrow.NewSchema([]arrow.Field{{Name: "d", Type: arrow.FixedWidthTypes.Timestamp_s}}, nil), warehouse.WriteOptions{}, `column "d"`},
		{"nested unsupported", "ns.t", arrow.NewSchema([]arrow.Field{{Name: "d", Type: arrow.ListOf(arrow.FixedWidthTypes.Float16)}}, nil), warehouse.WriteOptions{}, `column "d"`},
		{"bad mode", "ns.t", good, warehouse.WriteOptions{Mode: 7}, "mode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := w.Begin(ctx, tc.table, tc.schema, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Begin(%q): %v, want an error containing %s", tc.table, err, tc.wantErr)
			}
		})
	}
	for _, table := range []string{"t", "ns.a-b", "ns..x"} {
		if _, err := w.Describe(ctx, table); err == nil || !strings.Contains(err.Error(), table) {
			t.Errorf("Describe(%q): %v", table, err)
		}
		if _, err := w.Scan(ctx, table, warehouse.ScanOptions{}); err == nil || !strings.Contains(err.Error(), table) {
			t.Errorf("Scan(%q): %v", table, err)
		}
	}

	txn, err := w.Begin(ctx, "ns.t", good, warehouse.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Abort()
	other := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int32}}, nil)
	nullable := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	withMeta := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, func() *arrow.Metadata { m := arrow.NewMetadata([]string{"k"}, []string{"v"}); return &m }())
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for _, tc := range []struct {
		name    string
		ctx     context.Context
		ds      string
		rec     arrow.RecordBatch
		wantErr string
	}{
		{"bad ds", ctx, "2024-13-01", recordJSON(t, mem, good, `[{"v": 1}]`), "2024-13-01"},
		{"ds with path", ctx, "../x", recordJSON(t, mem, good, `[{"v": 1}]`), "../x"},
		{"other type", ctx, "2024-01-01", recordJSON(t, mem, other, `[{"v": 1}]`), "schema"},
		{"other nullability", ctx, "2024-01-01", recordJSON(t, mem, nullable, `[{"v": 1}]`), "schema"},
		{"nil record", ctx, "2024-01-01", nil, "nil record"},
		{"canceled", canceled, "2024-01-01", recordJSON(t, mem, good, `[{"v": 1}]`), "canceled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := txn.Write(tc.ctx, tc.ds, tc.rec)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "ns.t") {
				t.Errorf("Write: %v, want an error containing %q and the table", err, tc.wantErr)
			}
		})
	}
	// Schema metadata is not part of the comparison.
	if err := txn.Write(ctx, "2024-01-01", recordJSON(t, mem, withMeta, `[{"v": 1}]`)); err != nil {
		t.Errorf("Write with schema metadata: %v", err)
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if rows := scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows; len(rows) != 1 {
		t.Errorf("rows %v", rows)
	}
}

func TestTablesDescribeAndManifest(t *testing.T) {
	forEachBackend(t, testTablesDescribeAndManifest)
}

func testTablesDescribeAndManifest(t *testing.T, e *env) {
	ctx := context.Background()
	w := e.open(t, nil)
	mem := memory.DefaultAllocator
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "ts", Type: arrow.FixedWidthTypes.Timestamp_ms, Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32), Nullable: true},
	}, nil)
	rec := recordJSON(t, mem, schema, `[{"id": 1, "ts": 0, "m": [{"key": "a", "value": 1}]}]`)
	for _, table := range []string{"zeta.t", "alpha.b", "alpha.a_1", "Beta.X"} {
		writeTxn(t, w, table, schema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{"2024-01-01": {rec}})
	}
	// Not tables: a directory without a manifest, a badly named one, a file.
	for _, d := range []string{"alpha/nomanifest", "bad-ns/t", "alpha/bad-name"} {
		if e.gcs {
			e.put(t, d+"/x", nil) // GCS has no empty directories
		} else if err := os.MkdirAll(filepath.Join(e.root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	e.put(t, "bad-ns/t/"+manifestName, []byte("{}"))
	e.put(t, "README", nil)
	tables, err := w.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Beta.X", "alpha.a_1", "alpha.b", "zeta.t"}; !reflect.DeepEqual(tables, want) {
		t.Errorf("Tables %v, want %v", tables, want)
	}

	for _, missing := range []string{"alpha.nomanifest", "nope.nope"} {
		if _, err := w.Describe(ctx, missing); !errors.Is(err, warehouse.ErrTableNotFound) || !strings.Contains(err.Error(), missing) {
			t.Errorf("Describe(%s): %v, want ErrTableNotFound naming the table", missing, err)
		}
		if _, err := w.Scan(ctx, missing, warehouse.ScanOptions{}); !errors.Is(err, warehouse.ErrTableNotFound) || !strings.Contains(err.Error(), missing) {
			t.Errorf("Scan(%s): %v, want ErrTableNotFound naming the table", missing, err)
		}
	}

	// Properties merge; the semantic hash is replaced only when given.
	writeTxn(t, w, "alpha.b", schema, warehouse.WriteOptions{Mode: warehouse.Append, Properties: map[string]string{"a": "1", "b": "1"}, SemanticHash: "h1"},
		map[string][]arrow.RecordBatch{"2024-01-02": {rec}})
	writeTxn(t, w, "alpha.b", schema, warehouse.WriteOptions{Mode: warehouse.Append, Properties: map[string]string{"b": "2"}},
		map[string][]arrow.RecordBatch{})
	info, err := w.Describe(ctx, "alpha.b")
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"a": "1", "b": "2"}; !reflect.DeepEqual(info.Properties, want) || info.SemanticHash != "h1" || info.Name != "alpha.b" {
		t.Errorf("Describe: name %q properties %v hash %q", info.Name, info.Properties, info.SemanticHash)
	}
	if len(info.Partitions) != 2 || info.Partitions[0].DS != "2024-01-01" || info.Partitions[1].Rows != 1 {
		t.Errorf("partitions %+v", info.Partitions)
	}
	for _, p := range info.Partitions {
		for _, f := range p.Files {
			want := filepath.Join(e.root, "alpha", "b", "ds="+p.DS) + string(filepath.Separator)
			if e.gcs {
				want = e.root + "/alpha/b/ds=" + p.DS + "/"
			}
			if !strings.HasPrefix(f, want) || !strings.HasPrefix(filepath.Base(f), "part-") || filepath.Ext(f) != ".parquet" {
				t.Errorf("file %s is not under %s as part-*.parquet", f, want)
			}
			checkHiveFile(t, e, f, schema)
		}
	}

	// The manifest in storage.
	b := e.read(t, "alpha/b/"+manifestName)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["formatVersion"] != 1.0 || m["version"] != 3.0 || m["table"] != "alpha.b" || m["semanticHash"] != "h1" {
		t.Errorf("manifest header: %s", b)
	}
	var fields []any
	if err := json.Unmarshal([]byte(`[
	{"name": "id", "type": "int64", "nullable": false},
	{"name": "ts", "type": "timestamp", "unit": "ms", "timezone": "UTC", "nullable": true},
	{"name": "m", "type": "map", "nullable": true, "children": [
		{"name": "key", "type": "utf8", "nullable": false},
		{"name": "value", "type": "int32", "nullable": true}]}]`), &fields); err != nil {
		t.Fatal(err)
	}
	if got := m["schema"].(map[string]any)["fields"]; !reflect.DeepEqual(got, fields) {
		t.Errorf("manifest schema %v, want %v", got, fields)
	}
	p := m["partitions"].(map[string]any)["2024-01-02"].(map[string]any)
	if files := p["files"].([]any); len(files) != 1 || !strings.HasPrefix(files[0].(string), "ds=2024-01-02/part-") || p["rows"] != 1.0 || p["bytes"].(float64) <= 0 {
		t.Errorf("manifest partition %v", p)
	}
}

// checkHiveFile checks that a data file holds exactly the data columns: the
// partition column is in its path only.
func checkHiveFile(t *testing.T, e *env, path string, schema *arrow.Schema) {
	t.Helper()
	var rdr *file.Reader
	if e.gcs {
		br, err := e.st.Open(context.Background(), e.rel(t, path))
		if err != nil {
			t.Fatal(err)
		}
		defer br.Close()
		if rdr, err = file.NewParquetReader(io.NewSectionReader(br, 0, br.Size())); err != nil {
			t.Fatal(err)
		}
	} else {
		var err error
		if rdr, err = file.OpenParquetFile(path, false); err != nil {
			t.Fatal(err)
		}
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := fr.Schema()
	if err != nil {
		t.Fatal(err)
	}
	var names, want []string
	for _, f := range sc.Fields() {
		names = append(names, f.Name)
	}
	for _, f := range schema.Fields() {
		want = append(want, f.Name)
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("%s has columns %v, want %v", path, names, want)
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name     string
		root     string
		opts     *Options
		wantRoot string
		wantErr  string
	}{
		{name: "path", root: dir, wantRoot: dir},
		{name: "created", root: filepath.Join(dir, "a", "b"), wantRoot: filepath.Join(dir, "a", "b")},
		{name: "file uri", root: "file://" + dir + "/u", wantRoot: filepath.Join(dir, "u")},
		{name: "file uri localhost", root: "file://localhost" + dir + "/v", wantRoot: filepath.Join(dir, "v")},
		{name: "options", root: dir, opts: &Options{RowGroupRows: 10, Compression: Zstd, Allocator: memory.NewGoAllocator()}, wantRoot: dir},
		{name: "gcs without bucket", root: "gs:///wh", wantErr: "without a bucket"},
		{name: "s3", root: "s3://bucket/wh", wantErr: "unsupported warehouse root scheme"},
		{name: "remote host", root: "file://host/x", wantErr: "host"},
		{name: "empty", root: "", wantErr: "empty"},
		{name: "negative rows", root: dir, opts: &Options{RowGroupRows: -1}, wantErr: "RowGroupRows"},
		{name: "bad compression", root: dir, opts: &Options{Compression: 42}, wantErr: "compression"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Open(tc.root, tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Open(%q): %v, want an error containing %q", tc.root, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if w.Root() != tc.wantRoot {
				t.Errorf("Root %q, want %q", w.Root(), tc.wantRoot)
			}
			if st, err := os.Stat(tc.wantRoot); err != nil || !st.IsDir() {
				t.Errorf("root not created: %v", err)
			}
		})
	}
}

func TestClosedWarehouse(t *testing.T) {
	forEachBackend(t, testClosedWarehouse)
}

func testClosedWarehouse(t *testing.T, e *env) {
	ctx := context.Background()
	w := e.open(t, nil)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	if _, err := w.Tables(ctx); err == nil {
		t.Error("Tables after Close succeeded")
	}
	if _, err := w.Describe(ctx, "ns.t"); err == nil {
		t.Error("Describe after Close succeeded")
	}
	if _, err := w.Scan(ctx, "ns.t", warehouse.ScanOptions{}); err == nil {
		t.Error("Scan after Close succeeded")
	}
	if _, err := w.Begin(ctx, "ns.t", schema, warehouse.WriteOptions{}); err == nil {
		t.Error("Begin after Close succeeded")
	}
}

func TestSchemaJSONRoundTrip(t *testing.T) {
	schema := allTypes()
	js, err := batch.SchemaToJSON(schema)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(js)
	if err != nil {
		t.Fatal(err)
	}
	var back batch.JSONSchema
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got, err := batch.SchemaFromJSON(back)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(schema) || got.String() != schema.String() {
		t.Errorf("round trip\n%v\nwant\n%v", got, schema)
	}
	for _, bad := range []string{
		`{"fields": [{"name": "a", "type": "decimal"}]}`,
		`{"fields": [{"name": "a", "type": "timestamp", "unit": "s"}]}`,
		`{"fields": [{"name": "a", "type": "list"}]}`,
		`{"fields": [{"name": "a", "type": "map", "children": [{"name": "key", "type": "utf8"}]}]}`,
		`{"fields": [{"name": "a", "type": "struct"}]}`,
	} {
		var js batch.JSONSchema
		if err := json.Unmarshal([]byte(bad), &js); err != nil {
			t.Fatal(err)
		}
		if _, err := batch.SchemaFromJSON(js); err == nil {
			t.Errorf("batch.SchemaFromJSON(%s) succeeded", bad)
		}
	}
}

func TestBadManifest(t *testing.T) {
	forEachBackend(t, testBadManifest)
}

func testBadManifest(t *testing.T, e *env) {
	ctx := context.Background()
	w := e.open(t, nil)
	for _, tc := range []struct{ name, content string }{
		{"not json", "{"},
		{"future format", `{"formatVersion": 99, "schema": {"fields": []}}`},
		{"escaping path", `{"formatVersion": 1, "schema": {"fields": []}, "partitions": {"2024-01-01": {"files": ["../../x.parquet"]}}}`},
		{"bad ds", `{"formatVersion": 1, "schema": {"fields": []}, "partitions": {"yesterday": {"files": []}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.put(t, "ns/t/"+manifestName, []byte(tc.content))
			if _, err := w.Describe(ctx, "ns.t"); err == nil || errors.Is(err, warehouse.ErrTableNotFound) || !strings.Contains(err.Error(), "ns.t") {
				t.Errorf("Describe: %v", err)
			}
			// Opening still works: the table is only unusable.
			w2, err := Open(e.root, nil)
			if err != nil {
				t.Fatalf("Open with a bad manifest: %v", err)
			}
			w2.Close()
		})
	}
}
