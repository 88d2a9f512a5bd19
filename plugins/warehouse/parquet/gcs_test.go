// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/blob"
	"github.com/chronon-go/chronon/plugins/warehouse/blob/blobtest"
)

var gcsBackend = backend{name: "gcs", gcs: true}

// putAged writes an object at rel (relative to the root of a GCS env) whose
// creation and update times are age ago.
func (e *env) putAged(t *testing.T, rel string, data []byte, age time.Duration) {
	t.Helper()
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(e.root, "gs://"), "/")
	at := time.Now().Add(-age)
	e.srv.CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: prefix + "/" + rel, Created: at, Updated: at},
		Content:     data,
	})
}

// exists reports whether the object at rel exists.
func (e *env) exists(t *testing.T, rel string) bool {
	t.Helper()
	_, err := e.st.Stat(context.Background(), rel)
	if err != nil && !errors.Is(err, blob.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func TestOpenGCS(t *testing.T) {
	srv := blobtest.Emulator(t)
	bucket := srv.NewBucket(t)
	ctx := context.Background()
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ root, wantRoot string }{
		{bucket, bucket},
		{bucket + "/", bucket},
		{bucket + "/wh", bucket + "/wh"},
		{bucket + "/team/wh/", bucket + "/team/wh"},
	} {
		w, err := Open(tc.root, nil)
		if err != nil {
			t.Fatalf("Open(%s): %v", tc.root, err)
		}
		if w.Root() != tc.wantRoot {
			t.Errorf("Open(%s).Root() = %s, want %s", tc.root, w.Root(), tc.wantRoot)
		}
		rec := recordJSON(t, memory.DefaultAllocator, crashSchema, `[{"w": 1, "v": 2}]`)
		writeTxn(t, w, "ns.t", crashSchema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{"2024-01-01": {rec}})
		info, err := w.Describe(ctx, "ns.t")
		if err != nil {
			t.Fatal(err)
		}
		f := info.Partitions[0].Files[0]
		if want := tc.wantRoot + "/ns/t/ds=2024-01-01/part-"; !strings.HasPrefix(f, want) || !strings.HasSuffix(f, ".parquet") {
			t.Errorf("file URI %s, want %s*.parquet", f, want)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// The roots are one bucket: the prefixes nest.
	w := openAt(t, bucket, nil)
	if tables, err := w.Tables(ctx); err != nil || !reflect.DeepEqual(tables, []string{"ns.t"}) {
		t.Errorf("Tables at the bucket root = %v, %v (tables under prefixes are not the root's)", tables, err)
	}
	// Nothing was created locally.
	for _, p := range []string{"gs:", filepath.Join(cwd, "test-bucket-1")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("local %s exists: %v", p, err)
		}
	}

	for _, tc := range []struct{ root, wantErr string }{
		{"gs://no-such-bucket/wh", `bucket "no-such-bucket" does not exist`},
		{"gs://", "without a bucket"},
		{"gs://Upper/wh", "bad bucket name"},
		{"gs://bucket/a/../b", "bad prefix"},
		{"gs://bucket/wh?x", "query"},
	} {
		if _, err := Open(tc.root, nil); err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "parquet: open") {
			t.Errorf("Open(%s): %v, want an error containing %q", tc.root, err, tc.wantErr)
		}
	}
	if _, err := Open(bucket, &Options{StaleAge: -time.Second}); err == nil || !strings.Contains(err.Error(), "StaleAge") {
		t.Errorf("negative StaleAge: %v", err)
	}
}

// TestRecoverDebrisGCS checks the sweep of a GCS warehouse: debris older
// than StaleAge goes at a table's first commit, anything younger stays (it
// may belong to a live writer on another machine), and Open deletes nothing.
func TestRecoverDebrisGCS(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, gcsBackend)
	w := e.open(t, nil)
	writeTxn(t, w, "ns.t", crashSchema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{
		"2024-01-01": {seqRecord(1, 0, 3)},
		"2024-01-02": {seqRecord(1, 10, 2)},
	})
	before := scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows
	info, err := w.Describe(ctx, "ns.t")
	if err != nil {
		t.Fatal(err)
	}
	data := e.read(t, e.rel(t, info.Partitions[0].Files[0]))
	const old, young = 48 * time.Hour, time.Hour
	removed := []string{
		"ns/t/_staging/1-dead/ds=2024-01-01/part-dead-0.parquet", // a crashed writer's staging
		"ns/t/_staging/1-dead/ds=2024-01-02/part-dead-0.parquet",
		"ns/t/ds=2024-01-01/part-orphan-0.parquet", // copied in, never committed
		"ns/t/ds=2024-03-01/part-orphan-0.parquet",
	}
	kept := []string{
		"ns/t/_staging/2-live/ds=2024-01-01/part-live-0.parquet", // old, but its transaction staged a file lately
		"ns/t/ds=2024-01-01/_SUCCESS",                            // not ours
		"ns/t/ds=2024-01-01/part-x-0.parquet/y",                  // not a part file
	}
	for _, p := range append(removed, kept...) {
		e.putAged(t, p, data, old)
	}
	youngKept := []string{
		"ns/t/_staging/2-live/ds=2024-01-02/part-live-0.parquet",
		"ns/t/ds=2024-01-02/part-inflight-0.parquet", // a commit in progress
	}
	for _, p := range youngKept {
		e.putAged(t, p, data, young)
	}
	kept = append(kept, youngKept...)

	// Debris is invisible, and opening deletes nothing.
	w2 := e.open(t, nil)
	if got := scanAll(t, w2, "ns.t", warehouse.ScanOptions{}).rows; !reflect.DeepEqual(got, before) {
		t.Fatalf("debris visible: %v", got)
	}
	for _, p := range append(removed, kept...) {
		if !e.exists(t, p) {
			t.Errorf("%s deleted by Open", p)
		}
	}
	// The first commit sweeps.
	writeTxn(t, w2, "ns.t", crashSchema, warehouse.WriteOptions{Mode: warehouse.Append}, map[string][]arrow.RecordBatch{"2024-01-05": {seqRecord(2, 0, 1)}})
	for _, p := range removed {
		if e.exists(t, p) {
			t.Errorf("debris %s not removed", p)
		}
	}
	for _, p := range kept {
		if !e.exists(t, p) {
			t.Errorf("%s removed", p)
		}
	}
	if got := scanAll(t, w2, "ns.t", warehouse.ScanOptions{EndDS: "2024-01-02"}).rows; !reflect.DeepEqual(got, before) {
		t.Errorf("rows after the sweep\n%v\nwant\n%v", got, before)
	}
	// A table whose manifest cannot be decoded is left alone.
	e.put(t, "ns/bad/"+manifestName, []byte("{"))
	e.putAged(t, "ns/bad/ds=2024-01-01/part-orphan-0.parquet", data, old)
	if err := w2.sweepStale(ctx, "ns/bad", "ns.bad"); err != nil {
		t.Fatal(err)
	}
	if !e.exists(t, "ns/bad/ds=2024-01-01/part-orphan-0.parquet") {
		t.Error("file of a table with a bad manifest removed")
	}
}

