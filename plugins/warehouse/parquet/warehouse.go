// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

const (
	// stagingName is the directory of a table's open transactions.
	stagingName = "_staging"
	// lockName is the file a commit flocks.
	lockName = "_lock"
)

// Warehouse is a warehouse.Warehouse storing tables as Hive-layout Parquet
// files under a local directory. It is safe for concurrent use, also by
// several processes sharing the directory.
type Warehouse struct {
	root string
	cfg  config

	mu        sync.Mutex
	closed    bool
	recovered map[string]bool // tables whose debris this Warehouse swept

	// hook, when set (by tests), is called at the named points of a commit.
	hook func(point string)
}

var _ warehouse.Warehouse = (*Warehouse)(nil)

// Open opens the warehouse rooted at root, a local directory path or a
// file:// URI, creating the directory if needed, and deletes the debris that
// crashed writers left in its tables (see the package documentation). opts
// may be nil.
func Open(root string, opts *Options) (*Warehouse, error) {
	dir, err := localRoot(root)
	if err != nil {
		return nil, fmt.Errorf("parquet: open %s: %w", root, err)
	}
	cfg, err := opts.config()
	if err != nil {
		return nil, fmt.Errorf("parquet: open %s: %w", root, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("parquet: open %s: %w", root, err)
	}
	w := &Warehouse{root: dir, cfg: cfg, recovered: map[string]bool{}}
	tables, err := w.list(true)
	if err != nil {
		return nil, fmt.Errorf("parquet: open %s: %w", root, err)
	}
	for _, t := range tables {
		// A warehouse the process may not write to is still readable: its
		// debris, invisible anyway, is left to a writer.
		if err := w.recoverTable(context.Background(), t); err != nil && !readOnly(err) {
			return nil, fmt.Errorf("parquet: open %s: recover %s: %w", root, t, err)
		}
	}
	return w, nil
}

// localRoot turns a warehouse root into an absolute local directory.
func localRoot(root string) (string, error) {
	if root == "" {
		return "", errors.New("empty warehouse root")
	}
	if i := strings.Index(root, "://"); i >= 0 {
		u, err := url.Parse(root)
		if err != nil {
			return "", err
		}
		if u.Scheme != "file" {
			return "", fmt.Errorf("unsupported warehouse root scheme %q (supported: local path, file://)", u.Scheme)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("file:// URI with remote host %q", u.Host)
		}
		if u.Path == "" {
			return "", errors.New("file:// URI without a path")
		}
		root = filepath.FromSlash(u.Path)
	}
	return filepath.Abs(root)
}

// Root returns the absolute directory the warehouse stores its tables in.
func (w *Warehouse) Root() string { return w.root }

// Close marks the warehouse closed: later calls of its methods fail.
// Scanners and transactions already started are not affected.
func (w *Warehouse) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
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

var namePart = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// tableDir validates a "ns.table" name and returns the table's directory.
func (w *Warehouse) tableDir(table string) (string, error) {
	ns, name, ok := strings.Cut(table, ".")
	if !ok || !namePart.MatchString(ns) || !namePart.MatchString(name) {
		return "", fmt.Errorf("bad table name %q: want <namespace>.<table>, each matching [A-Za-z0-9_]+", table)
	}
	return filepath.Join(w.root, ns, name), nil
}

// Tables lists every table that has a manifest, as "namespace.table", sorted.
func (w *Warehouse) Tables(ctx context.Context) ([]string, error) {
	if err := w.checkOpen(); err != nil {
		return nil, fmt.Errorf("parquet: tables: %w", err)
	}
	tables, err := w.list(false)
	if err != nil {
		return nil, fmt.Errorf("parquet: tables: %w", err)
	}
	return tables, nil
}

// list returns the sorted names of the table directories that hold a
// manifest or, if staging, a staging directory.
func (w *Warehouse) list(staging bool) ([]string, error) {
	nss, err := os.ReadDir(w.root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ns := range nss {
		if !ns.IsDir() || !namePart.MatchString(ns.Name()) {
			continue
		}
		ts, err := os.ReadDir(filepath.Join(w.root, ns.Name()))
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if !t.IsDir() || !namePart.MatchString(t.Name()) {
				continue
			}
			ok, err := exists(filepath.Join(w.root, ns.Name(), t.Name(), manifestName))
			if err == nil && !ok && staging {
				ok, err = exists(filepath.Join(w.root, ns.Name(), t.Name(), stagingName))
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

// load reads the manifest of table, failing with warehouse.ErrTableNotFound
// when it has none.
func (w *Warehouse) load(table string) (string, *manifest, error) {
	if err := w.checkOpen(); err != nil {
		return "", nil, err
	}
	dir, err := w.tableDir(table)
	if err != nil {
		return "", nil, err
	}
	m, err := readManifest(dir)
	if err != nil {
		return "", nil, err
	}
	if m == nil {
		return "", nil, warehouse.ErrTableNotFound
	}
	return dir, m, nil
}

// Describe returns the table's schema, partitions and properties from its
// manifest. Partition.Files are absolute paths.
func (w *Warehouse) Describe(ctx context.Context, table string) (*warehouse.TableInfo, error) {
	dir, m, err := w.load(table)
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
			files[i] = filepath.Join(dir, filepath.FromSlash(f))
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

// recoverTable sweeps the debris of crashed writers from table under its
// commit lock.
func (w *Warehouse) recoverTable(ctx context.Context, table string) error {
	dir, err := w.tableDir(table)
	if err != nil {
		return err
	}
	lock, err := lockFile(ctx, filepath.Join(dir, lockName))
	if err != nil {
		return err
	}
	err = w.sweepLocked(dir, table)
	if uerr := lock.unlock(); err == nil {
		err = uerr
	}
	return err
}

// sweepLocked deletes, while the caller holds the table's commit lock, the
// staging directories of dead processes, temporary manifests, and the part
// files in ds= directories that the manifest does not reference (with the
// ds= directories left empty). A table whose manifest cannot be decoded is
// left alone: its errors surface when it is used.
func (w *Warehouse) sweepLocked(dir, table string) error {
	w.mu.Lock()
	done := w.recovered[table]
	w.mu.Unlock()
	if done {
		return nil
	}
	var errs []error
	staging := filepath.Join(dir, stagingName)
	entries, err := os.ReadDir(staging)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		pidStr, _, _ := strings.Cut(e.Name(), "-")
		pid, err := strconv.Atoi(pidStr)
		if err == nil && processAlive(pid) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(staging, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	m, err := readManifest(dir)
	if err != nil {
		return errors.Join(errs...)
	}
	referenced := map[string]bool{}
	if m != nil {
		for _, p := range m.Partitions {
			for _, f := range p.Files {
				referenced[f] = true
			}
		}
	}
	entries, err = os.ReadDir(dir)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() && strings.HasPrefix(name, tmpPrefix) {
			errs = append(errs, removeIfExists(filepath.Join(dir, name)))
			continue
		}
		ds, ok := strings.CutPrefix(name, "ds=")
		if !e.IsDir() || !ok || !batch.ValidDS(ds) {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		kept := 0
		for _, f := range files {
			rel := name + "/" + f.Name()
			if f.IsDir() || referenced[rel] || !strings.HasPrefix(f.Name(), "part-") || !strings.HasSuffix(f.Name(), ".parquet") {
				kept++
				continue
			}
			errs = append(errs, removeIfExists(filepath.Join(dir, name, f.Name())))
		}
		if kept == 0 && (m == nil || m.Partitions[ds] == nil) {
			errs = append(errs, removeIfExists(filepath.Join(dir, name)))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	w.mu.Lock()
	w.recovered[table] = true
	w.mu.Unlock()
	return nil
}

// exists reports whether path exists.
func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// removeIfExists removes path, ignoring that it is already gone.
func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
