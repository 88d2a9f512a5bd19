// SPDX-License-Identifier: Apache-2.0

package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronon-go/chronon/plugins/warehouse/blob"
	"github.com/chronon-go/chronon/plugins/warehouse/blob/blobtest"
)

// backend opens a fresh, empty store.
type backend struct {
	name string
	open func(t *testing.T) blob.Store
}

var backends = []backend{
	{"local", func(t *testing.T) blob.Store { return openStore(t, t.TempDir()) }},
	{"gcs", func(t *testing.T) blob.Store {
		srv := blobtest.Emulator(t)
		return openStore(t, srv.NewBucket(t)+"/pre/fix")
	}},
}

func openStore(t *testing.T, root string) blob.Store {
	t.Helper()
	s, err := blob.Open(context.Background(), root)
	if err != nil {
		t.Fatalf("Open(%s): %v", root, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func forEachBackend(t *testing.T, f func(t *testing.T, s blob.Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b.open(t)) })
	}
}

func put(t *testing.T, s blob.Store, p string, data []byte) {
	t.Helper()
	w, err := s.Create(context.Background(), p)
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

func read(t *testing.T, s blob.Store, p string) []byte {
	t.Helper()
	b, _, err := s.Read(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func paths(es []blob.Entry) []string {
	out := []string{}
	for _, e := range es {
		p := e.Path
		if e.Dir {
			p += "/"
		}
		out = append(out, p)
	}
	return out
}

// objects lists every object of the store except local temporary and lock
// files.
func objects(t *testing.T, s blob.Store) []string {
	t.Helper()
	es, err := s.ListAll(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, e := range es {
		if e.Name() != blob.LockFile {
			out = append(out, e.Path)
		}
	}
	return out
}

func TestCreate(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s blob.Store) {
		ctx := context.Background()
		w, err := s.Create(ctx, "a/b/obj")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("hello ")); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(bytes.Repeat([]byte("x"), 3<<20)); err != nil {
			t.Fatal(err)
		}
		// Invisible until Close.
		if _, err := s.Stat(ctx, "a/b/obj"); !errors.Is(err, blob.ErrNotExist) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat before Close: %v, want ErrNotExist", err)
		}
		if _, err := s.Open(ctx, "a/b/obj"); !errors.Is(err, blob.ErrNotExist) {
			t.Errorf("Open before Close: %v, want ErrNotExist", err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err == nil {
			t.Error("second Close succeeded")
		}
		if err := w.Abort(); err != nil {
			t.Errorf("Abort after Close: %v", err)
		}
		e, err := s.Stat(ctx, "a/b/obj")
		if err != nil || e.Size != 6+3<<20 || e.Path != "a/b/obj" || e.Dir || time.Since(e.ModTime) > time.Hour {
			t.Errorf("Stat: %+v, %v", e, err)
		}
		if b := read(t, s, "a/b/obj"); !bytes.HasPrefix(b, []byte("hello x")) || len(b) != 6+3<<20 {
			t.Errorf("read %d bytes %q...", len(b), b[:min(len(b), 10)])
		}

		// Replacing an object.
		put(t, s, "a/b/obj", []byte("v2"))
		if b := read(t, s, "a/b/obj"); string(b) != "v2" {
			t.Errorf("replaced object reads %q", b)
		}

		// Abort leaves nothing.
		w, err = s.Create(ctx, "a/aborted")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(bytes.Repeat([]byte("y"), 5<<20)); err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		// An unwritten writer too.
		w, err = s.Create(ctx, "a/never")
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond) // let an aborted upload wind down
		if got, want := objects(t, s), []string{"a/b/obj"}; !reflect.DeepEqual(got, want) {
			t.Errorf("objects after Abort: %v, want %v", got, want)
		}

		// An empty object.
		put(t, s, "empty", nil)
		r, err := s.Open(ctx, "empty")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := r.ReadAt(make([]byte, 1), 0); n != 0 || err != io.EOF || r.Size() != 0 {
			t.Errorf("empty object: size %d, ReadAt %d, %v", r.Size(), n, err)
		}
		r.Close()
	})
}

func TestReadAt(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s blob.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(1, 2))
		data := make([]byte, 3*blob.ReadAhead+12345)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		put(t, s, "f.bin", data)
		small := []byte("tiny object")
		put(t, s, "small", small)

		r, err := s.Open(ctx, "f.bin")
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if r.Size() != int64(len(data)) {
			t.Fatalf("Size %d, want %d", r.Size(), len(data))
		}
		n := int64(len(data))
		for _, tc := range []struct{ off, len int64 }{
			{n - 8, 8}, // Parquet footer length and magic
			{n - 5000, 4992},
			{0, 4},
			{100, 1000},
			{blob.ReadAhead - 10, 20}, // across blocks
			{0, 2*blob.ReadAhead + 7}, // larger than a block
			{n - 1, 1},
			{12345, 0},
		} {
			p := make([]byte, tc.len)
			got, err := r.ReadAt(p, tc.off)
			if err != nil || int64(got) != tc.len || !bytes.Equal(p, data[tc.off:tc.off+tc.len]) {
				t.Errorf("ReadAt(%d bytes at %d) = %d, %v (content equal: %v)", tc.len, tc.off, got, err, bytes.Equal(p, data[tc.off:tc.off+tc.len]))
			}
		}
		// Past the end: a short read with io.EOF.
		p := make([]byte, 100)
		if got, err := r.ReadAt(p, n-10); got != 10 || err != io.EOF || !bytes.Equal(p[:10], data[n-10:]) {
			t.Errorf("ReadAt past the end = %d, %v", got, err)
		}
		if got, err := r.ReadAt(p, n+5); got != 0 || err != io.EOF {
			t.Errorf("ReadAt after the end = %d, %v", got, err)
		}
		if _, err := r.ReadAt(p, -1); err == nil {
			t.Error("ReadAt at a negative offset succeeded")
		}
		// Concurrent reads.
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(g), 7))
				for range 20 {
					off := rng.Int64N(n)
					l := min(rng.Int64N(200_000), n-off)
					p := make([]byte, l)
					if got, err := r.ReadAt(p, off); int64(got) != l || (err != nil && err != io.EOF) || !bytes.Equal(p, data[off:off+l]) {
						t.Errorf("concurrent ReadAt(%d at %d) = %d, %v", l, off, got, err)
						return
					}
				}
			})
		}
		wg.Wait()

		rs, err := s.Open(ctx, "small")
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		p = make([]byte, len(small))
		if got, err := rs.ReadAt(p, 0); got != len(small) || err != nil || !bytes.Equal(p, small) {
			t.Errorf("small object ReadAt = %d, %v, %q", got, err, p)
		}
		if _, err := s.Open(ctx, "missing"); !errors.Is(err, blob.ErrNotExist) {
			t.Errorf("Open(missing): %v, want ErrNotExist", err)
		}
	})
}

