// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/plugins/warehouse"
)

// Environment of the helper process the subprocess tests re-execute the test
// binary as.
const (
	helperEnv      = "CHRONON_PARQUET_TEST_HELPER" // crash | append
	helperRootEnv  = "CHRONON_PARQUET_TEST_ROOT"
	helperPointEnv = "CHRONON_PARQUET_TEST_POINT" // crash point
	helperIDEnv    = "CHRONON_PARQUET_TEST_ID"    // append: writer id
	crashExitCode  = 3
	helperAppends  = 5
)

var crashSchema = arrow.NewSchema([]arrow.Field{
	{Name: "w", Type: arrow.PrimitiveTypes.Int64},
	{Name: "v", Type: arrow.PrimitiveTypes.Int64},
}, nil)

// seqRecord returns a record of n rows (w, from), (w, from+1), ...
func seqRecord(w, from int64, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, crashSchema)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(w)
		b.Field(1).(*array.Int64Builder).Append(from + int64(i))
	}
	return b.NewRecordBatch()
}

// TestHelperProcess is the body of the subprocesses, not a test.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("helper process of the subprocess tests")
	}
	ctx := context.Background()
	w, err := Open(os.Getenv(helperRootEnv), &Options{RowGroupRows: 100})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	switch mode {
	case "crash":
		point := os.Getenv(helperPointEnv)
		w.hook = func(p string) {
			if p == point {
				os.Exit(crashExitCode)
			}
		}
		txn, err := w.Begin(ctx, "ns.t", crashSchema, warehouse.WriteOptions{SemanticHash: "crashed"})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		for i := range 10 {
			for _, ds := range []string{"2024-01-01", "2024-01-03"} {
				if err := txn.Write(ctx, ds, seqRecord(9, int64(i*50), 50)); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
			}
		}
		if point == "write" {
			os.Exit(crashExitCode)
		}
		if err := txn.Commit(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	case "append":
		id, _ := strconv.Atoi(os.Getenv(helperIDEnv))
		for i := range helperAppends {
			txn, err := w.Begin(ctx, "ns.t", crashSchema, warehouse.WriteOptions{Mode: warehouse.Append})
			if err == nil {
				err = txn.Write(ctx, "2024-01-01", seqRecord(int64(id), int64(i), 1))
			}
			if err == nil {
				err = txn.Commit(ctx)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	}
	os.Exit(0)
}

// runHelper runs the test binary as a helper process and returns its exit
// code.
func runHelper(t *testing.T, env ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		// Not t.Fatal: runHelper may run on another goroutine.
		t.Errorf("helper: %v", err)
		return -1, string(out)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// deadPID returns the id of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.Pid()
}

// checkClean checks that the table directory holds no debris: no staged
// file, temporary manifest or unreferenced part file (and, locally, no
// directory but ds= and _staging ones, and an empty _staging).
func checkClean(t *testing.T, w *Warehouse, table string) {
	t.Helper()
	ctx := context.Background()
	rel, err := w.tableDir(table)
	if err != nil {
		t.Fatal(err)
	}
	info, err := w.Describe(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, p := range info.Partitions {
		want = append(want, p.Files...)
	}
	var got []string
	if w.locker == nil {
		objs, err := w.store.ListAll(ctx, rel)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			switch name := strings.TrimPrefix(o.Path, rel+"/"); {
			case name == manifestName:
			case strings.HasPrefix(name, stagingName+"/"):
				t.Errorf("staged file left: %s", o.Path)
			case strings.HasSuffix(name, ".parquet"):
				got = append(got, w.store.URI(o.Path))
			default:
				t.Errorf("unexpected object %s", o.Path)
			}
		}
	} else {
		dir := filepath.Join(w.Root(), filepath.FromSlash(rel))
		err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if path != dir && !strings.HasPrefix(d.Name(), "ds=") && d.Name() != stagingName {
					t.Errorf("unexpected directory %s", path)
				}
				if d.Name() == stagingName {
					if entries, _ := os.ReadDir(path); len(entries) != 0 {
						t.Errorf("staging not empty: %v", entries)
					}
				}
				return nil
			}
			switch name := d.Name(); {
			case name == manifestName || name == lockName:
			case strings.HasSuffix(name, ".parquet"):
				got = append(got, path)
			default:
				t.Errorf("unexpected file %s", path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("data files in storage\n%v\nmanifest lists\n%v", got, want)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestRecoverDebris(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	w := openAt(t, root, nil)
	writeTxn(t, w, "ns.t", crashSchema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{
		"2024-01-01": {seqRecord(1, 0, 3)},
		"2024-01-02": {seqRecord(1, 10, 2)},
	})
	before := scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows
	info, err := w.Describe(ctx, "ns.t")
	if err != nil {
		t.Fatal(err)
	}
	real := info.Partitions[0].Files[0]
	dir := filepath.Join(root, "ns", "t")
	dead := deadPID(t)

	deadStaging := filepath.Join(dir, stagingName, fmt.Sprintf("%d-feedface", dead))
	liveStaging := filepath.Join(dir, stagingName, fmt.Sprintf("%d-cafe", os.Getpid()))
	removed := []string{
		filepath.Join(deadStaging, "ds=2024-01-01", "part-feedface-0.parquet"),
		filepath.Join(dir, "ds=2024-01-01", "part-orphan-0.parquet"),
		filepath.Join(dir, "ds=2024-03-01", "part-orphan-0.parquet"),
		filepath.Join(dir, tmpPrefix+"123.tmp"),
		filepath.Join(dir, stagingName, "not-a-pid", "x"),
	}
	kept := []string{
		filepath.Join(liveStaging, "ds=2024-01-01", "part-cafe-0.parquet"),
		filepath.Join(dir, "ds=2024-01-01", "_SUCCESS"),
	}
	for _, f := range append(slices.Clone(removed), kept...) {
		copyFile(t, real, f)
	}
	// A table whose first transaction crashed has staging only.
	fresh := filepath.Join(root, "ns", "fresh", stagingName, fmt.Sprintf("%d-0", dead), "ds=2024-01-01", "part-0-0.parquet")
	copyFile(t, real, fresh)
	removed = append(removed, fresh, filepath.Join(root, "ns", "fresh", stagingName, fmt.Sprintf("%d-0", dead)), filepath.Join(dir, "ds=2024-03-01"))

	// Debris is invisible even before recovery.
	if got := scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows; !reflect.DeepEqual(got, before) {
		t.Fatalf("debris visible: %v", got)
	}

	w2 := openAt(t, root, nil)
	for _, f := range removed {
		if _, err := os.Stat(f); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("debris %s not removed (stat: %v)", f, err)
		}
	}
	for _, f := range kept {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s removed: %v", f, err)
		}
	}
	if got := scanAll(t, w2, "ns.t", warehouse.ScanOptions{}).rows; !reflect.DeepEqual(got, before) {
		t.Errorf("rows after recovery\n%v\nwant\n%v", got, before)
	}
	if tables, _ := w2.Tables(ctx); !reflect.DeepEqual(tables, []string{"ns.t"}) {
		t.Errorf("Tables %v", tables)
	}

	// A table first seen after Open is swept by its first commit.
	writeTxn(t, w2, "ns.late", crashSchema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{"2024-01-01": {seqRecord(1, 0, 1)}})
	lateOrphan := filepath.Join(root, "ns", "late", "ds=2024-01-01", "part-orphan-0.parquet")
	copyFile(t, real, lateOrphan)
	writeTxn(t, w, "ns.late", crashSchema, warehouse.WriteOptions{Mode: warehouse.Append}, map[string][]arrow.RecordBatch{"2024-01-02": {seqRecord(1, 0, 1)}})
	if _, err := os.Stat(lateOrphan); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("orphan of a table created after Open not swept at commit: %v", err)
	}
	checkClean(t, w, "ns.late")
}

func TestCrashSubprocess(t *testing.T) {
	for _, tc := range []struct {
		point   string
		visible bool // whether the crashed transaction is visible
	}{
		{"write", false},
		{hookStaged, false},
		{hookRenamed, false},
		{hookCommitted, true},
	} {
		t.Run(tc.point, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, e *env) {
				ctx := context.Background()
				root := e.root
				w := e.open(t, nil)
				writeTxn(t, w, "ns.t", crashSchema, warehouse.WriteOptions{SemanticHash: "v1"}, map[string][]arrow.RecordBatch{
					"2024-01-01": {seqRecord(1, 0, 3)},
					"2024-01-02": {seqRecord(1, 10, 2)},
				})
				before := scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows

				code, out := runHelper(t, helperEnv+"=crash", helperRootEnv+"="+root, helperPointEnv+"="+tc.point)
				if code != crashExitCode {
					t.Fatalf("helper exit code %d, want %d; output:\n%s", code, crashExitCode, out)
				}
				// On GCS the debris is swept by a commit once it is StaleAge old.
				w2 := openAt(t, root, &Options{StaleAge: 10 * time.Millisecond})
				info, err := w2.Describe(ctx, "ns.t")
				if err != nil {
					t.Fatal(err)
				}
				got := scanAll(t, w2, "ns.t", warehouse.ScanOptions{})
				if !tc.visible {
					if !reflect.DeepEqual(got.rows, before) || info.SemanticHash != "v1" {
						t.Errorf("table changed by a crashed transaction: hash %q rows %v", info.SemanticHash, got.rows)
					}
				} else {
					counts := map[string]int{}
					for _, r := range got.rows {
						counts[r["ds"].(string)]++
					}
					if want := map[string]int{"2024-01-01": 500, "2024-01-02": 2, "2024-01-03": 500}; !reflect.DeepEqual(counts, want) || info.SemanticHash != "crashed" {
						t.Errorf("committed transaction: hash %q rows per ds %v, want %v", info.SemanticHash, counts, want)
					}
				}
				if e.gcs {
					// Debris is left, then swept by the next commit.
					objs, err := e.st.ListAll(ctx, "ns/t")
					if err != nil {
						t.Fatal(err)
					}
					files := 0
					for _, p := range info.Partitions {
						files += len(p.Files)
					}
					if debris := len(objs) - files - 1; (debris > 0) != (tc.point != "write") {
						t.Errorf("%d objects of debris after a crash at %s", debris, tc.point)
					}
					time.Sleep(20 * time.Millisecond)
					writeTxn(t, w2, "ns.t", crashSchema, warehouse.WriteOptions{Mode: warehouse.Append}, nil)
				}
				checkClean(t, w2, "ns.t")
			})
		})
	}
}

