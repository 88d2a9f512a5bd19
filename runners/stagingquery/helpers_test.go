// SPDX-License-Identifier: Apache-2.0

package stagingquery

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
	"github.com/chronon-go/chronon/runners/importer"
)

// purchasesCSV has rows on 2023-11-01 (3), 2023-11-02 (2) and 2023-11-04 (1).
const purchasesCSV = `ds,user_id,price
2023-11-01,u1,10
2023-11-01,u1,5
2023-11-01,u2,7
2023-11-02,u2,1
2023-11-02,u3,2
2023-11-04,u1,100
`

// openWarehouse opens a Parquet warehouse in a temporary directory with
// data.purchases imported from purchasesCSV.
func openWarehouse(t *testing.T) warehouse.Warehouse {
	t.Helper()
	dir := t.TempDir()
	wh, err := parquet.Open(filepath.Join(dir, "wh"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	file := filepath.Join(dir, "purchases.csv")
	if err := os.WriteFile(file, []byte(purchasesCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := importer.Import(context.Background(), wh, importer.Options{Table: "data.purchases", File: file, DSColumn: "ds"}); err != nil {
		t.Fatal(err)
	}
	return wh
}

// stagingQuery returns a staging query named team.daily.v1 writing
// out.team_daily_v1.
func stagingQuery(query, start string) *api.StagingQuery {
	return &api.StagingQuery{
		MetaData: &api.MetaData{Name: "team.daily.v1", OutputNamespace: "out",
			TableProperties: map[string]string{"owner": "team"}},
		Query:          query,
		StartPartition: start,
	}
}

// scanRows reads a table back as sorted "ds|col|col..." strings.
func scanRows(t *testing.T, wh warehouse.Warehouse, table string, cols ...string) []string {
	t.Helper()
	ctx := context.Background()
	sc, err := wh.Scan(ctx, table, warehouse.ScanOptions{Columns: append([]string{"ds"}, cols...)})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	var out []string
	for {
		rec, err := sc.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range int(rec.NumRows()) {
			cells := make([]string, rec.NumCols())
			for c, col := range rec.Columns() {
				cells[c] = col.ValueStr(i)
			}
			out = append(out, strings.Join(cells, "|"))
		}
		rec.Release()
	}
	slices.Sort(out)
	return out
}

// partitions returns a table's partitions as "ds:rows".
func partitions(t *testing.T, wh warehouse.Warehouse, table string) []string {
	t.Helper()
	info, err := wh.Describe(context.Background(), table)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range info.Partitions {
		out = append(out, p.DS+":"+strconv.FormatInt(p.Rows, 10))
	}
	return out
}

// resultPartitions renders Result.Partitions as "ds:rows".
func resultPartitions(res *Result) []string {
	var out []string
	for _, p := range res.Partitions {
		out = append(out, p.DS+":"+strconv.FormatInt(p.Rows, 10))
	}
	return out
}
