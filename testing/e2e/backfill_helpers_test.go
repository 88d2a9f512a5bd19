// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// srcRoot is the repository root.
func srcRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// run runs chronon in dir and returns its stdout and stderr apart, and its
// error (an *exec.ExitError when it exited non-zero).
func run(t *testing.T, dir string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	return runEnv(t, dir, nil, args...)
}

// runEnv is run with extra environment variables (KEY=VALUE).
func runEnv(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(chronon, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// mustRun is run that fails the test on error and returns stdout.
func mustRun(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, dir, args...)
	if err != nil {
		t.Fatalf("chronon %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// writeFile writes content to path, creating its directory.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyTree copies src into dst (which must not exist yet) with cp -a.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a %s %s: %v\n%s", src, dst, err, out)
	}
}

// quickstartRepo copies the quickstart's definitions (group_bys, joins,
// teams.json; not its data, warehouse or production/) into dir.
func quickstartRepo(t *testing.T, dir string) {
	t.Helper()
	qs := filepath.Join(srcRoot(), "examples", "quickstart")
	for _, name := range []string{"group_bys", "joins", "teams.json"} {
		copyTree(t, filepath.Join(qs, name), filepath.Join(dir, name))
	}
}

// importQuickstart imports the CSVs generate wrote into dir with the
// quickstart script's schemas.
func importQuickstart(t *testing.T, dir string) {
	t.Helper()
	importQuickstartFrom(t, dir, dir)
}

// importQuickstartFrom imports the quickstart CSVs in csvDir into dir's
// warehouse with the quickstart script's schemas, all but the tables in
// skip.
func importQuickstartFrom(t *testing.T, dir, csvDir string, skip ...string) {
	t.Helper()
	ids := "user_id:string,product_id:string"
	for _, imp := range []struct{ table, file, schema string }{
		{"data.purchases", "purchases.csv", "purchase_id:string," + ids},
		{"data.returns", "returns.csv", "return_id:string," + ids},
		{"data.users", "users.csv", "user_id:string,account_created_ds:string,email_verified:string"},
		{"data.checkouts", "checkouts.csv", "return_id:string," + ids},
	} {
		if !slices.Contains(skip, imp.table) {
			mustRun(t, dir, "import", "--table", imp.table, "--file", filepath.Join(csvDir, imp.file), "--ds-column", "ds", "--schema", imp.schema)
		}
	}
}

// quickstartDir returns a temporary directory holding the quickstart data
// (generate's extra flags, end date 2023-11-30), imported into its
// warehouse (./.chronon), and the quickstart definitions, compiled.
// files are written into the repository before compiling.
func quickstartDir(t *testing.T, files map[string]string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	generate(t, dir, extra...)
	quickstartRepo(t, dir)
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	importQuickstart(t, dir)
	mustRun(t, dir, "compile")
	return dir
}

// warehouseDir is the warehouse of a directory without chronon.yaml.
func warehouseDir(dir string) string { return filepath.Join(dir, ".chronon", "warehouse") }

// tableRows returns a table's rows as JSON lines, sorted: equal slices are
// equal multisets of rows.
func tableRows(t *testing.T, dir, table string) []string {
	t.Helper()
	out := mustRun(t, dir, "show", "--table", table, "--format", "json", "--limit", "0")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		lines = nil
	}
	slices.Sort(lines)
	return lines
}

// tableCSV returns a table's rows as CSV lines without the header, sorted
// (for tables too large to compare as JSON).
func tableCSV(t *testing.T, dir, table string) (header string, rows []string) {
	t.Helper()
	out := mustRun(t, dir, "show", "--table", table, "--format", "csv", "--limit", "0")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	header, rows = lines[0], lines[1:]
	slices.Sort(rows)
	return header, rows
}

// diffRows describes how two sorted row slices differ, briefly.
func diffRows(got, want []string) string {
	var b strings.Builder
	i, j, n := 0, 0, 0
	for (i < len(got) || j < len(want)) && n < 5 {
		switch {
		case j == len(want) || (i < len(got) && got[i] < want[j]):
			b.WriteString("extra:   " + got[i] + "\n")
			i++
			n++
		case i == len(got) || want[j] < got[i]:
			b.WriteString("missing: " + want[j] + "\n")
			j++
			n++
		default:
			i++
			j++
		}
	}
	return b.String()
}

// manifest is the part of a table's _chronon.json the tests check.
type manifest struct {
	Partitions map[string]partition `json:"partitions"`
}

// tableFiles reads a table's manifest: each partition's files and rows.
// ok is false when the table has no manifest (it does not exist).
func tableFiles(t *testing.T, wh, table string) (parts map[string]partition, ok bool) {
	t.Helper()
	ns, name, _ := strings.Cut(table, ".")
	data, err := os.ReadFile(filepath.Join(wh, ns, name, "_chronon.json"))
	if os.IsNotExist(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s manifest: %v", table, err)
	}
	return m.Partitions, true
}

type partition struct {
	Files []string `json:"files"`
	Rows  int64    `json:"rows"`
}

// orphanFiles lists the Parquet files under a table's ds= directories that
// its manifest does not name (a crashed commit's leftovers).
func orphanFiles(t *testing.T, wh, table string, parts map[string]partition) []string {
	t.Helper()
	ns, name, _ := strings.Cut(table, ".")
	tdir := filepath.Join(wh, ns, name)
	listed := map[string]bool{}
	for _, p := range parts {
		for _, f := range p.Files {
			listed[f] = true
		}
	}
	files, err := filepath.Glob(filepath.Join(tdir, "ds=*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var orphans []string
	for _, f := range files {
		rel, _ := filepath.Rel(tdir, f)
		if !listed[filepath.ToSlash(rel)] {
			orphans = append(orphans, rel)
		}
	}
	return orphans
}

// dirEntries lists the names in dir (none when it does not exist).
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// tableLine returns the fields of table's line in `chronon tables` output
// (name, partitions, first ds, last ds, rows, columns), nil if absent.
func tableLine(tables, table string) []string {
	for _, line := range strings.Split(tables, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == table {
			return f
		}
	}
	return nil
}
