// SPDX-License-Identifier: Apache-2.0

package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
)

// partitionRows returns rows per partition as Describe reports them.
func partitionRows(t *testing.T, wh warehouse.Warehouse, table string) map[string]int64 {
	t.Helper()
	info, err := wh.Describe(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, p := range info.Partitions {
		out[p.DS] = p.Rows
	}
	return out
}

// scanRows reads a table back as "ds|col|col..." strings.
func scanRows(t *testing.T, wh warehouse.Warehouse, table string, cols ...string) []string {
	t.Helper()
	ctx := context.Background()
	sc, err := wh.Scan(ctx, table, warehouse.ScanOptions{Columns: cols})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	var out []string
	for {
		rec, err := sc.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			cells := make([]string, rec.NumCols())
			for c, col := range rec.Columns() {
				cells[c] = col.ValueStr(i)
			}
			out = append(out, strings.Join(cells, "|"))
		}
		rec.Release()
	}
}

// TestImportIntoParquetWarehouse imports into the real Parquet warehouse:
// partitions and rows land, a failed import leaves the table unchanged, and
// a re-import overwrites only the partitions it writes.
func TestImportIntoParquetWarehouse(t *testing.T) {
	ctx := context.Background()
	wh, err := parquet.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	dir := t.TempDir()

	path := writeFile(t, dir, "purchases.csv", purchasesCSV)
	res, err := Import(ctx, wh, Options{
		Table: "data.purchases", File: path, DSColumn: "ds", BatchRows: 2,
		SchemaOverrides: spec(t, "user_id:string,product_id:string,return_id:string"),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"2023-11-01": 2, "2023-11-02": 2, "2023-11-03": 1}
	if got := partitionRows(t, wh, "data.purchases"); !reflect.DeepEqual(got, want) {
		t.Fatalf("partitions %v, want %v", got, want)
	}
	if res.Rows != 5 || len(res.Partitions) != 3 || fmt.Sprint(res.UnusedOverrides) != "[return_id]" {
		t.Errorf("result %+v", res)
	}
	info, err := wh.Describe(ctx, "data.purchases")
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaString(info.Schema); got != "ts:int64,purchase_id:utf8,user_id:utf8,product_id:utf8,purchase_price:int64" {
		t.Errorf("table schema %s", got)
	}
	got := scanRows(t, wh, "data.purchases", "ds", "purchase_id", "purchase_price")
	if len(got) != 5 || !strings.Contains(strings.Join(got, ","), "2023-11-03|P4|40") {
		t.Errorf("scanned rows %v", got)
	}

	// A malformed row after rows of several partitions: nothing changes.
	bad := strings.Replace(purchasesCSV, "2023-11-02,1698970049000", "2023-11-02,oops", 1) +
		"2023-11-04,1699142848000,P6,3,10,5\n"
	badPath := writeFile(t, dir, "bad.csv", bad)
	_, err = Import(ctx, wh, Options{
		Table: "data.purchases", File: badPath, DSColumn: "ds", BatchRows: 1,
		SchemaOverrides: spec(t, "ts:long,user_id:string,product_id:string"),
	})
	if err == nil || !strings.Contains(err.Error(), `line 6: column "ts": "oops" is not a long`) {
		t.Fatalf("error = %v", err)
	}
	if got := partitionRows(t, wh, "data.purchases"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after a failed import, partitions %v, want %v", got, want)
	}

	// Re-importing one day replaces that partition only.
	day := writeFile(t, dir, "day.csv", "ds,ts,purchase_id,user_id,product_id,purchase_price\n2023-11-02,1698970050000,P9,1,2,3\n")
	if _, err := Import(ctx, wh, Options{
		Table: "data.purchases", File: day, DSColumn: "ds",
		SchemaOverrides: spec(t, "user_id:string,product_id:string"),
	}); err != nil {
		t.Fatal(err)
	}
	want["2023-11-02"] = 1
	if got := partitionRows(t, wh, "data.purchases"); !reflect.DeepEqual(got, want) {
		t.Fatalf("after re-import, partitions %v, want %v", got, want)
	}
}
