// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/blob"
	"github.com/chronon-go/chronon/plugins/warehouse/blob/blobtest"
)

// backend is a kind of storage a warehouse can live on.
type backend struct {
	name string
	gcs  bool
}

// backends are the storages the behavioural tests run on: a local temporary
// directory, and a bucket of an in-process fake GCS server.
var backends = []backend{{name: "local"}, {name: "gcs", gcs: true}}

// env is a fresh, empty warehouse root on a backend.
type env struct {
	backend
	root string
	srv  *blobtest.Server // GCS only
	st   blob.Store       // raw access to the root
}

// newEnv makes a fresh root on b. On GCS it starts an emulator and points
// STORAGE_EMULATOR_HOST at it for the test (and its subprocesses).
func newEnv(t *testing.T, b backend) *env {
	t.Helper()
	e := &env{backend: b}
	if b.gcs {
		e.srv = blobtest.Emulator(t)
		e.root = e.srv.NewBucket(t) + "/wh"
	} else {
		e.root = t.TempDir()
	}
	st, err := blob.Open(context.Background(), e.root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e.st = st
	return e
}

// forEachBackend runs f as a subtest on a fresh root of every backend.
func forEachBackend(t *testing.T, f func(t *testing.T, e *env)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, newEnv(t, b)) })
	}
}

// open opens the warehouse at the env's root.
func (e *env) open(t testing.TB, opts *Options) *Warehouse {
	t.Helper()
	return openAt(t, e.root, opts)
}

// rel returns the path relative to the root of a file Describe returned.
func (e *env) rel(t testing.TB, uri string) string {
	t.Helper()
	if e.gcs {
		rel, ok := strings.CutPrefix(uri, e.root+"/")
		if !ok {
			t.Fatalf("%s is not under %s", uri, e.root)
		}
		return rel
	}
	rel, err := filepath.Rel(e.root, uri)
	if err != nil || !filepath.IsAbs(uri) {
		t.Fatalf("%s is not an absolute path under %s", uri, e.root)
	}
	return filepath.ToSlash(rel)
}

// stat describes a file Describe returned.
func (e *env) stat(t testing.TB, uri string) (blob.Entry, error) {
	t.Helper()
	return e.st.Stat(context.Background(), e.rel(t, uri))
}

// put writes an object at rel, relative to the root.
func (e *env) put(t testing.TB, rel string, data []byte) {
	t.Helper()
	w, err := e.st.Create(context.Background(), rel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// read reads the object at rel, relative to the root.
func (e *env) read(t testing.TB, rel string) []byte {
	t.Helper()
	b, _, err := e.st.Read(context.Background(), rel)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// list lists the directory rel, relative to the root.
func (e *env) list(t testing.TB, rel string) []blob.Entry {
	t.Helper()
	es, err := e.st.List(context.Background(), rel)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// openTest opens a warehouse in a fresh temporary directory.
func openTest(t testing.TB, opts *Options) *Warehouse {
	t.Helper()
	return openAt(t, t.TempDir(), opts)
}

// openAt opens the warehouse at root and closes it at the end of the test.
func openAt(t testing.TB, root string, opts *Options) *Warehouse {
	t.Helper()
	w, err := Open(root, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", root, err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// recordJSON builds a record of schema from a JSON array of row objects.
func recordJSON(t testing.TB, mem memory.Allocator, schema *arrow.Schema, rows string) arrow.RecordBatch {
	t.Helper()
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(rows))
	if err != nil {
		t.Fatalf("RecordFromJSON: %v", err)
	}
	return rec
}

// rowsOf returns rec's rows decoded from Arrow's JSON form, so values of
// every type compare with reflect.DeepEqual.
func rowsOf(t testing.TB, rec arrow.RecordBatch) []map[string]any {
	t.Helper()
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatalf("marshal record: %v", err)
	}
	return decodeRows(t, string(b))
}

// decodeRows decodes a JSON array of row objects, numbers as json.Number so
// that 64-bit integers compare exactly.
func decodeRows(t testing.TB, s string) []map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var rows []map[string]any
	if err := d.Decode(&rows); err != nil {
		t.Fatalf("decode rows: %v", err)
	}
	return rows
}

// withDS returns rows with column ds set to ds and the columns named in nulls
// set to null.
func withDS(rows []map[string]any, ds string, nulls ...string) []map[string]any {
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		c := make(map[string]any, len(r)+1)
		for k, v := range r {
			c[k] = v
		}
		for _, n := range nulls {
			c[n] = nil
		}
		c[warehouse.PartitionColumn] = ds
		out[i] = c
	}
	return out
}

// writeTxn writes recs (partition -> records) in one transaction and commits.
func writeTxn(t testing.TB, w *Warehouse, table string, schema *arrow.Schema, opts warehouse.WriteOptions, parts map[string][]arrow.RecordBatch) {
	t.Helper()
	ctx := context.Background()
	txn, err := w.Begin(ctx, table, schema, opts)
	if err != nil {
		t.Fatalf("Begin(%s): %v", table, err)
	}
	for _, ds := range sortedKeys(parts) {
		for _, rec := range parts[ds] {
			if err := txn.Write(ctx, ds, rec); err != nil {
				t.Fatalf("Write(%s, %s): %v", table, ds, err)
			}
		}
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatalf("Commit(%s): %v", table, err)
	}
}

// scanResult is everything a scan returned.
type scanResult struct {
	schema  *arrow.Schema
	rows    []map[string]any
	batches int
	maxRows int64
}

// scanAll scans table to the end, checking every batch against the
// scanner's schema, and returns the rows.
func scanAll(t testing.TB, w *Warehouse, table string, opts warehouse.ScanOptions) scanResult {
	t.Helper()
	ctx := context.Background()
	s, err := w.Scan(ctx, table, opts)
	if err != nil {
		t.Fatalf("Scan(%s): %v", table, err)
	}
	defer s.Close()
	res := scanResult{schema: s.Schema(), rows: []map[string]any{}}
	for {
		rec, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next(%s): %v", table, err)
		}
		if !rec.Schema().Equal(res.schema) {
			t.Fatalf("batch schema %v, scanner schema %v", rec.Schema(), res.schema)
		}
		for i, c := range rec.Columns() {
			if got, want := c.DataType().String(), res.schema.Field(i).Type.String(); got != want {
				t.Fatalf("column %d has type %s, schema says %s", i, got, want)
			}
		}
		res.batches++
		res.maxRows = max(res.maxRows, rec.NumRows())
		res.rows = append(res.rows, rowsOf(t, rec)...)
		rec.Release()
	}
	if _, err := s.Next(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after EOF: %v, want io.EOF", err)
	}
	return res
}

// peakAllocator counts the bytes allocated through it: currently, at the
// peak, and in total.
type peakAllocator struct {
	memory.Allocator
	cur, peak, total atomic.Int64
}

func (a *peakAllocator) add(n int64) {
	if n > 0 {
		a.total.Add(n)
	}
	c := a.cur.Add(n)
	for {
		p := a.peak.Load()
		if c <= p || a.peak.CompareAndSwap(p, c) {
			return
		}
	}
}

func (a *peakAllocator) Allocate(size int) []byte {
	a.add(int64(size))
	return a.Allocator.Allocate(size)
}

func (a *peakAllocator) Reallocate(size int, b []byte) []byte {
	a.add(int64(size - len(b)))
	return a.Allocator.Reallocate(size, b)
}

func (a *peakAllocator) Free(b []byte) {
	a.add(-int64(len(b)))
	a.Allocator.Free(b)
}
