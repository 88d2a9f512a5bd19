// SPDX-License-Identifier: Apache-2.0

package sqlite_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
)

const base int64 = 1_700_000_000_000

// roundEntries is round r of a writer: every key of keys at ts base+r, in
// one call (one transaction).
func roundEntries(prefix string, keys, r int) []kv.Entry {
	es := make([]kv.Entry, keys)
	ts := base + int64(r)
	for k := range es {
		key := fmt.Sprintf("%s-%03d", prefix, k)
		es[k] = kv.Entry{Key: []byte(key), Value: []byte(key + "@" + strconv.Itoa(r)), TsMillis: ts}
	}
	return es
}

// checkSnapshot reads the latest value of every key of a writer's rounds in
// one MultiGet and checks they come from one round: a round is one
// transaction and a MultiGet one snapshot. It returns the round seen, -1
// if none yet.
func checkSnapshot(ctx context.Context, s kv.Store, ds, prefix string, keys int) (int, error) {
	reqs := make([]kv.GetRequest, keys)
	for k := range reqs {
		reqs[k] = kv.GetRequest{Dataset: ds, Key: []byte(fmt.Sprintf("%s-%03d", prefix, k))}
	}
	res, err := s.MultiGet(ctx, reqs)
	if err != nil {
		return 0, err
	}
	round := -2
	for k, r := range res {
		if r.Err != nil {
			return 0, r.Err
		}
		got := -1
		if len(r.Values) == 1 {
			e := r.Values[0]
			got = int(e.TsMillis - base)
			if want := string(reqs[k].Key) + "@" + strconv.Itoa(got); string(e.Value) != want {
				return 0, fmt.Errorf("key %s: value %q, want %q", reqs[k].Key, e.Value, want)
			}
		} else if len(r.Values) > 1 {
			return 0, fmt.Errorf("key %s: latest get returned %d values", reqs[k].Key, len(r.Values))
		}
		if round != -2 && got != round {
			return 0, fmt.Errorf("torn snapshot: key %d at round %d, key 0 at round %d", k, got, round)
		}
		round = got
	}
	return round, nil
}

// TestTwoStores opens two Stores on one file: datasets and values one
// creates are seen by the other, one writes while the other reads and
// writes, and every MultiGet sees whole write transactions.
func TestTwoStores(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kv.db")
	s1, err := sqlite.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	s2, err := sqlite.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()

	// s2 looks the dataset up before it exists: the miss is not cached.
	res, err := s2.MultiGet(ctx, []kv.GetRequest{{Dataset: "D", Key: []byte("k")}})
	if err != nil || !errors.Is(res[0].Err, kv.ErrNoDataset) {
		t.Fatalf("MultiGet before CreateDataset: %v, %v", err, res[0].Err)
	}
	for _, ds := range []string{"D", "OTHER"} {
		if err := s1.CreateDataset(ctx, ds); err != nil {
			t.Fatal(err)
		}
	}
	const keys, rounds = 30, 60 // 30 keys: one get statement (TestProcesses reads 50: several)
	var wg sync.WaitGroup
	wg.Go(func() { // s1 writes rounds
		for r := range rounds {
			write := s1.MultiPut
			if r%2 == 1 {
				write = s1.BulkLoad
			}
			if err := write(ctx, "D", roundEntries("k", keys, r)); err != nil {
				t.Errorf("s1 round %d: %v", r, err)
				return
			}
		}
	})
	wg.Go(func() { // s2 writes another dataset meanwhile: the writers take turns
		for r := range rounds / 2 {
			if err := s2.MultiPut(ctx, "OTHER", roundEntries("o", 10, r)); err != nil {
				t.Errorf("s2 round %d: %v", r, err)
				return
			}
		}
	})
	wg.Go(func() { // s2 reads whole rounds, never going back
		last := -1
		for range 100 {
			r, err := checkSnapshot(ctx, s2, "D", "k", keys)
			if err != nil {
				t.Errorf("s2 read: %v", err)
				return
			}
			if r < last {
				t.Errorf("s2 read round %d after round %d", r, last)
				return
			}
			last = r
		}
	})
	wg.Wait()
	if r, err := checkSnapshot(ctx, s2, "D", "k", keys); err != nil || r != rounds-1 {
		t.Errorf("s2 final read: round %d, %v; want %d", r, err, rounds-1)
	}
	if r, err := checkSnapshot(ctx, s1, "OTHER", "o", 10); err != nil || r != rounds/2-1 {
		t.Errorf("s1 reading s2's writes: round %d, %v; want %d", r, err, rounds/2-1)
	}
}

