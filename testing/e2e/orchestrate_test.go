// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// quickstartDay2 imports a second day of quickstart data (2023-12-01: 20
// purchases and returns, 10 checkouts, the users snapshots of 2023-11-30
// and 2023-12-01) into dir's warehouse, all but the tables in skip.
func quickstartDay2(t *testing.T, dir string, skip ...string) {
	t.Helper()
	day2 := filepath.Join(dir, "day2")
	generate(t, day2, "--end-date", "2023-12-01", "--days", "1", "--snapshots", "2", "--purchases", "20", "--returns", "20", "--checkouts", "10")
	importQuickstartFrom(t, dir, day2, skip...)
}

// summary maps each step of a chronon run summary to its partitions and
// status columns ("1 (2023-12-01) done", "0 up to date").
func summary(t *testing.T, out string) map[string]string {
	t.Helper()
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || !strings.Contains(f[0], ":") || strings.HasPrefix(line, "missing") {
			continue
		}
		rest := strings.Join(f[1:], " ")
		// Drop the time and detail columns: status words end before the
		// duration.
		for _, st := range []string{"upstream failed", "up to date", "not due", "done", "skipped", "waiting", "failed"} {
			if i := strings.Index(rest, " "+st+" "); i >= 0 {
				rest = rest[:i+1+len(st)]
				break
			}
		}
		rows[f[0]] = rest
	}
	return rows
}

