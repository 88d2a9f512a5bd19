// SPDX-License-Identifier: Apache-2.0

package importer

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// writeParquet writes the rows of a JSON array to a Parquet file of schema
// with row groups of at most 3 rows.
func writeParquet(t *testing.T, schema *arrow.Schema, rowsJSON string) string {
	t.Helper()
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(rowsJSON))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "in.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(schema, f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(3)), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportParquet(t *testing.T) {
	strDS := arrow.NewSchema([]arrow.Field{
		{Name: "ds", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64},
		{Name: "user_id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "price", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	const strRows = `[
		{"ds": "2023-11-01", "ts": 1, "user_id": 5, "price": 1.5},
		{"ds": "2023-11-02", "ts": 2, "user_id": 7, "price": null},
		{"ds": "2023-11-01", "ts": 3, "user_id": 5, "price": 3},
		{"ds": "2023-11-03", "ts": 4, "user_id": null, "price": 4},
		{"ds": "2023-11-02", "ts": 5, "user_id": 9, "price": 5}
	]`
	// strByDS is strRows without ds, by ds, as the imports cast them.
	strByDS := map[string][]string{
		"2023-11-01": {"1|5|1.5", "3|5|3"},
		"2023-11-02": {"2|7|∅", "5|9|5"},
		"2023-11-03": {"4|∅|4"},
	}
	dateDS := arrow.NewSchema([]arrow.Field{
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "v", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	noDS := arrow.NewSchema([]arrow.Field{
		{Name: "user_id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "v", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	for _, tc := range []struct {
		name   string
		schema *arrow.Schema
		rows   string
		opts   Options
		want   string // data schema
		byDS   map[string][]string
		err    string
		txn    string
		// leaky skips the allocation check: arrow-go's number-to-string
		// cast kernel does not release a builder buffer.
		leaky bool
	}{
		{
			name: "string ds column", schema: strDS, rows: strRows, opts: Options{DSColumn: "ds", BatchRows: 2},
			want: "ts:int64,user_id:int64,price:float64",
			byDS: strByDS, txn: "committed",
		},
		{
			name: "overrides cast", schema: strDS, rows: strRows,
			opts: Options{DSColumn: "ds", SchemaOverrides: spec(t, "user_id:string,price:float")},
			want: "ts:int64,user_id:utf8,price:float32",
			byDS: strByDS, txn: "committed", leaky: true,
		},
		{
			name: "numeric overrides cast", schema: strDS, rows: strRows,
			opts: Options{DSColumn: "ds", SchemaOverrides: spec(t, "user_id:double,price:float,ts:int")},
			want: "ts:int32,user_id:float64,price:float32",
			byDS: strByDS, txn: "committed",
		},
		{
			name: "date32 ds column", schema: dateDS,
			rows: `[{"day": "2023-11-30", "v": "a"}, {"day": "2023-12-01", "v": "b"}, {"day": "2023-11-30", "v": null}]`,
			opts: Options{DSColumn: "day"}, want: "v:utf8",
			byDS: map[string][]string{"2023-11-30": {"a", "∅"}, "2023-12-01": {"b"}},
			txn:  "committed",
		},
		{
			name: "fixed ds", schema: noDS, rows: `[{"user_id": 1, "v": "x"}, {"user_id": 2, "v": "y"}]`,
			opts: Options{DS: "2023-11-29", Format: "parquet"}, want: "user_id:int64,v:utf8",
			byDS: map[string][]string{"2023-11-29": {"1|x", "2|y"}},
			txn:  "committed",
		},
		{
			name: "bad ds value", schema: strDS,
			rows: strings.Replace(strRows, `"ds": "2023-11-03"`, `"ds": "11/03/2023"`, 1),
			opts: Options{DSColumn: "ds", BatchRows: 2},
			err:  `row 4: column "ds": "11/03/2023" is not a YYYY-MM-DD date`, txn: "aborted",
		},
		{
			name: "null ds value", schema: strDS,
			rows: strings.Replace(strRows, `"ds": "2023-11-03"`, `"ds": null`, 1),
			opts: Options{DSColumn: "ds"},
			err:  `row 4: column "ds": has no partition value`, txn: "aborted",
		},
		{
			name: "ds column of a bad type", schema: noDS, rows: `[]`, opts: Options{DSColumn: "user_id"},
			err: `ds column "user_id" has type int64: want string or date32`,
		},
		{
			name: "override that cannot cast", schema: noDS, rows: `[{"user_id": 1, "v": "x"}]`,
			opts: Options{DS: "2023-11-01", SchemaOverrides: spec(t, "v:long")},
			err:  `rows 1-1: column "v": cannot convert to long`, txn: "aborted",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeParquet(t, tc.schema, tc.rows)
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			if !tc.leaky {
				defer mem.AssertSize(t, 0)
			}
			opts := tc.opts
			opts.Table, opts.File, opts.Mem = "data.pq", path, mem
			var finals int
			opts.Progress = func(p Progress) {
				if p.Final {
					finals++
				}
			}
			wh := &fakeWarehouse{}
			res, err := Import(context.Background(), wh, opts)
			txn := wh.only()
			checkTxn(t, txn, tc.txn)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "import data.pq from "+path+": ") {
					t.Fatalf("error = %v, want it to contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := schemaString(txn.schema); got != tc.want {
				t.Errorf("schema %s, want %s", got, tc.want)
			}
			if !reflect.DeepEqual(txn.rows, tc.byDS) {
				t.Errorf("rows by partition:\n%v\nwant\n%v", txn.rows, tc.byDS)
			}
			if res.Format != FormatParquet || finals != 1 {
				t.Errorf("format %q, %d final progress reports", res.Format, finals)
			}
		})
	}
}
