// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// crashJoin has a left with 30 partitions (every purchase), so a backfill
// commits 30 partitions at once and takes a moment on scaled-up data.
const crashJoin = `
v1:
  left: {events: {table: data.purchases, query: {selects: [user_id, purchase_id], time_column: ts}}}
  join_parts:
    - group_by: quickstart.purchases.v1
    - group_by: quickstart.returns.v1
`

// TestBackfillKilledMidRun kills `chronon backfill` with SIGKILL at
// several points of its run (early in the pipeline, late in it, as the
// commit starts and during the commit), all in one warehouse. After each
// kill the output table is absent or complete, never partial; a final run
// then commits exactly the rows a clean run in a fresh warehouse does, with
// no duplicate partition or stray file.
func TestBackfillKilledMidRun(t *testing.T) {
	const (
		conf  = "quickstart.crash.v1"
		table = "default.quickstart_crash_v1"
		days  = 30
	)
	pristine := quickstartDir(t, map[string]string{"joins/quickstart/crash.yaml": crashJoin}, "--rows-scale", "100")
	rows := 500 * 100 // purchases, one output row each

	// The reference: a clean run in a fresh copy of the warehouse. Its log
	// times the phases the kills aim at.
	clean := filepath.Join(t.TempDir(), "clean")
	copyTree(t, pristine, clean)
	res := backfillUntil(t, clean, "", 0, conf)
	if res.err != nil || !slices.Contains(res.seen, "committed") {
		t.Fatalf("clean run: %v, log %v", res.err, res.seen)
	}
	pipeline := res.at["pipeline done"] - res.at["backfill"]
	commit := res.at["committed"] - res.at["pipeline done"]
	t.Logf("clean run: pipeline %v, commit %v", pipeline, commit)
	header, want := tableCSV(t, clean, table)
	if len(want) != rows {
		t.Fatalf("clean run wrote %d rows, want %d", len(want), rows)
	}

	dir := filepath.Join(t.TempDir(), "crash")
	copyTree(t, pristine, dir)
	wh := warehouseDir(dir)
	var killedInCommit, killedBefore bool
	for _, kp := range []struct {
		after string
		delay time.Duration
	}{
		{"backfill", 0},
		{"backfill", pipeline * 2 / 3},
		{"pipeline done", 0},
		{"pipeline done", commit / 2},
		{"pipeline done", commit * 9 / 10},
	} {
		res := backfillUntil(t, dir, kp.after, kp.delay, conf)
		t.Logf("killed %v after %q: log %v", kp.delay, kp.after, res.seen)
		if slices.Contains(res.seen, "committed") {
			// Too late: the run finished. The table must then be whole.
			t.Logf("the run committed before the kill")
		} else {
			killedBefore = true
			killedInCommit = killedInCommit || slices.Contains(res.seen, "pipeline done")
		}
		ns, name, _ := strings.Cut(table, ".")
		if debris := dirEntries(t, filepath.Join(wh, ns, name, "_staging")); len(debris) > 0 {
			t.Logf("the kill left staging debris for the next run to clean: %v", debris)
		}
		// Absent or complete: never some of the partitions.
		parts, exists := tableFiles(t, wh, table)
		if f := tableLine(mustRun(t, dir, "tables"), table); exists != (f != nil) {
			t.Fatalf("manifest exists: %v, but tables lists %v", exists, f)
		}
		if exists {
			if len(parts) != days {
				t.Fatalf("after a kill %s has %d partitions, want none or %d", table, len(parts), days)
			}
			if h, got := tableCSV(t, dir, table); h != header || !slices.Equal(got, want) {
				t.Fatalf("after a kill %s differs from a clean run:\n%s", table, diffRows(got, want))
			}
		}
	}
	if !killedBefore {
		t.Fatal("every run committed before its kill: the test killed nothing")
	}
	if !killedInCommit {
		t.Log("no kill landed in the commit (the machine was too fast or too slow for the delays)")
	}

	// The rerun recovers and commits everything once.
	deadJobs := dirEntries(t, filepath.Join(wh, ".scratch"))
	t.Logf("scratch before the rerun: %v", deadJobs)
	out := mustRun(t, dir, "backfill", "--conf", conf)
	if !strings.Contains(out, conf+": computed 30 partitions of "+table) && !strings.Contains(out, conf+": computed 0 partitions of "+table) {
		t.Errorf("rerun: %s", out)
	}
	h, got := tableCSV(t, dir, table)
	if h != header || !slices.Equal(got, want) {
		t.Fatalf("rerun after kills: %d rows differ from a clean run's %d:\n%s", len(got), len(want), diffRows(got, want))
	}
	parts, _ := tableFiles(t, wh, table)
	cleanParts, _ := tableFiles(t, warehouseDir(clean), table)
	if len(parts) != days {
		t.Errorf("%s has %d partitions, want %d", table, len(parts), days)
	}
	for ds, p := range parts {
		if p.Rows != cleanParts[ds].Rows {
			t.Errorf("partition %s has %d rows, a clean run %d", ds, p.Rows, cleanParts[ds].Rows)
		}
	}
	if orphans := orphanFiles(t, wh, table, parts); len(orphans) > 0 {
		t.Errorf("files in %s that its manifest does not list: %v", table, orphans)
	}
	ns, name, _ := strings.Cut(table, ".")
	if debris := dirEntries(t, filepath.Join(wh, ns, name, "_staging")); len(debris) > 0 {
		t.Errorf("staging debris left in %s: %v", table, debris)
	}
	// The rerun removes its own scratch directory and the dead ones the
	// killed runs left.
	if left := dirEntries(t, filepath.Join(wh, ".scratch")); len(left) > 0 {
		t.Errorf("scratch left after the successful rerun: %v (before it: %v)", left, deadJobs)
	}
	if left := dirEntries(t, filepath.Join(warehouseDir(clean), ".scratch")); len(left) > 0 {
		t.Errorf("a clean run left scratch: %v", left)
	}
	// A third run computes nothing.
	if out := mustRun(t, dir, "backfill", "--conf", conf); !strings.Contains(out, "computed 0 partitions") {
		t.Errorf("run after recovery: %s", out)
	}
}