// helperEnv names the file a helper process writes to.
const helperEnv = "CHRONON_KV_SQLITE_HELPER_PATH"

// TestHelperProcess is the writer process of TestProcesses; it does
// nothing in a normal test run.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process of TestProcesses")
	}
	s, err := sqlite.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for r := range helperRounds {
		write := s.MultiPut
		if r%2 == 1 {
			write = s.BulkLoad
		}
		if err := write(t.Context(), "FROM_HELPER", roundEntries("h", helperKeys, r)); err != nil {
			t.Fatalf("round %d: %v", r, err)
		}
		time.Sleep(time.Millisecond) // let the test's reads see rounds
	}
}

const helperKeys, helperRounds = 50, 100

// TestProcesses re-executes the test binary as a writer process while this
// process reads (whole transactions, in order) and writes too.
func TestProcesses(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "kv.db")
	s, err := sqlite.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, ds := range []string{"FROM_HELPER", "FROM_TEST"} {
		if err := s.CreateDataset(ctx, ds); err != nil {
			t.Fatal(err)
		}
	}

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var helperErr error
	go func() { helperErr = cmd.Wait(); close(done) }()

	var wg sync.WaitGroup
	seen := map[int]bool{}
	wg.Go(func() { // reads whole rounds, never going back
		last := -1
		for {
			select {
			case <-done:
				return
			default:
			}
			r, err := checkSnapshot(ctx, s, "FROM_HELPER", "h", helperKeys)
			if err != nil {
				t.Errorf("read while the helper writes: %v", err)
				return
			}
			if r < last {
				t.Errorf("read round %d after round %d", r, last)
				return
			}
			last, seen[r] = r, true
		}
	})
	w := 0
	wg.Go(func() { // writes too, taking turns with the helper
		for ; ; w++ {
			select {
			case <-done:
				return
			default:
			}
			if err := s.MultiPut(ctx, "FROM_TEST", roundEntries("t", 10, w)); err != nil {
				t.Errorf("write while the helper writes: %v", err)
				return
			}
		}
	})
	wg.Wait()
	<-done
	if helperErr != nil {
		t.Fatalf("helper process: %v\n%s", helperErr, out.String())
	}
	between := 0
	for r := range seen {
		if r >= 0 && r < helperRounds-1 {
			between++
		}
	}
	t.Logf("saw %d rounds of %d while the helper wrote; wrote %d rounds meanwhile", len(seen), helperRounds, w)
	if between == 0 {
		t.Errorf("saw no round while the helper wrote (only %v)", seen)
	}
	if r, err := checkSnapshot(ctx, s, "FROM_HELPER", "h", helperKeys); err != nil || r != helperRounds-1 {
		t.Errorf("final read: round %d, %v; want %d", r, err, helperRounds-1)
	}
	if r, err := checkSnapshot(ctx, s, "FROM_TEST", "t", 10); err != nil || r != w-1 {
		t.Errorf("own writes: round %d, %v; want %d", r, err, w-1)
	}
}