// TestCommitConflictGCS makes another writer commit between a commit's read
// of the manifest and its write: the commit redoes its merge on top.
func TestCommitConflictGCS(t *testing.T) {
	ctx := context.Background()
	rows := func(t *testing.T, w *Warehouse) map[string][]string {
		out := map[string][]string{}
		for _, r := range scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows {
			ds := r["ds"].(string)
			out[ds] = append(out[ds], fmt.Sprint(r["w"], "/", r["v"]))
		}
		return out
	}
	// setup opens two warehouses on a fresh root with one committed
	// partition; interfere, run by the first one's commit after its files
	// are moved, commits through the second.
	setup := func(t *testing.T, interfere func(other *Warehouse)) (*Warehouse, *Warehouse, *int) {
		e := newEnv(t, gcsBackend)
		w, other := e.open(t, nil), e.open(t, nil)
		writeTxn(t, w, "ns.t", crashSchema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{"2024-01-01": {seqRecord(0, 0, 1)}})
		conflicts := new(int)
		w.hook = func(p string) {
			switch {
			case p == hookMerged && *conflicts == 0:
				interfere(other)
			case p == hookConflict:
				*conflicts++
			}
		}
		return w, other, conflicts
	}

	t.Run("append", func(t *testing.T) {
		w, other, conflicts := setup(t, func(other *Warehouse) {
			writeTxn(t, other, "ns.t", crashSchema, warehouse.WriteOptions{Mode: warehouse.Append, Properties: map[string]string{"o": "1"}},
				map[string][]arrow.RecordBatch{"2024-01-01": {seqRecord(2, 0, 1)}})
		})
		writeTxn(t, w, "ns.t", crashSchema, warehouse.WriteOptions{Mode: warehouse.Append, Properties: map[string]string{"w": "1"}},
			map[string][]arrow.RecordBatch{"2024-01-01": {seqRecord(1, 0, 1)}, "2024-01-02": {seqRecord(1, 1, 1)}})
		if *conflicts != 1 {
			t.Errorf("%d conflicts, want 1", *conflicts)
		}
		if got, want := rows(t, other), map[string][]string{"2024-01-01": {"0/0", "2/0", "1/0"}, "2024-01-02": {"1/1"}}; !reflect.DeepEqual(got, want) {
			t.Errorf("rows %v, want %v", got, want)
		}
		m, _, err := readManifest(ctx, w.store, "ns/t")
		if err != nil {
			t.Fatal(err)
		}
		if m.Version != 3 || !reflect.DeepEqual(m.Properties, map[string]string{"o": "1", "w": "1"}) {
			t.Errorf("manifest version %d properties %v", m.Version, m.Properties)
		}
		checkClean(t, w, "ns.t")
	})

	t.Run("overwrite", func(t *testing.T) {
		// The concurrent append lands first; the overwrite, redone on top,
		// replaces it and deletes its file.
		w, _, conflicts := setup(t, func(other *Warehouse) {
			writeTxn(t, other, "ns.t", crashSchema, warehouse.WriteOptions{Mode: warehouse.Append},
				map[string][]arrow.RecordBatch{"2024-01-01": {seqRecord(2, 0, 1)}})
		})
		writeTxn(t, w, "ns.t", crashSchema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{"2024-01-01": {seqRecord(1, 0, 1)}})
		if got, want := rows(t, w), map[string][]string{"2024-01-01": {"1/0"}}; !reflect.DeepEqual(got, want) || *conflicts != 1 {
			t.Errorf("rows %v after %d conflicts, want %v after 1", got, *conflicts, want)
		}
		checkClean(t, w, "ns.t")
	})

	t.Run("schema conflict", func(t *testing.T) {
		long := arrow.NewSchema(append(crashSchema.Fields(), arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), nil)
		w, _, _ := setup(t, func(other *Warehouse) {
			writeTxn(t, other, "ns.t", long, warehouse.WriteOptions{Mode: warehouse.Append},
				map[string][]arrow.RecordBatch{"2024-01-03": {recordJSON(t, memory.DefaultAllocator, long, `[{"w": 2, "v": 0, "x": 1}]`)}})
		})
		// Adds x as a string while the other writer adds it as a long.
		str := arrow.NewSchema(append(crashSchema.Fields(), arrow.Field{Name: "x", Type: arrow.BinaryTypes.String, Nullable: true}), nil)
		txn, err := w.Begin(ctx, "ns.t", str, warehouse.WriteOptions{Mode: warehouse.Append})
		if err != nil {
			t.Fatal(err)
		}
		if err := txn.Write(ctx, "2024-01-04", recordJSON(t, memory.DefaultAllocator, str, `[{"w": 1, "v": 0, "x": "a"}]`)); err != nil {
			t.Fatal(err)
		}
		if err := txn.Commit(ctx); !errors.Is(err, warehouse.ErrSchemaConflict) {
			t.Fatalf("Commit: %v, want ErrSchemaConflict", err)
		}
		checkClean(t, w, "ns.t")
	})

	t.Run("give up", func(t *testing.T) {
		e := newEnv(t, gcsBackend)
		w, other := e.open(t, nil), e.open(t, nil)
		w.maxAttempts = 3
		writeTxn(t, w, "ns.t", crashSchema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{"2024-01-01": {seqRecord(0, 0, 1)}})
		n := 0
		w.hook = func(p string) {
			if p == hookMerged {
				n++
				writeTxn(t, other, "ns.t", crashSchema, warehouse.WriteOptions{Mode: warehouse.Append},
					map[string][]arrow.RecordBatch{"2024-01-01": {seqRecord(2, int64(n), 1)}})
			}
		}
		txn, err := w.Begin(ctx, "ns.t", crashSchema, warehouse.WriteOptions{Mode: warehouse.Append})
		if err != nil {
			t.Fatal(err)
		}
		if err := txn.Write(ctx, "2024-01-02", seqRecord(1, 0, 1)); err != nil {
			t.Fatal(err)
		}
		err = txn.Commit(ctx)
		var ce *blob.ConflictError
		if !errors.Is(err, blob.ErrConflict) || !errors.As(err, &ce) || !strings.Contains(err.Error(), "3 attempts") || !strings.Contains(err.Error(), "ns.t") {
			t.Fatalf("Commit: %v, want a conflict error after 3 attempts", err)
		}
		if got := rows(t, other); len(got["2024-01-01"]) != 4 || got["2024-01-02"] != nil {
			t.Errorf("rows %v: want the other writer's 3 appends and nothing of the failed commit", got)
		}
		checkClean(t, w, "ns.t")
	})
}

