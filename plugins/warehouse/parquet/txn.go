// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/blob"
)

// Commit points at which Warehouse.hook is called.
const (
	hookStaged    = "staged"    // files closed, lock not taken yet
	hookRenamed   = "renamed"   // files moved into ds= directories, manifest not written
	hookMerged    = "merged"    // manifest read and merged (every attempt), not written
	hookConflict  = "conflict"  // a manifest write lost to another writer's, before the retry
	hookCommitted = "committed" // manifest replaced, replaced files not deleted
)

// Optimistic commits (GCS) retry a manifest write that lost to another
// writer's up to maxCommitAttempts times in all, waiting a random time
// between commitBackoff and twice that, doubled after each attempt up to
// maxCommitBackoff.
const (
	maxCommitAttempts = 30
	commitBackoff     = 10 * time.Millisecond
	maxCommitBackoff  = 2 * time.Second
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

func (w *Warehouse) begin(ctx context.Context, table string, schema *arrow.Schema, opts warehouse.WriteOptions) (_ *txn, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := w.acquire(); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			w.release()
		}
	}()
	dir, err := w.tableDir(table)
	if err != nil {
		return nil, err
	}
	if err := checkSchema(schema); err != nil {
		return nil, err
	}
	if opts.Mode != warehouse.Overwrite && opts.Mode != warehouse.Append && opts.Mode != warehouse.Replace {
		return nil, fmt.Errorf("unknown write mode %d", opts.Mode)
	}
	m, _, err := readManifest(ctx, w.store, dir)
	if err != nil {
		return nil, err
	}
	if m != nil && opts.Mode != warehouse.Replace {
		if _, err := mergeSchema(m.schema, schema); err != nil {
			return nil, err
		}
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	id := hex.EncodeToString(b[:])
	// Local sweeps keep the staging directories of live processes: the
	// name starts with the process id.
	staging := dir + "/" + stagingName + "/" + fmt.Sprintf("%d-%s", os.Getpid(), id)
	props := make(map[string]string, len(opts.Properties))
	for k, v := range opts.Properties {
		props[k] = v
	}
	return &txn{
		// The staged files' uploads live as long as the transaction, not
		// as the context of the Write that started them.
		w: w, ctx: context.WithoutCancel(ctx), table: table, dir: dir, staging: staging, id: id, schema: schema,
		mode: opts.Mode, props: props, hash: opts.SemanticHash,
		parts: map[string]*partWriter{},
	}, nil
}

