// SPDX-License-Identifier: Apache-2.0

//go:build cgo

package warehousesql

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/blob/blobtest"
	pqwh "github.com/chronon-go/chronon/plugins/warehouse/parquet"
)

// TestParquetWarehouse reads tables of the real Parquet warehouse and checks
// that DuckDB sees exactly what the warehouse's own Scan returns.
func TestParquetWarehouse(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	wh, err := pqwh.Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()

	v1 := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "n", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64), Nullable: true},
		{Name: "st", Type: arrow.StructOf(
			arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
			arrow.Field{Name: "b", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
		), Nullable: true},
	}, nil)
	write := func(schema *arrow.Schema, mode warehouse.WriteMode, parts map[string]string) {
		t.Helper()
		txn, err := wh.Begin(ctx, "data.events", schema, warehouse.WriteOptions{Mode: mode})
		if err != nil {
			t.Fatal(err)
		}
		for _, ds := range slices.Sorted(func(yield func(string) bool) {
			for ds := range parts {
				if !yield(ds) {
					return
				}
			}
		}) {
			rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(parts[ds]))
			if err != nil {
				t.Fatal(err)
			}
			err = txn.Write(ctx, ds, rec)
			rec.Release()
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := txn.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	write(v1, warehouse.Overwrite, map[string]string{
		"2023-11-01": `[
			{"id": 1, "n": 4000000000, "f": 1.5, "s": "héllo", "ts": 1698841845123, "day": 19662,
			 "tags": ["a", null], "m": [{"key": "k", "value": 0.25}], "st": {"a": 1, "b": [1, 2]}},
			{"id": 2, "n": null, "f": null, "s": null, "ts": null, "day": null,
			 "tags": null, "m": null, "st": null}]`,
		"2023-11-02": `[{"id": 3, "n": 0, "f": -2, "s": "", "ts": 0, "day": 0,
			 "tags": [], "m": [], "st": {"a": null, "b": []}}]`,
		"2023-11-03": `[]`, // an empty partition
	})
	// A later append adds a column.
	v2 := arrow.NewSchema(append(slices.Clone(v1.Fields()),
		arrow.Field{Name: "extra", Type: arrow.BinaryTypes.String, Nullable: true}), nil)
	write(v2, warehouse.Append, map[string]string{
		"2023-11-02": `[{"id": 4, "extra": "new"}]`,
	})
	// A stray file in a partition directory must stay invisible.
	stray := filepath.Join(root, "data", "events", "ds=2023-11-01", "part-stray.parquet")
	if err := os.WriteFile(stray, []byte("not parquet"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A table with no partitions at all.
	txn, err := wh.Begin(ctx, "data.empty", v1, warehouse.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}

	db, err := Open(ctx, wh)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	// DuckDB's rows, rendered, equal the warehouse's own scan, rendered.
	got := sortedLines(queryJSON(t, db, "select * from data.events"))
	want := sortedLines(scanJSON(t, wh, "data.events"))
	if got != want {
		t.Errorf("DuckDB view:\n%s\nwarehouse scan:\n%s", got, want)
	}
	if got := queryJSON(t, db, "select ds, count(*) as n from data.events group by all order by ds"); got != ""+
		`{"ds":"2023-11-01","n":2}`+"\n"+`{"ds":"2023-11-02","n":2}`+"\n" {
		t.Errorf("per-partition counts:\n%s", got)
	}
	if got := queryJSON(t, db, "select count(*) as n, min(ds) as d from data.empty"); got != `{"n":0,"d":null}`+"\n" {
		t.Errorf("empty table: %s", got)
	}
	res, err := db.Query(ctx, "select * from data.empty")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Release()
	if got, want := res.Columns(), []string{"id", "n", "f", "s", "ts", "day", "tags", "m", "st", "ds"}; !slices.Equal(got, want) {
		t.Errorf("empty table columns %v, want %v", got, want)
	}
}

// scanJSON renders a table's rows as the warehouse scans them.
func scanJSON(t *testing.T, wh warehouse.Warehouse, table string) string {
	t.Helper()
	ctx := context.Background()
	sc, err := wh.Scan(ctx, table, warehouse.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	var buf bytes.Buffer
	r, err := batch.NewRenderer(&buf, batch.FormatJSON, sc.Schema(), batch.RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := sc.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		err = r.WriteBatch(rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// TestGCSWarehouse checks that a warehouse on gs:// is refused with a clear
// error, before DuckDB tries to fetch its network extension.
func TestGCSWarehouse(t *testing.T) {
	ctx := context.Background()
	srv := blobtest.Emulator(t)
	wh, err := pqwh.Open(srv.NewBucket(t)+"/wh", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	txn, err := wh.Begin(ctx, "data.remote", schema, warehouse.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.Append(1)
	col := b.NewArray()
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, 1)
	col.Release()
	defer rec.Release()
	if err := txn.Write(ctx, "2023-11-01", rec); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, wh)
	if err == nil {
		db.Close()
	}
	if !errors.Is(err, ErrRemoteFiles) || !strings.Contains(err.Error(), "data.remote") || !strings.Contains(err.Error(), "gs://") {
		t.Errorf("Open on a gs:// warehouse: %v, want ErrRemoteFiles naming the table", err)
	}
}
