// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/blob"
)

const (
	// stagingName is the directory of a table's open transactions.
	stagingName = "_staging"
	// lockName is the file a local commit flocks.
	lockName = blob.LockFile
	// openProbeTimeout bounds Open's request to a GCS bucket.
	openProbeTimeout = time.Minute
)

// Warehouse is a warehouse.Warehouse storing tables as Hive-layout Parquet
// files under a local directory or a GCS prefix. It is safe for concurrent
// use, also by several processes (or, on GCS, machines) sharing the root.
type Warehouse struct {
	store  blob.Store
	locker blob.Locker // nil on GCS: commits are optimistic
	cfg    config

	mu        sync.Mutex
	closed    bool
	users     int             // open scanners and transactions
	recovered map[string]bool // tables whose debris this Warehouse swept

	// hook, when set (by tests), is called at the named points of a commit.
	hook func(point string)
	// maxAttempts bounds the attempts of an optimistic commit.
	maxAttempts int
}

var _ warehouse.Warehouse = (*Warehouse)(nil)

// Open opens the warehouse rooted at root: a local directory path or a
// file:// URI (the directory is created if needed), or gs://bucket[/prefix].
// On a local root it deletes the debris that crashed writers left in its
// tables; on GCS it checks that the bucket can be listed, and debris is
// swept by commits (see the package documentation). opts may be nil.
func Open(root string, opts *Options) (*Warehouse, error) {
	cfg, err := opts.config()
	if err != nil {
		return nil, fmt.Errorf("parquet: open %s: %w", root, err)
	}
	ctx := context.Background()
	st, err := blob.Open(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("parquet: open %s: %w", root, err)
	}
	w := &Warehouse{store: st, cfg: cfg, recovered: map[string]bool{}, maxAttempts: maxCommitAttempts}
	w.locker, _ = st.(blob.Locker)
	if err := w.open(ctx); err != nil {
		_ = st.Close()
		return nil, fmt.Errorf("parquet: open %s: %w", root, err)
	}
	return w, nil
}

func (w *Warehouse) open(ctx context.Context) error {
	if w.locker == nil {
		// One request, so that a missing bucket or missing permissions
		// surface now rather than at the first read (and an unreachable
		// service does not hang Open: requests are retried until then).
		ctx, cancel := context.WithTimeout(ctx, openProbeTimeout)
		defer cancel()
		_, err := w.store.List(ctx, "")
		return err
	}
	if err := os.MkdirAll(w.store.Root(), 0o755); err != nil {
		return err
	}
	tables, err := w.list(ctx, true)
	if err != nil {
		return err
	}
	for _, t := range tables {
		// A warehouse the process may not write to is still readable: its
		// debris, invisible anyway, is left to a writer.
		if err := w.recoverTable(ctx, t); err != nil && !readOnly(err) {
			return fmt.Errorf("recover %s: %w", t, err)
		}
	}
	return nil
}

// Root returns where the warehouse stores its tables: an absolute directory,
// or gs://bucket[/prefix].
func (w *Warehouse) Root() string { return w.store.Root() }

// Close marks the warehouse closed: later calls of its methods fail.
// Scanners and transactions already started are not affected; the
// warehouse's GCS client is closed once they are all closed.
func (w *Warehouse) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.users == 0 {
		return w.store.Close()
	}
	return nil
}

func (w *Warehouse) checkOpen() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("warehouse is closed")
	}
	return nil
}

// acquire registers a scanner or transaction, which keeps the store open
// after Close until it calls release.
func (w *Warehouse) acquire() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errors.New("warehouse is closed")
	}
	w.users++
	return nil
}

// release ends what acquire registered.
func (w *Warehouse) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.users--
	if w.closed && w.users == 0 {
		_ = w.store.Close()
	}
}

var namePart = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// tableDir validates a "ns.table" name and returns the table's directory
// relative to the root, "ns/table".
func (w *Warehouse) tableDir(table string) (string, error) {
	ns, name, ok := strings.Cut(table, ".")
	if !ok || !namePart.MatchString(ns) || !namePart.MatchString(name) {
		return "", fmt.Errorf("bad table name %q: want <namespace>.<table>, each matching [A-Za-z0-9_]+", table)
	}
	return ns + "/" + name, nil
}