func TestConcurrentAppends(t *testing.T) {
	forEachBackend(t, testConcurrentAppends)
}

func testConcurrentAppends(t *testing.T, e *env) {
	ctx := context.Background()
	w := e.open(t, nil)
	other := e.open(t, nil) // a second instance, as another process would have
	const writers, commits = 3, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers*commits+1)
	for g := range writers {
		wh := w
		if g == writers-1 {
			wh = other
		}
		wg.Go(func() {
			for i := range commits {
				txn, err := wh.Begin(ctx, "ns.t", crashSchema, warehouse.WriteOptions{Mode: warehouse.Append})
				if err != nil {
					errs <- err
					return
				}
				if err := txn.Write(ctx, "2024-01-01", seqRecord(int64(g), int64(i), 1)); err != nil {
					errs <- err
					return
				}
				if err := txn.Commit(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	// A reader scanning meanwhile only ever sees whole commits.
	stop := make(chan struct{})
	var rg sync.WaitGroup
	rg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			s, err := w.Scan(ctx, "ns.t", warehouse.ScanOptions{Columns: []string{"v"}})
			if errors.Is(err, warehouse.ErrTableNotFound) {
				continue
			}
			if err != nil {
				errs <- err
				return
			}
			for {
				rec, err := s.Next(ctx)
				if err == io.EOF {
					break
				}
				if err != nil {
					errs <- err
					return
				}
				rec.Release()
			}
			s.Close()
		}
	})
	wg.Wait()
	close(stop)
	rg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows
	seen := map[string]bool{}
	for _, r := range got {
		seen[fmt.Sprint(r["w"], "/", r["v"])] = true
	}
	if len(got) != writers*commits || len(seen) != writers*commits {
		t.Errorf("%d rows (%d distinct) after %d appends: %v", len(got), len(seen), writers*commits, got)
	}
	m, _, err := readManifest(ctx, w.store, "ns/t")
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != writers*commits {
		t.Errorf("manifest version %d, want %d", m.Version, writers*commits)
	}
	checkClean(t, w, "ns.t")
}

func TestConcurrentProcesses(t *testing.T) {
	forEachBackend(t, testConcurrentProcesses)
}

func testConcurrentProcesses(t *testing.T, e *env) {
	root := e.root
	const procs = 2
	var wg sync.WaitGroup
	for id := range procs {
		wg.Go(func() {
			if code, out := runHelper(t, helperEnv+"=append", helperRootEnv+"="+root, helperIDEnv+"="+strconv.Itoa(id)); code != 0 {
				t.Errorf("helper %d exit code %d:\n%s", id, code, out)
			}
		})
	}
	wg.Wait()
	w := openAt(t, root, nil)
	got := scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows
	if len(got) != procs*helperAppends {
		t.Errorf("%d rows after %d appends from %d processes", len(got), procs*helperAppends, procs)
	}
	checkClean(t, w, "ns.t")
}

func TestScanDuringOverwrite(t *testing.T) {
	forEachBackend(t, testScanDuringOverwrite)
}

func testScanDuringOverwrite(t *testing.T, e *env) {
	ctx := context.Background()
	w := e.open(t, nil)
	writeTxn(t, w, "ns.t", crashSchema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{"2024-01-01": {seqRecord(1, 0, 3)}})
	s, err := w.Scan(ctx, "ns.t", warehouse.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	writeTxn(t, w, "ns.t", crashSchema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{"2024-01-01": {seqRecord(2, 0, 3)}})
	// The snapshot's file is gone: the scan fails rather than mixing versions.
	if _, err := s.Next(ctx); err == nil || !strings.Contains(err.Error(), "overwritten") {
		t.Errorf("Next: %v, want an error saying the partition was overwritten", err)
	}
}
