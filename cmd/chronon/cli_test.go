// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run executes the CLI in-process in dir and returns stdout, stderr and the
// error.
func run(t *testing.T, dir string, args ...string) (string, string, error) {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	var out, errb bytes.Buffer
	cmd := newRootCmd()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	err = cmd.Execute()
	return out.String(), errb.String(), err
}

func mustRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, stderr, err := run(t, dir, args...)
	if err != nil {
		t.Fatalf("chronon %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return out
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if rel == "production" || rel == ".chronon" || rel == "data" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCompileQuickstart(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "../../examples/quickstart", dir)
	out := mustRun(t, dir, "compile")
	if !strings.Contains(out, "compiled 4 group_bys, 3 joins") {
		t.Errorf("compile output: %s", out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "production/joins/quickstart/training_set.v1"))
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		MetaData  struct{ Name string }
		JoinParts []struct {
			GroupBy struct {
				Aggregations []struct {
					Operation int
					Windows   []struct{ Length, TimeUnit int }
				}
			}
		}
	}
	if err := json.Unmarshal(data, &j); err != nil {
		t.Fatal(err)
	}
	if j.MetaData.Name != "quickstart.training_set.v1" || len(j.JoinParts) != 3 {
		t.Fatalf("join = %+v", j)
	}
	agg := j.JoinParts[0].GroupBy.Aggregations[0]
	if agg.Operation != 7 || agg.Windows[0].Length != 3 || agg.Windows[0].TimeUnit != 1 {
		t.Errorf("SUM aggregation = %+v", agg)
	}
}

func TestCompileErrorWritesNothing(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "group_bys/t/a.yaml"), "v1:\n  sources: [{events: {table: x.y, query: {selects: [k, v], time_column: ts}}}]\n  key_columns: [k]\n  aggregations: [{input_column: v, operation: last_k}]\n")
	_, _, err := run(t, dir, "compile")
	if err == nil || !strings.Contains(err.Error(), "group_bys/t/a.yaml:4:") || !strings.Contains(err.Error(), "LAST_K needs `k`") {
		t.Fatalf("error = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "production")); !os.IsNotExist(err) {
		t.Error("production/ written despite errors")
	}
}

const purchasesCSV = `ds,ts,user_id,purchase_price
2023-11-01,1698883648000,5,10
2023-11-01,1698883649000,6,12
2023-11-02,1698983648000,5,7
`

func TestImportShowSQL(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.csv"), purchasesCSV)
	out := mustRun(t, dir, "import", "--table", "data.purchases", "--file", "p.csv", "--ds-column", "ds", "--schema", "user_id:string")
	if !strings.Contains(out, "imported 3 rows into data.purchases (2 partitions, 2023-11-01 .. 2023-11-02)") {
		t.Errorf("import output: %s", out)
	}
	if out := mustRun(t, dir, "tables"); !strings.Contains(out, "data.purchases") || !strings.Contains(out, "3") {
		t.Errorf("tables: %s", out)
	}
	out = mustRun(t, dir, "show", "--table", "data.purchases", "--ds", "2023-11-01", "--format", "json")
	want := `{"ts":1698883648000,"user_id":"5","purchase_price":10,"ds":"2023-11-01"}` + "\n" +
		`{"ts":1698883649000,"user_id":"6","purchase_price":12,"ds":"2023-11-01"}` + "\n"
	if out != want {
		t.Errorf("show json:\n%s\nwant\n%s", out, want)
	}
	if out := mustRun(t, dir, "show", "--table", "data.purchases", "--format", "csv", "--limit", "1"); out != "ts,user_id,purchase_price,ds\n1698883648000,5,10,2023-11-01\n" {
		t.Errorf("show csv: %q", out)
	}
	out = mustRun(t, dir, "sql", "select count(*) as n from data.purchases", "--format", "csv")
	if out != "n\n3\n" {
		t.Errorf("sql: %q", out)
	}
}