func TestWriteIf(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s blob.Store) {
		ctx := context.Background()
		const p = "t/_manifest"
		if _, _, err := s.Read(ctx, p); !errors.Is(err, blob.ErrNotExist) {
			t.Fatalf("Read(missing): %v, want ErrNotExist", err)
		}
		v1, err := s.WriteIf(ctx, p, []byte("one"), blob.Absent)
		if err != nil || v1 == blob.Absent {
			t.Fatalf("create: %v, %v", v1, err)
		}
		_, err = s.WriteIf(ctx, p, []byte("again"), blob.Absent)
		var ce *blob.ConflictError
		if !errors.Is(err, blob.ErrConflict) || !errors.As(err, &ce) || ce.Path != p || ce.Expected != blob.Absent {
			t.Fatalf("second create: %v, want a ConflictError", err)
		}
		b, v, err := s.Read(ctx, p)
		if err != nil || string(b) != "one" || v != v1 {
			t.Fatalf("Read = %q, %v, %v; want one, %v", b, v, err, v1)
		}
		v2, err := s.WriteIf(ctx, p, []byte("two"), v1)
		if err != nil || v2 == v1 || v2 == blob.Absent {
			t.Fatalf("update: %v, %v", v2, err)
		}
		if _, err := s.WriteIf(ctx, p, []byte("stale"), v1); !errors.Is(err, blob.ErrConflict) {
			t.Fatalf("stale update: %v, want ErrConflict", err)
		}
		if b := read(t, s, p); string(b) != "two" {
			t.Fatalf("content %q after a failed update", b)
		}
		// A deleted object conflicts with its last version.
		if err := s.Delete(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := s.WriteIf(ctx, p, []byte("x"), v2); !errors.Is(err, blob.ErrConflict) {
			t.Fatalf("update of a deleted object: %v, want ErrConflict", err)
		}

		// Concurrent compare-and-swap increments: none is lost.
		if _, err := s.WriteIf(ctx, "t/counter", nil, blob.Absent); err != nil {
			t.Fatal(err)
		}
		const workers, each = 4, 5
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for i := 0; i < each; {
					b, v, err := s.Read(ctx, "t/counter")
					if err != nil {
						t.Error(err)
						return
					}
					next := []byte(strings.Repeat("+", len(b)+1))
					_, err = s.WriteIf(ctx, "t/counter", next, v)
					if errors.Is(err, blob.ErrConflict) {
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					i++
				}
			})
		}
		wg.Wait()
		if b := read(t, s, "t/counter"); len(b) != workers*each {
			t.Errorf("counter %d, want %d", len(b), workers*each)
		}
	})
}

