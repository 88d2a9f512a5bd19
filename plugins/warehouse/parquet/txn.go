// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// Commit points at which Warehouse.hook is called.
const (
	hookStaged    = "staged"    // files closed, lock not taken yet
	hookRenamed   = "renamed"   // files moved into ds= directories, manifest not written
	hookCommitted = "committed" // manifest replaced, replaced files not deleted
)

// Begin starts a write transaction on table, which is created at commit if
// absent. schema holds the data columns (no ds column). A column whose type
// differs from the table's, or a non-nullable table column missing from
// schema, is warehouse.ErrSchemaConflict; new columns are added to the table
// as nullable. Written files are staged in the table's _staging directory
// until Commit.
func (w *Warehouse) Begin(ctx context.Context, table string, schema *arrow.Schema, opts warehouse.WriteOptions) (warehouse.Txn, error) {
	t, err := w.begin(ctx, table, schema, opts)
	if err != nil {
		return nil, fmt.Errorf("parquet: begin %s: %w", table, err)
	}
	return t, nil
}

func (w *Warehouse) begin(ctx context.Context, table string, schema *arrow.Schema, opts warehouse.WriteOptions) (*txn, error) {
	if err := w.checkOpen(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dir, err := w.tableDir(table)
	if err != nil {
		return nil, err
	}
	if err := checkSchema(schema); err != nil {
		return nil, err
	}
	if opts.Mode != warehouse.Overwrite && opts.Mode != warehouse.Append {
		return nil, fmt.Errorf("unknown write mode %d", opts.Mode)
	}
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	if m != nil {
		if _, err := mergeSchema(m.schema, schema); err != nil {
			return nil, err
		}
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	id := hex.EncodeToString(b[:])
	staging := filepath.Join(dir, stagingName, fmt.Sprintf("%d-%s", os.Getpid(), id))
	if err := os.MkdirAll(staging, 0o755); err != nil {
		return nil, err
	}
	props := make(map[string]string, len(opts.Properties))
	for k, v := range opts.Properties {
		props[k] = v
	}
	return &txn{
		w: w, table: table, dir: dir, staging: staging, id: id, schema: schema,
		mode: opts.Mode, props: props, hash: opts.SemanticHash,
		parts: map[string]*partWriter{},
	}, nil
}

// txn is a warehouse.Txn staging one Parquet file per written partition.
type txn struct {
	w       *Warehouse
	table   string
	dir     string // table directory
	staging string // this transaction's staging directory
	id      string
	schema  *arrow.Schema
	mode    warehouse.WriteMode
	props   map[string]string
	hash    string

	parts     map[string]*partWriter
	buffered  int64 // rows held in open row groups across all partitions
	failed    error // the first write error; the transaction can only be aborted
	done      bool  // committed or aborted
	committed bool
}

// partWriter streams one partition of a transaction into a staged file.
type partWriter struct {
	ds    string
	name  string // file name
	f     *os.File
	bw    *bufio.Writer
	fw    *pqarrow.FileWriter
	rows  int64
	bytes int64 // file size, known once closed
	// open is the number of rows in the partition's open (buffered) row group.
	open int64
}

// bufferedRowGroups bounds a transaction's memory: when the open row groups of
// all its partitions hold more than this many row groups' worth of rows, the
// largest is closed early. Without it a write spread over many partitions
// would keep every partition's rows in memory until commit.
const bufferedRowGroups = 4

// Write appends rec's rows to partition ds of the transaction, flushing a row
// group every Options.RowGroupRows rows of the partition.
func (t *txn) Write(ctx context.Context, ds string, rec arrow.RecordBatch) error {
	if err := t.write(ctx, ds, rec); err != nil {
		return fmt.Errorf("parquet: write %s ds=%s: %w", t.table, ds, err)
	}
	return nil
}

func (t *txn) write(ctx context.Context, ds string, rec arrow.RecordBatch) error {
	switch {
	case t.done:
		return errors.New("transaction is finished")
	case t.failed != nil:
		return fmt.Errorf("an earlier write failed: %w", t.failed)
	case rec == nil:
		return errors.New("nil record")
	case !batch.ValidDS(ds):
		return fmt.Errorf("bad partition value %q: want YYYY-MM-DD", ds)
	case !sameFields(rec.Schema(), t.schema):
		return fmt.Errorf("record schema %v differs from the transaction schema %v", rec.Schema(), t.schema)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	pw, err := t.part(ds)
	if err != nil {
		t.failed = err
		return err
	}
	if rec.NumRows() == 0 {
		return nil
	}
	if !rec.Schema().Equal(t.schema) {
		rec = array.NewRecordBatch(t.schema, rec.Columns(), rec.NumRows())
		defer rec.Release()
	}
	if err := pw.fw.WriteBuffered(rec); err != nil {
		t.failed = err
		return err
	}
	pw.rows += rec.NumRows()
	if err := t.account(pw, rec.NumRows()); err != nil {
		t.failed = err
		return err
	}
	return nil
}

// account records n rows written to pw's open row group and closes the
// largest open row group while the transaction buffers too many rows.
func (t *txn) account(pw *partWriter, n int64) error {
	max := int64(t.w.cfg.rowGroupRows)
	before := pw.open
	pw.open = (pw.open + n) % max // WriteBuffered closes full row groups itself
	t.buffered += pw.open - before
	for t.buffered > bufferedRowGroups*max {
		var largest *partWriter
		for _, p := range t.parts {
			if largest == nil || p.open > largest.open {
				largest = p
			}
		}
		if err := largest.fw.NewBufferedRowGroupChecked(); err != nil {
			return err
		}
		t.buffered -= largest.open
		largest.open = 0
	}
	return nil
}

// part returns the writer of partition ds, creating it on first use.
func (t *txn) part(ds string) (*partWriter, error) {
	if pw := t.parts[ds]; pw != nil {
		return pw, nil
	}
	dir := filepath.Join(t.staging, partitionDir(ds))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	pw := &partWriter{ds: ds, name: fmt.Sprintf("part-%s-%d.parquet", t.id, 0)}
	f, err := os.OpenFile(filepath.Join(dir, pw.name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, err
	}
	cfg := t.w.cfg
	props := parquet.NewWriterProperties(
		parquet.WithCompression(cfg.codec),
		parquet.WithMaxRowGroupLength(int64(cfg.rowGroupRows)),
		parquet.WithAllocator(cfg.mem),
		parquet.WithCreatedBy("chronon-go"),
	)
	// The bufio.Writer hides the file's Close from the Parquet writer: the
	// file is flushed and fsynced before it is closed.
	bw := bufio.NewWriterSize(f, 1<<20)
	fw, err := pqarrow.NewFileWriter(t.schema, bw, props,
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(cfg.mem)))
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	pw.f, pw.bw, pw.fw = f, bw, fw
	t.parts[ds] = pw
	return pw, nil
}

// close finishes the file: footer, flush, fsync, close.
func (pw *partWriter) close() error {
	err := pw.fw.Close()
	if err == nil {
		err = pw.bw.Flush()
	}
	if err == nil {
		err = pw.f.Sync()
	}
	if err == nil {
		var st os.FileInfo
		if st, err = pw.f.Stat(); err == nil {
			pw.bytes = st.Size()
		}
	}
	if cerr := pw.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// discard releases the writer's resources, ignoring errors.
func (pw *partWriter) discard() {
	_ = pw.fw.Close()
	_ = pw.f.Close()
}

func (t *txn) hook(point string) {
	if t.w.hook != nil {
		t.w.hook(point)
	}
}

// Commit makes the transaction's partitions visible atomically: see the
// package documentation. When Commit fails the transaction is aborted and the
// table is unchanged.
func (t *txn) Commit(ctx context.Context) error {
	switch {
	case t.committed:
		return fmt.Errorf("parquet: commit %s: transaction already committed", t.table)
	case t.done:
		return fmt.Errorf("parquet: commit %s: transaction was aborted", t.table)
	}
	replaced, err := t.commit(ctx)
	if err != nil {
		t.done = true
		_ = t.abort()
		return fmt.Errorf("parquet: commit %s: %w", t.table, err)
	}
	t.done, t.committed = true, true
	// The commit is durable: what is left is cleanup, which a later sweep
	// redoes if it fails here.
	for _, rel := range replaced {
		_ = removeIfExists(filepath.Join(t.dir, filepath.FromSlash(rel)))
	}
	_ = os.RemoveAll(t.staging)
	return nil
}

// commit does the work of Commit and returns the files the commit
// unreferenced.
func (t *txn) commit(ctx context.Context) (replaced []string, err error) {
	if t.failed != nil {
		return nil, fmt.Errorf("an earlier write failed: %w", t.failed)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dss := sortedKeys(t.parts)
	for _, ds := range dss {
		if err := t.parts[ds].close(); err != nil {
			return nil, fmt.Errorf("close ds=%s: %w", ds, err)
		}
	}
	t.hook(hookStaged)

	lock, err := lockFile(ctx, filepath.Join(t.dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	// Closing the lock file releases the lock even if unlocking fails, and
	// after the manifest is replaced the commit must not report a failure.
	defer func() { _ = lock.unlock() }()
	// Debris only costs space: a failed sweep must not fail the commit.
	_ = t.w.sweepLocked(t.dir, t.table)

	old, err := readManifest(t.dir)
	if err != nil {
		return nil, err
	}
	var oldSchema *arrow.Schema
	if old != nil {
		oldSchema = old.schema
	}
	schema, err := mergeSchema(oldSchema, t.schema)
	if err != nil {
		return nil, err
	}
	js, err := schemaToJSON(schema)
	if err != nil {
		return nil, err
	}
	next := &manifest{
		FormatVersion: manifestFormat,
		Version:       1,
		Table:         t.table,
		Schema:        js,
		Properties:    map[string]string{},
		SemanticHash:  t.hash,
		Partitions:    map[string]*partitionEntry{},
	}
	if old != nil {
		next.Version = old.Version + 1
		for k, v := range old.Properties {
			next.Properties[k] = v
		}
		if next.SemanticHash == "" {
			next.SemanticHash = old.SemanticHash
		}
		for ds, p := range old.Partitions {
			next.Partitions[ds] = p
		}
	}
	for k, v := range t.props {
		next.Properties[k] = v
	}

	// Move the staged files into their partitions. Until the manifest is
	// replaced they are unreferenced, so readers ignore them and a crash
	// leaves them for the sweep; on error they are removed here.
	var moved []string
	defer func() {
		if err != nil {
			for _, p := range moved {
				_ = os.Remove(p)
			}
		}
	}()
	for _, ds := range dss {
		pw := t.parts[ds]
		rel := partitionDir(ds) + "/" + pw.name
		dst := filepath.Join(t.dir, partitionDir(ds), pw.name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(filepath.Join(t.staging, partitionDir(ds), pw.name), dst); err != nil {
			return nil, err
		}
		moved = append(moved, dst)
		if err := syncDir(filepath.Dir(dst)); err != nil {
			return nil, err
		}
		entry := &partitionEntry{Files: []string{rel}, Rows: pw.rows, Bytes: pw.bytes}
		if p := next.Partitions[ds]; p != nil {
			if t.mode == warehouse.Append {
				entry.Files = append(append(make([]string, 0, len(p.Files)+1), p.Files...), rel)
				entry.Rows += p.Rows
				entry.Bytes += p.Bytes
			} else {
				replaced = append(replaced, p.Files...)
			}
		}
		next.Partitions[ds] = entry
	}
	t.hook(hookRenamed)

	if err := writeManifest(t.dir, next); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	t.hook(hookCommitted)
	return replaced, nil
}

// Abort discards the transaction's staged files. It does nothing after
// Commit or a previous Abort.
func (t *txn) Abort() error {
	if t.done {
		return nil
	}
	t.done = true
	if err := t.abort(); err != nil {
		return fmt.Errorf("parquet: abort %s: %w", t.table, err)
	}
	return nil
}

func (t *txn) abort() error {
	for _, pw := range t.parts {
		if pw.f != nil {
			pw.discard()
		}
	}
	return os.RemoveAll(t.staging)
}
