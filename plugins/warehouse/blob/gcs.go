// SPDX-License-Identifier: Apache-2.0

package blob

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
)

const (
	// ReadAhead is the smallest range a GCS Reader fetches: smaller reads
	// are served from cached blocks of this size.
	ReadAhead = 1 << 20
	// readCacheBlocks is how many ReadAhead blocks a GCS Reader keeps.
	readCacheBlocks = 2
	// ChunkSize is the size of the resumable-upload chunks a GCS Writer
	// sends, and so about the memory an open Writer holds.
	ChunkSize = 4 << 20
	// gcsWriteBuffer batches small writes in front of the storage Writer,
	// which hands every Write to its upload goroutine.
	gcsWriteBuffer = 256 << 10
	// deleteWorkers is how many deletes DeleteAll runs at once.
	deleteWorkers = 16
	// emulatorEnv names the variable pointing the client at an emulator.
	emulatorEnv = "STORAGE_EMULATOR_HOST"
)

// gcsStore is a Store over a GCS bucket prefix.
type gcsStore struct {
	client *storage.Client
	bucket *storage.BucketHandle
	name   string // bucket name
	prefix string // "" or "a/b/"
}

var _ Store = (*gcsStore)(nil)

// openGCS creates a client (without authentication when an emulator is
// configured) for a store on bucket/prefix.
func openGCS(ctx context.Context, bucket, prefix string) (*gcsStore, error) {
	var opts []option.ClientOption
	if os.Getenv(emulatorEnv) != "" {
		opts = append(opts, option.WithoutAuthentication())
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("GCS client: %w", err)
	}
	return &gcsStore{
		client: client,
		// Every write goes to a fresh name or is conditional, and deletes
		// tolerate missing objects: retrying any request is safe.
		bucket: client.Bucket(bucket).Retryer(storage.WithPolicy(storage.RetryAlways)),
		name:   bucket,
		prefix: prefix,
	}, nil
}

func (s *gcsStore) Root() string {
	if s.prefix == "" {
		return "gs://" + s.name
	}
	return "gs://" + s.name + "/" + strings.TrimSuffix(s.prefix, "/")
}

func (s *gcsStore) URI(p string) string { return "gs://" + s.name + "/" + s.key(p) }

func (s *gcsStore) Close() error { return s.client.Close() }

// key returns the object name of path p.
func (s *gcsStore) key(p string) string { return s.prefix + p }

// dirKey returns the name prefix of the objects under directory dir.
func (s *gcsStore) dirKey(dir string) string {
	if dir == "" {
		return s.prefix
	}
	return s.prefix + dir + "/"
}

// err turns a storage error on path p into a blob error.
func (s *gcsStore) err(op, p string, err error) error {
	if errors.Is(err, storage.ErrObjectNotExist) {
		return fmt.Errorf("blob: %s %s: %w", op, s.URI(p), ErrNotExist)
	}
	if errors.Is(err, storage.ErrBucketNotExist) {
		return fmt.Errorf("blob: %s %s: bucket %q does not exist: %w", op, s.URI(p), s.name, err)
	}
	return fmt.Errorf("blob: %s %s: %w", op, s.URI(p), err)
}