func TestImportMalformedRowLeavesTableUnchanged(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.csv"), purchasesCSV)
	mustRun(t, dir, "import", "--table", "data.purchases", "--file", "p.csv", "--ds-column", "ds")
	before := mustRun(t, dir, "show", "--table", "data.purchases", "--format", "csv", "--limit", "0")
	// Line 4 has a field too many; line 3 would land in a new partition.
	writeFile(t, filepath.Join(dir, "bad.csv"), "ds,ts,user_id,purchase_price\n2023-11-01,1,5,1\n2023-11-03,2,6,2\n2023-11-02,3,7,3,oops\n")
	_, _, err := run(t, dir, "import", "--table", "data.purchases", "--file", "bad.csv", "--ds-column", "ds")
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("error = %v, want it to name line 4", err)
	}
	if after := mustRun(t, dir, "show", "--table", "data.purchases", "--format", "csv", "--limit", "0"); after != before {
		t.Errorf("table changed by a failed import:\n%s\nwas\n%s", after, before)
	}
}

func TestFlagErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "--table", "a.b", "--file", "x.csv"}, "ds"},
		{[]string{"show", "--table", "no.such"}, "not found"},
		{[]string{"show", "--table", "a.b", "--ds", "2023-1-1"}, "YYYY-MM-DD"},
		{[]string{"tables", "--log-format", "xml"}, "--log-format"},
		{[]string{"tables", "--config", "missing.yaml"}, "missing.yaml"},
	} {
		_, _, err := run(t, dir, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("chronon %v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "chronon.yaml"), "warehouse: {root: wh}\n")
	writeFile(t, filepath.Join(dir, "p.csv"), purchasesCSV)
	mustRun(t, dir, "import", "--table", "data.purchases", "--file", "p.csv", "--ds-column", "ds")
	if _, err := os.Stat(filepath.Join(dir, "wh", "data", "purchases", "_chronon.json")); err != nil {
		t.Errorf("warehouse.root from chronon.yaml not used: %v", err)
	}
}

func TestAnalyze(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "../../examples/quickstart", dir)
	mustRun(t, dir, "compile")
	files := map[string]string{
		"data.checkouts": "ds,ts,return_id,user_id,product_id,refund_amt\n2023-11-30,1701340000000,1,5,7,10\n",
		"data.purchases": "ds,ts,purchase_id,user_id,product_id,purchase_price\n2023-11-20,1700480000000,1,5,7,10\n",
		"data.returns":   "ds,ts,return_id,user_id,product_id,refund_amt\n2023-11-20,1700480000000,1,5,7,10\n",
	}
	for table, csv := range files {
		p := filepath.Join(dir, table+".csv")
		writeFile(t, p, csv)
		mustRun(t, dir, "import", "--table", table, "--file", p, "--ds-column", "ds",
			"--schema", "user_id:string,product_id:string")
	}
	// data.users has no partition for 2023-11-29 yet: a clear error naming it.
	out, _, err := run(t, dir, "analyze", "--conf", "quickstart.training_set.v1")
	if err == nil || !strings.Contains(err.Error(), "data.users") {
		t.Fatalf("analyze without data.users: %v\n%s", err, out)
	}
	writeFile(t, filepath.Join(dir, "users.csv"), "ds,user_id,account_created_ds,email_verified\n2023-11-29,5,2023-01-01,1\n")
	mustRun(t, dir, "import", "--table", "data.users", "--file", "users.csv", "--ds-column", "ds",
		"--schema", "user_id:string,account_created_ds:string,email_verified:string")
	out = mustRun(t, dir, "analyze", "--conf", "production/joins/quickstart/training_set.v1")
	for _, want := range []string{
		"compute 1 partition: 2023-11-30",
		"quickstart_purchases_v1_purchase_price_last10       list<int64>",
		"quickstart_users_v1_email_verified                  string",
		"data.users (snapshot, read by quickstart.users.v1): 1 partition: 2023-11-29",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("analyze output lacks %q:\n%s", want, out)
		}
	}
}