func TestListStatDeleteRename(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s blob.Store) {
		ctx := context.Background()
		for _, p := range []string{"a/b/c", "a/b/d", "a/e", "a-f", "g", "a/b/c2/h"} {
			put(t, s, p, []byte(p))
		}
		list := func(dir string) []string {
			t.Helper()
			es, err := s.List(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			return paths(es)
		}
		listAll := func(dir string) []string {
			t.Helper()
			es, err := s.ListAll(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			return paths(es)
		}
		if got, want := list(""), []string{"a/", "a-f", "g"}; !reflect.DeepEqual(got, want) {
			t.Errorf("List(root) = %v, want %v", got, want)
		}
		if got, want := list("a/b"), []string{"a/b/c", "a/b/c2/", "a/b/d"}; !reflect.DeepEqual(got, want) {
			t.Errorf("List(a/b) = %v, want %v", got, want)
		}
		if got := list("nope"); len(got) != 0 {
			t.Errorf("List(missing) = %v", got)
		}
		if got, want := listAll("a"), []string{"a/b/c", "a/b/c2/h", "a/b/d", "a/e"}; !reflect.DeepEqual(got, want) {
			t.Errorf("ListAll(a) = %v, want %v", got, want)
		}
		es, _ := s.List(ctx, "a")
		for _, e := range es {
			if e.Path == "a/e" && (e.Size != 3 || e.ModTime.IsZero()) {
				t.Errorf("List entry %+v", e)
			}
		}
		if _, err := s.Stat(ctx, "a/b"); !errors.Is(err, blob.ErrNotExist) {
			t.Errorf("Stat(directory): %v, want ErrNotExist", err)
		}

		if err := s.Rename(ctx, "a/e", "x/y/z"); err != nil {
			t.Fatal(err)
		}
		if b := read(t, s, "x/y/z"); string(b) != "a/e" {
			t.Errorf("renamed object reads %q", b)
		}
		if _, err := s.Stat(ctx, "a/e"); !errors.Is(err, blob.ErrNotExist) {
			t.Errorf("Stat(renamed source): %v", err)
		}
		if err := s.Rename(ctx, "a/e", "x/w"); !errors.Is(err, blob.ErrNotExist) {
			t.Errorf("Rename(missing): %v, want ErrNotExist", err)
		}
		if err := s.Delete(ctx, "g"); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, "g"); err != nil {
			t.Errorf("Delete(missing): %v", err)
		}
		if err := s.DeleteAll(ctx, "a/b"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAll(ctx, "nope"); err != nil {
			t.Errorf("DeleteAll(missing): %v", err)
		}
		if got, want := objects(t, s), []string{"a-f", "x/y/z"}; !reflect.DeepEqual(got, want) {
			t.Errorf("objects %v, want %v", got, want)
		}

		// Bad paths.
		for _, p := range []string{"", "/abs", "a/../b", "a//b", "./a", "a/", `a\b`} {
			if _, err := s.Create(ctx, p); err == nil {
				t.Errorf("Create(%q) succeeded", p)
			}
			if _, _, err := s.Read(ctx, p); err == nil || errors.Is(err, blob.ErrNotExist) {
				t.Errorf("Read(%q): %v, want a bad path error", p, err)
			}
		}
		if err := s.DeleteAll(ctx, ""); err == nil {
			t.Error("DeleteAll of the root succeeded")
		}
		if _, err := s.List(ctx, "../x"); err == nil {
			t.Error("List(../x) succeeded")
		}
	})
}