// Tables lists every table that has a manifest, as "namespace.table", sorted.
func (w *Warehouse) Tables(ctx context.Context) ([]string, error) {
	if err := w.checkOpen(); err != nil {
		return nil, fmt.Errorf("parquet: tables: %w", err)
	}
	tables, err := w.list(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("parquet: tables: %w", err)
	}
	return tables, nil
}

// list returns the sorted names of the table directories that hold a
// manifest or, if staging, a non-empty staging directory.
func (w *Warehouse) list(ctx context.Context, staging bool) ([]string, error) {
	nss, err := w.store.List(ctx, "")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ns := range nss {
		if !ns.Dir || !namePart.MatchString(ns.Name()) {
			continue
		}
		ts, err := w.store.List(ctx, ns.Path)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if !t.Dir || !namePart.MatchString(t.Name()) {
				continue
			}
			ok, err := w.exists(ctx, t.Path+"/"+manifestName)
			if err == nil && !ok && staging {
				var es []blob.Entry
				es, err = w.store.List(ctx, t.Path+"/"+stagingName)
				ok = len(es) > 0
			}
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, ns.Name()+"."+t.Name())
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// exists reports whether the object at p exists.
func (w *Warehouse) exists(ctx context.Context, p string) (bool, error) {
	_, err := w.store.Stat(ctx, p)
	if errors.Is(err, blob.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// load reads the manifest of table, failing with warehouse.ErrTableNotFound
// when it has none.
func (w *Warehouse) load(ctx context.Context, table string) (string, *manifest, error) {
	if err := w.checkOpen(); err != nil {
		return "", nil, err
	}
	dir, err := w.tableDir(table)
	if err != nil {
		return "", nil, err
	}
	m, _, err := readManifest(ctx, w.store, dir)
	if err != nil {
		return "", nil, err
	}
	if m == nil {
		return "", nil, warehouse.ErrTableNotFound
	}
	return dir, m, nil
}

// Describe returns the table's schema, partitions and properties from its
// manifest. Partition.Files are absolute paths on a local warehouse and
// gs:// URIs on GCS.
func (w *Warehouse) Describe(ctx context.Context, table string) (*warehouse.TableInfo, error) {
	dir, m, err := w.load(ctx, table)
	if err != nil {
		return nil, fmt.Errorf("parquet: describe %s: %w", table, err)
	}
	info := &warehouse.TableInfo{
		Name:         table,
		Schema:       m.schema,
		Properties:   make(map[string]string, len(m.Properties)),
		SemanticHash: m.SemanticHash,
	}
	for k, v := range m.Properties {
		info.Properties[k] = v
	}
	for _, ds := range sortedKeys(m.Partitions) {
		p := m.Partitions[ds]
		files := make([]string, len(p.Files))
		for i, f := range p.Files {
			files[i] = w.store.URI(dir + "/" + f)
		}
		info.Partitions = append(info.Partitions, warehouse.Partition{DS: ds, Rows: p.Rows, Files: files, Bytes: p.Bytes})
	}
	return info, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// swept reports whether this Warehouse already swept table.
func (w *Warehouse) swept(table string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.recovered[table]
}

func (w *Warehouse) markSwept(table string) {
	w.mu.Lock()
	w.recovered[table] = true
	w.mu.Unlock()
}

// recoverTable sweeps the debris of crashed writers from table under its
// commit lock (local warehouses only).
func (w *Warehouse) recoverTable(ctx context.Context, table string) error {
	dir, err := w.tableDir(table)
	if err != nil {
		return err
	}
	lctx, unlock, err := w.locker.Lock(ctx, dir)
	if err != nil {
		return err
	}
	err = w.sweepLocked(lctx, dir, table)
	if uerr := unlock(); err == nil {
		err = uerr
	}
	return err
}

// isPart reports whether a file name is a data file name this package
// writes.
func isPart(name string) bool {
	return strings.HasPrefix(name, "part-") && strings.HasSuffix(name, ".parquet")
}

// referenced returns the set of files m lists.
func referenced(m *manifest) map[string]bool {
	out := map[string]bool{}
	if m != nil {
		for _, p := range m.Partitions {
			for _, f := range p.Files {
				out[f] = true
			}
		}
	}
	return out
}

// sweepLocked deletes, while the caller holds the table's commit lock (a
// local warehouse), the staging directories of dead processes, temporary
// manifests, and the part files in ds= directories that the manifest does
// not reference (with the ds= directories left empty). A table whose
// manifest cannot be decoded is left alone: its errors surface when it is
// used.
func (w *Warehouse) sweepLocked(ctx context.Context, dir, table string) error {
	if w.swept(table) {
		return nil
	}
	st := w.store
	var errs []error
	entries, err := st.List(ctx, dir+"/"+stagingName)
	if err != nil {
		return err
	}
	for _, e := range entries {
		pidStr, _, _ := strings.Cut(e.Name(), "-")
		pid, err := strconv.Atoi(pidStr)
		if err == nil && processAlive(pid) {
			continue
		}
		if e.Dir {
			errs = append(errs, st.DeleteAll(ctx, e.Path))
		} else {
			errs = append(errs, st.Delete(ctx, e.Path))
		}
	}
	m, _, err := readManifest(ctx, st, dir)
	if err != nil {
		return errors.Join(errs...)
	}
	refs := referenced(m)
	entries, err = st.List(ctx, dir)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Dir && strings.HasPrefix(name, tmpPrefix) {
			errs = append(errs, st.Delete(ctx, e.Path))
			continue
		}
		ds, ok := strings.CutPrefix(name, "ds=")
		if !e.Dir || !ok || !batch.ValidDS(ds) {
			continue
		}
		files, err := st.List(ctx, e.Path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		kept := 0
		for _, f := range files {
			if f.Dir || refs[name+"/"+f.Name()] || !isPart(f.Name()) {
				kept++
				continue
			}
			errs = append(errs, st.Delete(ctx, f.Path))
		}
		if kept == 0 && (m == nil || m.Partitions[ds] == nil) {
			// Only the empty directory is left.
			errs = append(errs, st.DeleteAll(ctx, e.Path))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	w.markSwept(table)
	return nil
}

// sweepStale deletes, without any lock (a GCS warehouse), the debris of
// crashed writers that is older than Options.StaleAge: staging directories
// whose newest file is that old, and part files in ds= directories that the
// manifest does not reference. With no way to know whether a writer on
// another machine is alive, age is the only safe test: a live transaction's
// staged files are younger, and so are files that a commit in progress
// copied into their partitions moments ago.
func (w *Warehouse) sweepStale(ctx context.Context, dir, table string) error {
	if w.swept(table) {
		return nil
	}
	st := w.store
	cutoff := time.Now().Add(-w.cfg.staleAge)
	m, _, err := readManifest(ctx, st, dir)
	if err != nil {
		return nil // left alone, as sweepLocked does
	}
	all, err := st.ListAll(ctx, dir)
	if err != nil {
		return err
	}
	refs := referenced(m)
	type group struct {
		newest time.Time
		paths  []string
	}
	staging := map[string]*group{}
	var stale []string
	for _, e := range all {
		rel := strings.TrimPrefix(e.Path, dir+"/")
		if s, ok := strings.CutPrefix(rel, stagingName+"/"); ok {
			txn, _, _ := strings.Cut(s, "/")
			g := staging[txn]
			if g == nil {
				g = new(group)
				staging[txn] = g
			}
			if e.ModTime.After(g.newest) {
				g.newest = e.ModTime
			}
			g.paths = append(g.paths, e.Path)
			continue
		}
		d, name, ok := strings.Cut(rel, "/")
		ds, isDS := strings.CutPrefix(d, "ds=")
		if !ok || !isDS || !batch.ValidDS(ds) || strings.Contains(name, "/") || !isPart(name) || refs[rel] {
			continue
		}
		if e.ModTime.Before(cutoff) {
			stale = append(stale, e.Path)
		}
	}
	for _, g := range staging {
		if g.newest.Before(cutoff) {
			stale = append(stale, g.paths...)
		}
	}
	var errs []error
	for _, p := range stale {
		errs = append(errs, st.Delete(ctx, p))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	w.markSwept(table)
	return nil
}
