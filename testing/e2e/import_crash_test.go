// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestImportKilledMidWrite kills `chronon import` while it is writing and
// checks that the table still shows exactly what the previous import
// committed, and that the next import cleans up and succeeds.
func TestImportKilledMidWrite(t *testing.T) {
	dir := t.TempDir()
	generate(t, dir, "--purchases", "400000")
	schema := "purchase_id:string,user_id:string,product_id:string"
	// A first, small import commits a known state.
	small := filepath.Join(dir, "small.csv")
	if err := os.WriteFile(small, []byte("ds,ts,purchase_id,user_id,product_id,purchase_price\n2023-11-15,1700000000000,1,5,7,10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cli(t, dir, "import", "--table", "data.purchases", "--file", small, "--ds-column", "ds", "--schema", schema)
	before := cli(t, dir, "show", "--table", "data.purchases", "--format", "csv", "--limit", "0")

	cmd := exec.Command(chronon, "import", "--table", "data.purchases", "--file", filepath.Join(dir, "purchases.csv"),
		"--ds-column", "ds", "--schema", schema)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the import has started writing part files, then kill it.
	staging := filepath.Join(dir, ".chronon", "warehouse", "data", "purchases", "_staging")
	deadline := time.Now().Add(60 * time.Second)
	for {
		files, _ := filepath.Glob(filepath.Join(staging, "*", "ds=*", "*.parquet"))
		if len(files) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("import wrote no staged file within 60s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	if after := cli(t, dir, "show", "--table", "data.purchases", "--format", "csv", "--limit", "0"); after != before {
		t.Fatalf("killed import changed the table:\n%s\nwas\n%s", after, before)
	}
	tables := cli(t, dir, "tables")
	if !strings.Contains(tables, "data.purchases  1 ") {
		t.Errorf("tables after crash:\n%s", tables)
	}
	// The next import recovers the debris and commits everything.
	out := cli(t, dir, "import", "--table", "data.purchases", "--file", filepath.Join(dir, "purchases.csv"),
		"--ds-column", "ds", "--schema", schema)
	if !strings.Contains(out, "imported 400000 rows") {
		t.Errorf("re-import: %s", out)
	}
	if left, _ := filepath.Glob(filepath.Join(staging, "*")); len(left) != 0 {
		t.Errorf("staging debris left after recovery: %v", left)
	}
	count := cli(t, dir, "sql", "select count(*) as n from data.purchases", "--format", "csv")
	// 400000 new rows; the small import's partition 2023-11-15 was overwritten.
	if count != "n\n400000\n" {
		t.Errorf("count = %q", count)
	}
}