func TestURIAndRoot(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	if s.Root() != dir || s.URI("ns/t/ds=2024-01-01/p.parquet") != filepath.Join(dir, "ns", "t", "ds=2024-01-01", "p.parquet") {
		t.Errorf("local Root %q URI %q", s.Root(), s.URI("ns/t/ds=2024-01-01/p.parquet"))
	}
	srv := blobtest.Emulator(t)
	bucket := srv.NewBucket(t)
	for _, tc := range []struct{ root, wantRoot, wantURI string }{
		{bucket, bucket, bucket + "/ns/t/x.parquet"},
		{bucket + "/", bucket, bucket + "/ns/t/x.parquet"},
		{bucket + "/wh/", bucket + "/wh", bucket + "/wh/ns/t/x.parquet"},
		{bucket + "/a/b", bucket + "/a/b", bucket + "/a/b/ns/t/x.parquet"},
	} {
		s := openStore(t, tc.root)
		if s.Root() != tc.wantRoot || s.URI("ns/t/x.parquet") != tc.wantURI {
			t.Errorf("%s: Root %q URI %q, want %q %q", tc.root, s.Root(), s.URI("ns/t/x.parquet"), tc.wantRoot, tc.wantURI)
		}
	}
	// The prefix isolates stores on one bucket.
	a, b := openStore(t, bucket+"/a"), openStore(t, bucket+"/ab")
	put(t, a, "x", []byte("a"))
	put(t, b, "x", []byte("b"))
	if got := objects(t, a); !reflect.DeepEqual(got, []string{"x"}) || string(read(t, a, "x")) != "a" {
		t.Errorf("store a sees %v", got)
	}
	whole := openStore(t, bucket)
	if got := objects(t, whole); !reflect.DeepEqual(got, []string{"a/x", "ab/x"}) {
		t.Errorf("bucket holds %v", got)
	}
}

func TestMissingBucket(t *testing.T) {
	blobtest.Emulator(t)
	s := openStore(t, "gs://no-such-bucket/wh")
	_, err := s.List(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Errorf("List on a missing bucket: %v", err)
	}
}

func TestLocalLock(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	ctx := context.Background()
	locker, ok := s.(blob.Locker)
	if !ok {
		t.Fatal("the local store is not a Locker")
	}
	lctx, unlock, err := locker.Lock(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	// WriteIf under the held lock does not wait for it...
	if _, err := s.WriteIf(lctx, "t/m", []byte("1"), blob.Absent); err != nil {
		t.Fatal(err)
	}
	// ...but another writer does.
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := s.WriteIf(short, "t/m2", []byte("1"), blob.Absent); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WriteIf while another holds the lock: %v, want a deadline error", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.WriteIf(ctx, "t/m2", []byte("1"), blob.Absent)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Errorf("second unlock: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("WriteIf after unlock: %v", err)
	}
	// A released lock's context takes the lock again.
	if _, err := s.WriteIf(lctx, "t/m3", []byte("1"), blob.Absent); err != nil {
		t.Error(err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "t"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{blob.LockFile, "m", "m2", "m3"}; !reflect.DeepEqual(names, want) {
		t.Errorf("files %v, want %v (no temporary files left)", names, want)
	}
}