// httpCode returns the HTTP status of a GCS API error, or 0.
func httpCode(err error) int {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

func (s *gcsStore) Create(ctx context.Context, p string) (Writer, error) {
	if err := checkPath(p); err != nil {
		return nil, fmt.Errorf("blob: create: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("blob: create %s: %w", s.URI(p), err)
	}
	// Canceling the context aborts the upload: the object never appears.
	ctx, cancel := context.WithCancel(ctx)
	w := s.bucket.Object(s.key(p)).NewWriter(ctx)
	w.ChunkSize = ChunkSize
	w.ContentType = "application/octet-stream"
	return &gcsWriter{s: s, p: p, w: w, bw: bufio.NewWriterSize(w, gcsWriteBuffer), cancel: cancel}, nil
}

// gcsWriter streams an object in a resumable upload that Close finalizes.
type gcsWriter struct {
	s      *gcsStore
	p      string
	w      *storage.Writer
	bw     *bufio.Writer
	cancel context.CancelFunc
	done   bool
}

func (w *gcsWriter) Write(b []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("blob: write %s: writer is closed", w.s.URI(w.p))
	}
	n, err := w.bw.Write(b)
	if err != nil {
		return n, w.s.err("write", w.p, err)
	}
	return n, nil
}

func (w *gcsWriter) Close() error {
	if w.done {
		return fmt.Errorf("blob: close %s: writer is closed", w.s.URI(w.p))
	}
	w.done = true
	defer w.cancel()
	err := w.bw.Flush()
	if err != nil {
		w.cancel() // abandon the upload
		_ = w.w.Close()
	} else {
		err = w.w.Close()
	}
	if err != nil {
		return w.s.err("write", w.p, err)
	}
	return nil
}

func (w *gcsWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.cancel()
	return nil
}

func (s *gcsStore) Open(ctx context.Context, p string) (Reader, error) {
	if err := checkPath(p); err != nil {
		return nil, fmt.Errorf("blob: open: %w", err)
	}
	obj := s.bucket.Object(s.key(p))
	r := &gcsReader{s: s, p: p, ctx: ctx}
	// One request for the size, the generation and the last block (where a
	// Parquet footer is).
	rr, err := obj.NewRangeReader(ctx, -ReadAhead, -1)
	if httpCode(err) == http.StatusRequestedRangeNotSatisfiable {
		// An empty object.
		attrs, err := obj.Attrs(ctx)
		if err != nil {
			return nil, s.err("open", p, err)
		}
		r.size, r.obj = attrs.Size, obj.Generation(attrs.Generation)
		return r, nil
	}
	if err != nil {
		return nil, s.err("open", p, err)
	}
	defer rr.Close()
	data, err := io.ReadAll(rr)
	if err != nil {
		return nil, s.err("open", p, err)
	}
	r.size, r.obj = rr.Attrs.Size, obj.Generation(rr.Attrs.Generation)
	if start := r.size - int64(len(data)); start >= 0 {
		r.cache = append(r.cache, block{off: start, data: data})
	}
	r.fetches.Add(1)
	return r, nil
}

// block is a cached range of an object.
type block struct {
	off  int64
	data []byte
}

// gcsReader reads one generation of an object with ranged reads through a
// small cache of ReadAhead blocks.
type gcsReader struct {
	s    *gcsStore
	p    string
	obj  *storage.ObjectHandle // pinned to the generation opened
	ctx  context.Context
	size int64

	mu    sync.Mutex
	cache []block // most recently used first

	fetches atomic.Int64 // requests made, for tests
}

func (r *gcsReader) Size() int64 { return r.size }

func (r *gcsReader) Close() error {
	r.mu.Lock()
	r.cache = nil
	r.mu.Unlock()
	return nil
}

// ReadAt reads len(p) bytes at off, from the cache when a cached block holds
// them, else with one ranged read (of at least ReadAhead bytes).
func (r *gcsReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("blob: read %s: negative offset %d", r.s.URI(r.p), off)
	}
	if off >= r.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := min(int64(len(p)), r.size-off)
	if r.cached(p[:want], off) {
		return r.result(want, len(p))
	}
	if want >= ReadAhead {
		if err := r.fetch(p[:want], off); err != nil {
			return 0, err
		}
		return r.result(want, len(p))
	}
	// Fetch a whole block holding the range, shifted back to end at the end
	// of the object when the range is near it.
	start := off
	end := min(start+ReadAhead, r.size)
	if end-start < ReadAhead {
		start = max(0, end-ReadAhead)
	}
	data := make([]byte, end-start)
	if err := r.fetch(data, start); err != nil {
		return 0, err
	}
	copy(p[:want], data[off-start:])
	r.mu.Lock()
	r.cache = append([]block{{off: start, data: data}}, r.cache...)
	if len(r.cache) > readCacheBlocks {
		r.cache = r.cache[:readCacheBlocks]
	}
	r.mu.Unlock()
	return r.result(want, len(p))
}

func (r *gcsReader) result(n int64, asked int) (int, error) {
	if int(n) < asked {
		return int(n), io.EOF
	}
	return int(n), nil
}

// cached copies the range at off into p if a cached block holds all of it.
func (r *gcsReader) cached(p []byte, off int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, b := range r.cache {
		if off >= b.off && off+int64(len(p)) <= b.off+int64(len(b.data)) {
			copy(p, b.data[off-b.off:])
			if i > 0 {
				copy(r.cache[1:i+1], r.cache[:i])
				r.cache[0] = b
			}
			return true
		}
	}
	return false
}

// fetch reads exactly len(p) bytes at off with one ranged read.
func (r *gcsReader) fetch(p []byte, off int64) error {
	r.fetches.Add(1)
	rr, err := r.obj.NewRangeReader(r.ctx, off, int64(len(p)))
	if err != nil {
		return r.s.err("read", r.p, err)
	}
	defer rr.Close()
	if _, err := io.ReadFull(rr, p); err != nil {
		return r.s.err("read", r.p, fmt.Errorf("%d bytes at %d: %w", len(p), off, err))
	}
	return nil
}

func (s *gcsStore) Read(ctx context.Context, p string) ([]byte, Version, error) {
	if err := checkPath(p); err != nil {
		return nil, Absent, fmt.Errorf("blob: read: %w", err)
	}
	rr, err := s.bucket.Object(s.key(p)).NewReader(ctx)
	if err != nil {
		return nil, Absent, s.err("read", p, err)
	}
	defer rr.Close()
	b, err := io.ReadAll(rr)
	if err != nil {
		return nil, Absent, s.err("read", p, err)
	}
	return b, Version(rr.Attrs.Generation), nil
}