// backfillResult is what backfillUntil saw.
type backfillResult struct {
	// seen are the log messages in order; at their times since the start.
	seen []string
	at   map[string]time.Duration
	// err is the run's error (nil if it finished before the kill).
	err error
}

// backfillUntil runs chronon backfill with JSON logs in dir and kills it
// with SIGKILL delay after it logs the message after ("" runs it to the
// end).
func backfillUntil(t *testing.T, dir, after string, delay time.Duration, conf string) backfillResult {
	t.Helper()
	cmd := exec.Command(chronon, "backfill", "--conf", conf, "--log-format", "json")
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type event struct {
		msg string
		at  time.Duration
	}
	events := make(chan event, 1024)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct{ Msg string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg != "" {
				events <- event{line.Msg, time.Since(start)}
			}
		}
	}()
	res := backfillResult{at: map[string]time.Duration{}}
	timeout := time.After(2 * time.Minute)
	killed := false
	for done := false; !done; {
		select {
		case ev, ok := <-events:
			if !ok {
				done = true
				break
			}
			res.seen = append(res.seen, ev.msg)
			res.at[ev.msg] = ev.at
			if ev.msg == after && !killed {
				time.Sleep(delay)
				// It may have finished meanwhile: then its log says so.
				if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
					t.Fatal(err)
				}
				killed = true
			}
		case <-timeout:
			cmd.Process.Kill()
			t.Fatalf("backfill did not finish within 2 minutes; log %v", res.seen)
		}
	}
	res.err = cmd.Wait()
	if killed && res.err == nil && !slices.Contains(res.seen, "committed") {
		t.Fatalf("killed backfill exited cleanly; log %v", res.seen)
	}
	return res
}