// lockFile holds the write lock of the file at path until the test ends
// or release is called.
func lockFile(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_ = tx.Rollback()
			_ = db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// TestLockedByAnotherWriter: while another connection holds the write
// lock, reads go on, and a write waits for BusyTimeout or until its
// context is done, then fails; once the lock is released writes succeed.
func TestLockedByAnotherWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kv.db")
	s, err := sqlite.Open(path, &sqlite.Options{BusyTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if err := s.CreateDataset(ctx, "D"); err != nil {
		t.Fatal(err)
	}
	if err := s.MultiPut(ctx, "D", roundEntries("k", 1, 0)); err != nil {
		t.Fatal(err)
	}
	release := lockFile(t, path)

	if r, err := checkSnapshot(ctx, s, "D", "k", 1); err != nil || r != 0 {
		t.Errorf("read while locked: round %d, %v", r, err)
	}
	start := time.Now()
	s2, err := sqlite.Open(path, &sqlite.Options{BusyTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Open while locked: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Open while locked took %v", d)
	}
	if r, err := checkSnapshot(ctx, s2, "D", "k", 1); err != nil || r != 0 {
		t.Errorf("read of a store opened while locked: round %d, %v", r, err)
	}
	if err := s2.Close(); err != nil {
		t.Error(err)
	}
	tests := []struct {
		name     string
		timeout  time.Duration // of the call's context; 0: none
		min, max time.Duration // how long the call takes
		ctxErr   bool
	}{
		{"busy timeout", 0, 250 * time.Millisecond, 3 * time.Second, false},
		{"context ends the wait", 50 * time.Millisecond, 0, 250 * time.Millisecond, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cctx := ctx
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				cctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			start := time.Now()
			err := s.MultiPut(cctx, "D", roundEntries("k", 1, 1))
			d := time.Since(start)
			if err == nil {
				t.Fatal("MultiPut succeeded while another connection held the write lock")
			}
			if d < tc.min || d > tc.max {
				t.Errorf("MultiPut failed after %v, want between %v and %v: %v", d, tc.min, tc.max, err)
			}
			if got := errors.Is(err, context.DeadlineExceeded); got != tc.ctxErr {
				t.Errorf("errors.Is(%v, context.DeadlineExceeded) = %v, want %v", err, got, tc.ctxErr)
			}
		})
	}
	release()
	if err := s.MultiPut(ctx, "D", roundEntries("k", 1, 2)); err != nil {
		t.Fatalf("MultiPut after the lock was released: %v", err)
	}
	if r, err := checkSnapshot(ctx, s, "D", "k", 1); err != nil || r != 2 {
		t.Errorf("read after the lock was released: round %d, %v", r, err)
	}
}

// TestErrorsNameDataset: errors name the store and the dataset.
func TestErrorsNameDataset(t *testing.T) {
	s := openTemp(t, nil)
	defer s.Close()
	ctx := t.Context()
	const ds = "NO_SUCH_DATASET"
	es := roundEntries("k", 1, 0)
	tests := []struct {
		name string
		call func() error
	}{
		{"MultiGet", func() error {
			res, err := s.MultiGet(ctx, []kv.GetRequest{{Dataset: ds, Key: []byte("k")}})
			if err != nil {
				return err
			}
			return res[0].Err
		}},
		{"MultiPut", func() error { return s.MultiPut(ctx, ds, es) }},
		{"BulkLoad", func() error { return s.BulkLoad(ctx, ds, es) }},
		{"Expire", func() error { _, err := s.Expire(ctx, ds, base, true); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if !errors.Is(err, kv.ErrNoDataset) {
				t.Fatalf("%v, want kv.ErrNoDataset", err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "kv/sqlite: ") || !strings.Contains(msg, strconv.Quote(ds)) {
				t.Errorf("error %q does not name the store and the dataset", msg)
			}
		})
	}
	if err := s.CreateDataset(ctx, ""); err == nil {
		t.Error("CreateDataset of an empty name succeeded")
	}
}

// TestReopen: values survive Close; Close twice is fine; calls after Close
// fail.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sub", "dir", "kv.db") // parents are created
	s, err := sqlite.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateDataset(ctx, "D"); err != nil {
		t.Fatal(err)
	}
	if err := s.BulkLoad(ctx, "D", roundEntries("k", 10, 7)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if _, err := s.MultiGet(ctx, []kv.GetRequest{{Dataset: "D", Key: []byte("k-000")}}); err == nil {
		t.Error("MultiGet after Close succeeded")
	}
	if err := s.MultiPut(ctx, "D", roundEntries("k", 1, 8)); err == nil {
		t.Error("MultiPut after Close succeeded")
	}

	s, err = sqlite.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CreateDataset(ctx, "D"); err != nil {
		t.Fatal(err)
	}
	if r, err := checkSnapshot(ctx, s, "D", "k", 10); err != nil || r != 7 {
		t.Errorf("after reopening: round %d, %v; want 7", r, err)
	}
}

// TestOpenPaths: file names SQLite URIs would misread work.
func TestOpenPaths(t *testing.T) {
	for _, name := range []string{"kv.db", "a?b=c.db", "has#hash.db", "per%25cent.db", "sp ace.db", "mode=ro"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, name)
			s, err := sqlite.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if err := s.CreateDataset(ctx, "D"); err != nil {
				t.Fatal(err)
			}
			if err := s.MultiPut(ctx, "D", roundEntries("k", 1, 0)); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("the file is not at %s: %v", path, err)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	notDB := filepath.Join(dir, "not.db")
	if err := os.WriteFile(notDB, bytes.Repeat([]byte("not a database "), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer.db")
	db, err := sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	tests := []struct {
		name string
		path string
		opts *sqlite.Options
		want string // in the error
	}{
		{"empty path", "", nil, "empty path"},
		{"parent is a file", filepath.Join(file, "kv.db"), nil, "kv.db"},
		{"not a database", notDB, nil, "not.db"},
		{"newer layout", newer, nil, "layout version 99"},
		{"negative ReadConns", filepath.Join(dir, "a.db"), &sqlite.Options{ReadConns: -1}, "ReadConns"},
		{"tiny BusyTimeout", filepath.Join(dir, "a.db"), &sqlite.Options{BusyTimeout: time.Microsecond}, "BusyTimeout"},
		{"bad Synchronous", filepath.Join(dir, "a.db"), &sqlite.Options{Synchronous: "sometimes"}, "Synchronous"},
		{"Synchronous OFF", filepath.Join(dir, "a.db"), &sqlite.Options{Synchronous: "off"}, "Synchronous"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqlite.Open(tc.path, tc.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.HasPrefix(err.Error(), "kv/sqlite: open") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to start with %q and contain %q", err, "kv/sqlite: open", tc.want)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	procs := max(4, runtime.GOMAXPROCS(0))
	tests := []struct {
		name string
		in   *sqlite.Options
		want sqlite.Options
	}{
		{"nil", nil, sqlite.Options{ReadConns: procs, BusyTimeout: 10 * time.Second, Synchronous: "NORMAL", MmapSize: 1 << 30}},
		{"zero", &sqlite.Options{}, sqlite.Options{ReadConns: procs, BusyTimeout: 10 * time.Second, Synchronous: "NORMAL", MmapSize: 1 << 30}},
		{"set", &sqlite.Options{ReadConns: 2, BusyTimeout: time.Second, Synchronous: "full", MmapSize: 1 << 20},
			sqlite.Options{ReadConns: 2, BusyTimeout: time.Second, Synchronous: "FULL", MmapSize: 1 << 20}},
		{"mmap off", &sqlite.Options{MmapSize: -5}, sqlite.Options{ReadConns: procs, BusyTimeout: 10 * time.Second, Synchronous: "NORMAL", MmapSize: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before sqlite.Options
			if tc.in != nil {
				before = *tc.in
			}
			if got := tc.in.EnsureDefaults(); *got != tc.want {
				t.Errorf("EnsureDefaults = %+v, want %+v", *got, tc.want)
			}
			if tc.in != nil && *tc.in != before {
				t.Errorf("EnsureDefaults modified its receiver: %+v", *tc.in)
			}
			if again := tc.in.EnsureDefaults().EnsureDefaults(); *again != tc.want {
				t.Errorf("EnsureDefaults twice = %+v, want %+v", *again, tc.want)
			}
			s := openTemp(t, tc.in)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