// WriteIf uploads data in one request with a generation precondition. The
// request is retried on transient errors; should a retry follow a write that
// succeeded but whose response was lost, WriteIf reports a conflict with its
// own write.
func (s *gcsStore) WriteIf(ctx context.Context, p string, data []byte, expected Version) (Version, error) {
	if err := checkPath(p); err != nil {
		return Absent, fmt.Errorf("blob: write: %w", err)
	}
	if expected < 0 {
		return Absent, fmt.Errorf("blob: write %s: bad version %d", s.URI(p), int64(expected))
	}
	cond := storage.Conditions{GenerationMatch: int64(expected)}
	if expected == Absent {
		cond = storage.Conditions{DoesNotExist: true}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := s.bucket.Object(s.key(p)).If(cond).NewWriter(ctx)
	// One chunk holding all of data: a single, retryable request.
	const quantum = 256 << 10
	w.ChunkSize = (len(data)/quantum + 1) * quantum
	w.ContentType = "application/json"
	_, err := w.Write(data)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if httpCode(err) == http.StatusPreconditionFailed {
		return Absent, &ConflictError{Path: p, Expected: expected}
	}
	if err != nil {
		return Absent, s.err("write", p, err)
	}
	return Version(w.Attrs().Generation), nil
}

// entry makes an Entry of object attributes.
func (s *gcsStore) entry(a *storage.ObjectAttrs) Entry {
	t := a.Updated
	if t.IsZero() {
		t = a.Created
	}
	return Entry{Path: strings.TrimPrefix(a.Name, s.prefix), Size: a.Size, ModTime: t}
}

func (s *gcsStore) Stat(ctx context.Context, p string) (Entry, error) {
	if err := checkPath(p); err != nil {
		return Entry{}, fmt.Errorf("blob: stat: %w", err)
	}
	a, err := s.bucket.Object(s.key(p)).Attrs(ctx)
	if err != nil {
		return Entry{}, s.err("stat", p, err)
	}
	return s.entry(a), nil
}

// list returns the objects, and with a delimiter the directories, under the
// name prefix of dir, sorted by path. Names that are not valid paths
// (directory placeholders, "a//b") are skipped.
func (s *gcsStore) list(ctx context.Context, dir, delim string) ([]Entry, error) {
	q := &storage.Query{Prefix: s.dirKey(dir), Delimiter: delim}
	if err := q.SetAttrSelection([]string{"Name", "Size", "Updated", "Created"}); err != nil {
		return nil, err
	}
	var out []Entry
	it := s.bucket.Objects(ctx, q)
	for {
		a, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, s.err("list", dir, err)
		}
		e := s.entry(a)
		if a.Prefix != "" {
			e = Entry{Path: strings.TrimSuffix(strings.TrimPrefix(a.Prefix, s.prefix), "/"), Dir: true}
		}
		if checkPath(e.Path) != nil {
			continue
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

func (s *gcsStore) List(ctx context.Context, dir string) ([]Entry, error) {
	if err := checkDir(dir); err != nil {
		return nil, fmt.Errorf("blob: list: %w", err)
	}
	return s.list(ctx, dir, "/")
}

func (s *gcsStore) ListAll(ctx context.Context, dir string) ([]Entry, error) {
	if err := checkDir(dir); err != nil {
		return nil, fmt.Errorf("blob: list: %w", err)
	}
	return s.list(ctx, dir, "")
}

func (s *gcsStore) Delete(ctx context.Context, p string) error {
	if err := checkPath(p); err != nil {
		return fmt.Errorf("blob: delete: %w", err)
	}
	if err := s.bucket.Object(s.key(p)).Delete(ctx); err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
		return s.err("delete", p, err)
	}
	return nil
}

// DeleteAll lists the objects under dir and deletes them, deleteWorkers at
// a time.
func (s *gcsStore) DeleteAll(ctx context.Context, dir string) error {
	if err := checkPath(dir); err != nil {
		return fmt.Errorf("blob: delete all: %w", err)
	}
	entries, err := s.ListAll(ctx, dir)
	if err != nil {
		return err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, deleteWorkers)
	)
	for _, e := range entries {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.Delete(ctx, e.Path); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Rename copies the object server-side, then deletes the source.
func (s *gcsStore) Rename(ctx context.Context, from, to string) error {
	if err := checkPath(from); err != nil {
		return fmt.Errorf("blob: rename: %w", err)
	}
	if err := checkPath(to); err != nil {
		return fmt.Errorf("blob: rename: %w", err)
	}
	src := s.bucket.Object(s.key(from))
	if _, err := s.bucket.Object(s.key(to)).CopierFrom(src).Run(ctx); err != nil {
		return s.err("rename", from, fmt.Errorf("copy to %s: %w", s.URI(to), err))
	}
	if err := src.Delete(ctx); err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
		return s.err("rename", from, fmt.Errorf("delete after copy to %s: %w", s.URI(to), err))
	}
	return nil
}