// lostResponseStore reports the first WriteIf of a manifest as a conflict
// although the write happened, as the GCS client does when it retries a
// write whose response was lost; after the write it runs meanwhile.
type lostResponseStore struct {
	blob.Store
	lost      int
	meanwhile func()
}

func (s *lostResponseStore) WriteIf(ctx context.Context, p string, data []byte, expected blob.Version) (blob.Version, error) {
	v, err := s.Store.WriteIf(ctx, p, data, expected)
	if err != nil || s.lost == 0 || !strings.HasSuffix(p, manifestName) {
		return v, err
	}
	s.lost--
	if s.meanwhile != nil {
		s.meanwhile()
	}
	return blob.Absent, &blob.ConflictError{Path: p, Expected: expected}
}

func TestCommitLostResponseGCS(t *testing.T) {
	ctx := context.Background()
	t.Run("append", func(t *testing.T) {
		e := newEnv(t, gcsBackend)
		w := e.open(t, nil)
		writeTxn(t, w, "ns.t", crashSchema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{"2024-01-01": {seqRecord(0, 0, 1)}})
		w.store = &lostResponseStore{Store: w.store, lost: 1}
		writeTxn(t, w, "ns.t", crashSchema, warehouse.WriteOptions{Mode: warehouse.Append}, map[string][]arrow.RecordBatch{"2024-01-01": {seqRecord(1, 0, 1)}})
		m, _, err := readManifest(ctx, w.store, "ns/t")
		if err != nil {
			t.Fatal(err)
		}
		if got := scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows; len(got) != 2 || m.Version != 2 {
			t.Errorf("version %d rows %v: the append was applied twice", m.Version, got)
		}
		checkClean(t, w, "ns.t")
	})
	t.Run("superseded", func(t *testing.T) {
		// The commit landed, and another writer overwrote its partition
		// (deleting its file) before the retry read the manifest.
		e := newEnv(t, gcsBackend)
		w, other := e.open(t, nil), e.open(t, nil)
		writeTxn(t, w, "ns.t", crashSchema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{"2024-01-01": {seqRecord(0, 0, 1)}})
		w.store = &lostResponseStore{Store: w.store, lost: 1, meanwhile: func() {
			writeTxn(t, other, "ns.t", crashSchema, warehouse.WriteOptions{}, map[string][]arrow.RecordBatch{"2024-01-02": {seqRecord(2, 0, 1)}})
		}}
		writeTxn(t, w, "ns.t", crashSchema, warehouse.WriteOptions{Mode: warehouse.Append}, map[string][]arrow.RecordBatch{"2024-01-02": {seqRecord(1, 0, 1)}})
		got := scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows
		if len(got) != 2 || fmt.Sprint(got[1]["w"]) != "2" {
			t.Errorf("rows %v, want the first commit's and the overwrite's", got)
		}
		checkClean(t, w, "ns.t")
	})
}