// TestRunQuickstartTwoDays runs the quickstart day by day with chronon run:
// day 1 computes everything, day 2 exactly the new partitions, a second
// run nothing; a missing upstream partition names the steps waiting on it.
// It then writes the Airflow DAGs and checks them with python3.
func TestRunQuickstartTwoDays(t *testing.T) {
	dir := quickstartDir(t, nil, "--snapshots", "2")
	want := map[string]string{
		"backfill:quickstart.training_set.v1": "1 (2023-11-30) done",
		"backfill:quickstart.training_set.v2": "1 (2023-11-30) done",
		"upload:quickstart.purchases.v1":      "1 (2023-11-30) done",
		"upload:quickstart.returns.v1":        "1 (2023-11-30) done",
		"upload:quickstart.users.v1":          "1 (2023-11-30) done",
		"metadata-upload:quickstart":          "0 done",
		// No fetch logs yet: nothing to flatten or expire.
		"log-flatten:quickstart.training_set.v2":   "0 up to date",
		"log-retention:quickstart.training_set.v2": "0 up to date",
	}
	got := summary(t, mustRun(t, dir, "run", "--ds", "2023-11-30"))
	for step, w := range want {
		if got[step] != w {
			t.Errorf("day 1: %s: %q, want %q", step, got[step], w)
		}
	}

	// Day 2 without its returns: the steps reading them wait, the others
	// run.
	quickstartDay2(t, dir, "data.returns")
	out, _, err := run(t, dir, "run", "--ds", "2023-12-01", "--no-wait")
	if err == nil {
		t.Errorf("a run with a missing input succeeded:\n%s", out)
	}
	if w := "missing data.returns/ds=2023-12-01: waited on by backfill:quickstart.training_set.v1, backfill:quickstart.training_set.v2, backfill:quickstart.training_set.v3, upload:quickstart.returns.v1\n"; !strings.Contains(out, w) {
		t.Errorf("the run should name exactly the steps waiting on data.returns:\n%s", out)
	}
	got = summary(t, out)
	for step, w := range map[string]string{
		"upload:quickstart.purchases.v1":       "1 (2023-12-01) done",
		"upload:quickstart.returns.v1":         "- waiting",
		"kv-retention:quickstart.returns.v1":   "- upstream failed",
		"backfill:quickstart.training_set.v1":  "- waiting",
		"kv-retention:quickstart.purchases.v1": "0 up to date",
	} {
		if got[step] != w {
			t.Errorf("day 2 without returns: %s: %q, want %q", step, got[step], w)
		}
	}

	// The returns land: the run computes exactly what is left.
	quickstartDay2(t, dir, "data.purchases", "data.users", "data.checkouts")
	got = summary(t, mustRun(t, dir, "run", "--ds", "2023-12-01"))
	for step, w := range map[string]string{
		"backfill:quickstart.training_set.v1": "1 (2023-12-01) done",
		"backfill:quickstart.training_set.v2": "1 (2023-12-01) done",
		"upload:quickstart.returns.v1":        "1 (2023-12-01) done",
		"upload:quickstart.purchases.v1":      "0 up to date",
		"upload:quickstart.users.v1":          "0 up to date",
		"metadata-upload:quickstart":          "0 up to date",
	} {
		if got[step] != w {
			t.Errorf("day 2: %s: %q, want %q", step, got[step], w)
		}
	}
	tables := mustRun(t, dir, "tables")
	for _, table := range []string{"default.quickstart_training_set_v1", "default.quickstart_training_set_v2", "default.quickstart_returns_v1_upload"} {
		if f := tableLine(tables, table); len(f) < 2 || f[1] != "2" {
			t.Errorf("%s should have 2 partitions: %v", table, f)
		}
	}
	if rows := tableRows(t, dir, "default.quickstart_training_set_v1"); len(rows) != 210 {
		t.Errorf("the training set has %d rows, want 200 + 10", len(rows))
	}

	// A second run does nothing.
	for step, st := range summary(t, mustRun(t, dir, "run", "--ds", "2023-12-01")) {
		if strings.HasSuffix(st, "done") {
			t.Errorf("second run: %s: %s", step, st)
		}
	}

	// The DAGs of the same graph.
	dags := filepath.Join(t.TempDir(), "dags")
	mustRun(t, dir, "dags", "--out", dags)
	src, err := os.ReadFile(filepath.Join(dags, "chronon_quickstart.py"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		`tasks["backfill:quickstart.training_set.v1"] = BashOperator(task_id="backfill__quickstart.training_set.v1", bash_command=f"{CHRONON} run --ds {{{{ ds }}}} --step backfill:quickstart.training_set.v1")`,
		`sensors["wait__data.returns__ds"] >> tasks["upload:quickstart.returns.v1"]`,
		`tasks["upload:quickstart.returns.v1"] >> tasks["kv-retention:quickstart.returns.v1"]`,
	} {
		if !strings.Contains(string(src), w) {
			t.Errorf("chronon_quickstart.py lacks %s", w)
		}
	}
	if py, err := exec.LookPath("python3"); err == nil {
		files, _ := filepath.Glob(filepath.Join(dags, "*.py"))
		if out, err := exec.Command(py, append([]string{"-m", "py_compile"}, files...)...).CombinedOutput(); err != nil {
			t.Errorf("py_compile: %v\n%s", err, out)
		}
	}
	var g struct {
		Steps []struct {
			ID   string   `json:"id"`
			Deps []string `json:"deps"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, dir, "graph", "--format", "json", "--ds", "2023-12-01")), &g); err != nil || len(g.Steps) != 14 {
		t.Errorf("graph json: %v, %d steps", err, len(g.Steps))
	}
}

// TestRunKilledMidRun kills chronon run with SIGKILL as its second join
// backfill's pipeline starts (the first committed), then runs it again: the tables end exactly as a clean run
// leaves them, without partial partitions, and a third run does nothing.
func TestRunKilledMidRun(t *testing.T) {
	pristine := quickstartDir(t, nil, "--snapshots", "2", "--rows-scale", "20")
	clean := filepath.Join(t.TempDir(), "clean")
	copyTree(t, pristine, clean)
	mustRun(t, clean, "run", "--ds", "2023-11-30")
	tables := []string{"default.quickstart_training_set_v1", "default.quickstart_training_set_v2",
		"default.quickstart_purchases_v1_upload", "default.quickstart_returns_v1_upload", "default.quickstart_users_v1_upload"}
	want := map[string][]string{}
	for _, tb := range tables {
		_, want[tb] = tableCSV(t, clean, tb)
	}

	dir := filepath.Join(t.TempDir(), "crash")
	copyTree(t, pristine, dir)
	cmd := exec.Command(chronon, "run", "--ds", "2023-11-30", "--parallelism", "1", "--log-format", "json")
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := make(chan []string, 1)
	go func() {
		var seen []string
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct{ Msg, Step string }
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				continue
			}
			if strings.HasPrefix(line.Msg, "step ") || line.Msg == "backfill" {
				seen = append(seen, strings.TrimSpace(line.Msg+" "+line.Step))
			}
			// The second pipeline's start: one join committed, the other
			// mid-pipeline.
			if line.Msg == "backfill" && slices.Contains(seen[:len(seen)-1], "backfill") {
				cmd.Process.Kill()
				break
			}
		}
		killed <- seen
	}()
	var seen []string
	select {
	case seen = <-killed:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("chronon run did not start two backfills within 3 minutes")
	}
	werr := cmd.Wait()
	t.Logf("killed after %v (%v)", seen, werr)
	if werr == nil {
		t.Fatal("the run finished before the kill: the test killed nothing")
	}
	// Absent or complete, never partial.
	for _, tb := range tables {
		parts, exists := tableFiles(t, warehouseDir(dir), tb)
		if exists && len(parts) != 1 {
			t.Errorf("after the kill %s has %d partitions, want none or 1", tb, len(parts))
		}
		if exists {
			if _, got := tableCSV(t, dir, tb); !slices.Equal(got, want[tb]) {
				t.Errorf("after the kill %s differs from a clean run:\n%s", tb, diffRows(got, want[tb]))
			}
		}
	}
	// The rerun finishes the rest.
	out := mustRun(t, dir, "run", "--ds", "2023-11-30")
	done := 0
	for _, st := range summary(t, out) {
		if strings.HasSuffix(st, "done") {
			done++
		}
	}
	if done == 0 {
		t.Errorf("the rerun did nothing after a kill mid-run:\n%s", out)
	}
	for _, tb := range tables {
		if _, got := tableCSV(t, dir, tb); !slices.Equal(got, want[tb]) {
			t.Errorf("after the rerun %s differs from a clean run:\n%s", tb, diffRows(got, want[tb]))
		}
		if parts, _ := tableFiles(t, warehouseDir(dir), tb); len(parts) != 1 {
			t.Errorf("%s has %d partitions, want 1", tb, len(parts))
		}
	}
	for step, st := range summary(t, mustRun(t, dir, "run", "--ds", "2023-11-30")) {
		if strings.HasSuffix(st, "done") {
			t.Errorf("third run: %s: %s", step, st)
		}
	}
}