// txn is a warehouse.Txn staging one Parquet file per written partition.
type txn struct {
	w       *Warehouse
	ctx     context.Context // of the staged files' writers
	table   string
	dir     string // table directory, relative to the root
	staging string // this transaction's staging directory, relative to the root
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

var _ warehouse.PropertySetter = (*txn)(nil)

// SetProperties merges props into the properties Commit writes.
func (t *txn) SetProperties(props map[string]string) {
	for k, v := range props {
		t.props[k] = v
	}
}

// partWriter streams one partition of a transaction into a staged file.
type partWriter struct {
	ds    string
	name  string // file name
	bw    blob.Writer
	cw    *countingWriter
	fw    *pqarrow.FileWriter
	rows  int64
	bytes int64 // file size, known once closed
	done  bool  // closed or discarded
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
	pw := &partWriter{ds: ds, name: fmt.Sprintf("part-%s-%d.parquet", t.id, 0)}
	bw, err := t.w.store.Create(t.ctx, t.staging+"/"+partitionDir(ds)+"/"+pw.name)
	if err != nil {
		return nil, err
	}
	cfg := t.w.cfg
	wprops := []parquet.WriterProperty{
		parquet.WithCompression(cfg.codec),
		parquet.WithMaxRowGroupLength(int64(cfg.rowGroupRows)),
		parquet.WithAllocator(cfg.mem),
		parquet.WithCreatedBy("chronon-go"),
	}
	for _, f := range t.schema.Fields() {
		// Floats (aggregates, prices) rarely repeat: building a dictionary
		// for them costs time and is then abandoned.
		if id := f.Type.ID(); id == arrow.FLOAT32 || id == arrow.FLOAT64 {
			wprops = append(wprops, parquet.WithDictionaryFor(f.Name, false))
		}
	}
	props := parquet.NewWriterProperties(wprops...)
	// The counting writer hides the blob writer's Close from the Parquet
	// writer: the blob is finished (fsynced, or its upload finalized) by
	// close.
	cw := &countingWriter{w: bw}
	fw, err := pqarrow.NewFileWriter(t.schema, cw, props,
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(cfg.mem)))
	if err != nil {
		_ = bw.Abort()
		return nil, err
	}
	pw.bw, pw.cw, pw.fw = bw, cw, fw
	t.parts[ds] = pw
	return pw, nil
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w blob.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// close finishes the file: footer, then the blob's Close (local: flush,
// fsync, rename into the staging directory; GCS: finalize the upload).
func (pw *partWriter) close() error {
	pw.done = true
	if err := pw.fw.Close(); err != nil {
		_ = pw.bw.Abort()
		return err
	}
	if err := pw.bw.Close(); err != nil {
		return err
	}
	pw.bytes = pw.cw.n
	return nil
}

// discard releases the writer's resources, ignoring errors: the blob is
// abandoned first, so nothing more is uploaded.
func (pw *partWriter) discard() {
	if pw.done {
		return
	}
	pw.done = true
	_ = pw.bw.Abort()
	_ = pw.fw.Close()
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
		t.w.release()
		return fmt.Errorf("parquet: commit %s: %w", t.table, err)
	}
	t.done, t.committed = true, true
	// The commit is durable: what is left is cleanup, which a later sweep
	// redoes if it fails here.
	ctx = context.WithoutCancel(ctx)
	for _, rel := range replaced {
		_ = t.w.store.Delete(ctx, t.dir+"/"+rel)
	}
	if len(t.parts) > 0 {
		_ = t.w.store.DeleteAll(ctx, t.staging)
	}
	t.w.release()
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

	st := t.w.store
	if t.w.locker != nil {
		lctx, unlock, err := t.w.locker.Lock(ctx, t.dir)
		if err != nil {
			return nil, fmt.Errorf("lock: %w", err)
		}
		// After the manifest is replaced the commit must not report a
		// failure: closing the lock file releases the lock anyway.
		defer func() { _ = unlock() }()
		ctx = lctx
		// Debris only costs space: a failed sweep must not fail the commit.
		_ = t.w.sweepLocked(ctx, t.dir, t.table)
	} else {
		_ = t.w.sweepStale(ctx, t.dir, t.table)
	}

	// Move the staged files into their partitions. Until the manifest
	// references them they are invisible to readers, and a crash leaves
	// them for the sweep; on error they are removed here.
	var moved []string // relative to the table directory
	defer func() {
		if err != nil {
			dctx := context.WithoutCancel(ctx)
			for _, rel := range moved {
				_ = st.Delete(dctx, t.dir+"/"+rel)
			}
		}
	}()
	for _, ds := range dss {
		pw := t.parts[ds]
		rel := partitionDir(ds) + "/" + pw.name
		if err := st.Rename(ctx, t.staging+"/"+rel, t.dir+"/"+rel); err != nil {
			return nil, err
		}
		moved = append(moved, rel)
	}
	t.hook(hookRenamed)

	// Read, merge, write if unchanged. With the local lock held the write
	// only fails if a writer bypassed the lock; on GCS another commit may
	// land between the read and the write, and then the merge is redone
	// on top of it.
	wait := commitBackoff
	for attempt := 1; ; attempt++ {
		old, ver, err := readManifest(ctx, st, t.dir)
		if err != nil {
			return nil, err
		}
		if attempt > 1 && t.w.locker == nil {
			// A write whose response was lost may have been retried by the
			// client and reported as a conflict with itself.
			landed, err := t.landed(ctx, old, moved)
			if err != nil {
				return nil, err
			}
			if landed {
				t.hook(hookCommitted)
				return replaced, nil
			}
		}
		var next *manifest
		next, replaced, err = t.merge(old)
		if err != nil {
			return nil, err
		}
		t.hook(hookMerged)
		err = writeManifest(ctx, st, t.dir, next, ver)
		if err == nil {
			t.hook(hookCommitted)
			return replaced, nil
		}
		if !errors.Is(err, blob.ErrConflict) {
			return nil, fmt.Errorf("write manifest: %w", err)
		}
		if attempt >= t.w.maxAttempts {
			return nil, fmt.Errorf("the table changed under each of %d attempts to commit; giving up: %w", attempt, err)
		}
		t.hook(hookConflict)
		d := wait + mrand.N(wait)
		wait = min(2*wait, maxCommitBackoff)
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

// landed reports whether a manifest write that seemed to fail did land:
// the manifest lists one of the files the transaction moved, or one of them
// is gone (a later overwrite replaced and deleted it; nothing else deletes
// fresh data files).
func (t *txn) landed(ctx context.Context, m *manifest, moved []string) (bool, error) {
	refs := referenced(m)
	for _, rel := range moved {
		if refs[rel] {
			return true, nil
		}
	}
	for _, rel := range moved {
		ok, err := t.w.exists(ctx, t.dir+"/"+rel)
		if err != nil || !ok {
			return !ok, err
		}
	}
	return false, nil
}

// merge returns the manifest that the transaction makes of old (nil for a
// new table), and the files it unreferences.
func (t *txn) merge(old *manifest) (*manifest, []string, error) {
	var oldSchema *arrow.Schema
	var dropped []string
	if old != nil && t.mode == warehouse.Replace {
		// The old partitions go; their files are removed like replaced
		// ones, after the manifest no longer lists them.
		for _, p := range old.Partitions {
			dropped = append(dropped, p.Files...)
		}
		old = &manifest{Version: old.Version, Properties: old.Properties, SemanticHash: old.SemanticHash, Partitions: map[string]*partitionEntry{}}
	}
	if old != nil {
		oldSchema = old.schema
	}
	schema, err := mergeSchema(oldSchema, t.schema)
	if err != nil {
		return nil, nil, err
	}
	js, err := batch.SchemaToJSON(schema)
	if err != nil {
		return nil, nil, err
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
	replaced := dropped
	for _, ds := range sortedKeys(t.parts) {
		pw := t.parts[ds]
		rel := partitionDir(ds) + "/" + pw.name
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
	return next, replaced, nil
}

// Abort discards the transaction's staged files. It does nothing after
// Commit or a previous Abort.
func (t *txn) Abort() error {
	if t.done {
		return nil
	}
	t.done = true
	defer t.w.release()
	if err := t.abort(); err != nil {
		return fmt.Errorf("parquet: abort %s: %w", t.table, err)
	}
	return nil
}

func (t *txn) abort() error {
	for _, pw := range t.parts {
		pw.discard()
	}
	if len(t.parts) == 0 {
		return nil
	}
	return t.w.store.DeleteAll(context.WithoutCancel(t.ctx), t.staging)
}
