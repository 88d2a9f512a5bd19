// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/chronon-go/chronon/plugins/kv"
)

// schemaVersion is the layout version kept in PRAGMA user_version.
const schemaVersion = 1

// bulkRows is how many entries one BulkLoad INSERT statement carries
// (4 parameters each, well under SQLite's 32766 parameter limit).
const bulkRows = 128

// getClasses is how many sizes of get statement there are: 1, 2, 4, ...
// maxGet requests. A MultiGet runs one statement per maxGet requests, the
// last one padded to the next size.
const (
	getClasses = 6
	maxGet     = 1 << (getClasses - 1)
)

// getClass returns the class of the statement that answers n <= maxGet
// requests: the smallest k with n <= 1<<k.
func getClass(n int) int {
	k := 0
	for 1<<k < n {
		k++
	}
	return k
}

// The layout (see the package documentation).
const (
	createDatasets = `CREATE TABLE IF NOT EXISTS kv_datasets (
	id   INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE
)`
	createValues = `CREATE TABLE IF NOT EXISTS kv_values (
	dataset INTEGER NOT NULL REFERENCES kv_datasets (id),
	key     BLOB NOT NULL,
	ts      INTEGER NOT NULL,
	value   BLOB NOT NULL,
	PRIMARY KEY (dataset, key, ts)
) WITHOUT ROWID`
)

// The statements. Keys and values are bound through coalesce with an
// empty blob literal: the driver binds a nil []byte as NULL.
const (
	sqlLookup = `SELECT id FROM kv_datasets WHERE name = ?1`
	sqlCreate = `INSERT INTO kv_datasets (name) VALUES (?1) ON CONFLICT (name) DO NOTHING`
	// sqlGetPrefix + n rows of sqlGetRow + sqlGetSuffix answers n requests
	// (i, dataset id, key, AfterMillis) in one statement: per request, a
	// range scan of the key from AfterMillis, or from its latest ts (one
	// backward seek) when AfterMillis <= 0. Padding rows are all NULL and
	// match nothing.
	sqlGetPrefix = `WITH req (i, dataset, key, after) AS (VALUES `
	sqlGetRow    = `(?, ?, coalesce(?, x''), ?)`
	sqlGetSuffix = `)
SELECT req.i, v.ts, v.value
FROM req CROSS JOIN kv_values AS v
WHERE v.dataset = req.dataset AND v.key = req.key
	AND v.ts >= CASE WHEN req.after > 0 THEN req.after ELSE (
		SELECT max(m.ts) FROM kv_values AS m WHERE m.dataset = req.dataset AND m.key = req.key
	) END`
	sqlPutRow    = `(?, coalesce(?, x''), ?, coalesce(?, x''))`
	sqlPutPrefix = `INSERT INTO kv_values (dataset, key, ts, value) VALUES `
	sqlPutSuffix = ` ON CONFLICT (dataset, key, ts) DO UPDATE SET value = excluded.value`
	sqlExpire    = `DELETE FROM kv_values WHERE dataset = ?1 AND ts < ?2`
	// A value older than beforeMillis goes if a newer value of its key
	// exists; a key's latest value never has one.
	sqlExpireKeepLatest = `DELETE FROM kv_values
WHERE dataset = ?1 AND ts < ?2 AND EXISTS (
	SELECT 1 FROM kv_values AS newer
	WHERE newer.dataset = ?1 AND newer.key = kv_values.key AND newer.ts > kv_values.ts
)`
)

// Store is a kv.Store in one SQLite file. It is safe to call its methods
// from concurrent goroutines, and for several processes (or Stores) to
// open the same file: reads never wait for writes, writes wait for each
// other up to Options.BusyTimeout.
//
// Values returned by MultiGet are the caller's; the Store keeps no
// reference to the entries it is given.
type Store struct {
	path string
	opts *Options

	r *sql.DB // read pool: query_only connections
	w *sql.DB // the single writer connection

	// Prepared on r; rGet[k] answers 1<<k requests.
	rLookup *sql.Stmt
	rGet    [getClasses]*sql.Stmt
	// Prepared on w.
	wLookup, wCreate, wPut, wPutBulk, wExpire, wExpireKeep *sql.Stmt

	// ids caches dataset ids by name. Datasets are never dropped, so a
	// cached id stays valid; a miss is looked up again each time (another
	// process may have created the dataset since).
	mu  sync.RWMutex
	ids map[string]int64

	closeOnce sync.Once
	closeErr  error
}

var _ kv.Store = (*Store)(nil)

// Open opens the store in the SQLite file at path, creating the file, its
// parent directories and the tables as needed. opts may be nil.
func Open(path string, opts *Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("kv/sqlite: open: empty path")
	}
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("kv/sqlite: open %s: options: %w", path, err)
	}
	opts = opts.EnsureDefaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("kv/sqlite: open %s: %w", path, err)
	}
	s := &Store{path: path, opts: opts, ids: map[string]int64{}}
	if err := s.open(); err != nil {
		s.closeAll()
		return nil, fmt.Errorf("kv/sqlite: open %s: %w", path, err)
	}
	return s, nil
}

// dsn returns the driver's name of the file with the connection settings.
func dsn(path string, opts *Options, writer bool) string {
	// A SQLite URI filename: %, ? and # in the path are escaped.
	name := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	q := "_pragma=busy_timeout(" + strconv.FormatInt(opts.GetBusyTimeout().Milliseconds(), 10) + ")" +
		"&_pragma=synchronous(" + opts.GetSynchronous() + ")" +
		"&_pragma=mmap_size(" + strconv.FormatInt(opts.GetMmapSize(), 10) + ")"
	if writer {
		q += "&_txlock=immediate" // take the write lock at BEGIN: no deadlock on upgrade
	} else {
		q += "&_query_only=1"
	}
	return "file:" + name + "?" + q
}

func (s *Store) open() error {
	var err error
	if s.w, err = sql.Open("sqlite", dsn(s.path, s.opts, true)); err != nil {
		return err
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)
	if err := s.initSchema(); err != nil {
		return err
	}
	if s.r, err = sql.Open("sqlite", dsn(s.path, s.opts, false)); err != nil {
		return err
	}
	n := s.opts.GetReadConns()
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	s.r.SetConnMaxLifetime(0)
	s.r.SetConnMaxIdleTime(0)

	bulk := sqlPutPrefix + strings.Repeat(sqlPutRow+",", bulkRows-1) + sqlPutRow + sqlPutSuffix
	ctx := context.Background()
	for _, p := range []struct {
		db   *sql.DB
		stmt **sql.Stmt
		sql  string
	}{
		{s.r, &s.rLookup, sqlLookup},
		{s.w, &s.wLookup, sqlLookup},
		{s.w, &s.wCreate, sqlCreate},
		{s.w, &s.wPut, sqlPutPrefix + sqlPutRow + sqlPutSuffix},
		{s.w, &s.wPutBulk, bulk},
		{s.w, &s.wExpire, sqlExpire},
		{s.w, &s.wExpireKeep, sqlExpireKeepLatest},
	} {
		if *p.stmt, err = p.db.PrepareContext(ctx, p.sql); err != nil {
			return fmt.Errorf("prepare %q: %w", p.sql, err)
		}
	}
	for k := range s.rGet {
		q := sqlGetPrefix + strings.Repeat(sqlGetRow+",", 1<<k-1) + sqlGetRow + sqlGetSuffix
		if s.rGet[k], err = s.r.PrepareContext(ctx, q); err != nil {
			return fmt.Errorf("prepare %q: %w", q, err)
		}
	}
	return nil
}

// initSchema switches the file to WAL and creates the tables, unless a
// file of this layout version has them already: then Open takes no write
// lock, and does not wait for a writer of another process.
func (s *Store) initSchema() error {
	ctx := context.Background()
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode); err != nil {
		return fmt.Errorf("journal_mode=WAL: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode=WAL: the file stays in %q mode", mode)
	}
	version := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) (int, error) {
		var v int
		if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return 0, err
		}
		if v > schemaVersion {
			return 0, fmt.Errorf("layout version %d is newer than this program's %d", v, schemaVersion)
		}
		return v, nil
	}
	if v, err := version(s.w); err != nil || v == schemaVersion {
		return err
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	// Another process may have created the tables meanwhile.
	if _, err := version(tx); err != nil {
		return err
	}
	for _, stmt := range []string{createDatasets, createValues, "PRAGMA user_version = " + strconv.Itoa(schemaVersion)} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create tables: %w", err)
		}
	}
	return tx.Commit()
}

// Path returns the file the store was opened on.
func (s *Store) Path() string { return s.path }

// cachedID returns the cached id of a dataset.
func (s *Store) cachedID(dataset string) (int64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.ids[dataset]
	return id, ok
}

// datasetID returns the id of a dataset, looking it up with the statement
// lookup returns (on the read pool, or in the caller's transaction) on a
// cache miss. ok is false if the dataset does not exist.
func (s *Store) datasetID(ctx context.Context, lookup func() *sql.Stmt, dataset string) (id int64, ok bool, err error) {
	if id, ok := s.cachedID(dataset); ok {
		return id, true, nil
	}
	switch err := lookup().QueryRowContext(ctx, dataset).Scan(&id); {
	case errors.Is(err, sql.ErrNoRows):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	s.mu.Lock()
	s.ids[dataset] = id
	s.mu.Unlock()
	return id, true, nil
}

// poolLookup returns the dataset lookup of the read pool.
func (s *Store) poolLookup() *sql.Stmt { return s.rLookup }

// txLookup returns a function returning the dataset lookup of tx, a write
// transaction.
func (s *Store) txLookup(ctx context.Context, tx *sql.Tx) func() *sql.Stmt {
	return func() *sql.Stmt { return tx.StmtContext(ctx, s.wLookup) }
}

// CreateDataset creates a dataset; creating an existing one does nothing.
func (s *Store) CreateDataset(ctx context.Context, dataset string) error {
	if dataset == "" {
		return errors.New("kv/sqlite: create dataset: empty name")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("kv/sqlite: create dataset %q: %w", dataset, err)
	}
	if _, ok := s.cachedID(dataset); ok {
		return nil
	}
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.StmtContext(ctx, s.wCreate).ExecContext(ctx, dataset); err != nil {
			return err
		}
		_, _, err := s.datasetID(ctx, s.txLookup(ctx, tx), dataset)
		return err
	})
	if err != nil {
		return fmt.Errorf("kv/sqlite: create dataset %q: %w", dataset, err)
	}
	return nil
}

// MultiGet answers every request, in order, from one snapshot of the
// file: a write committed during the call is seen by all of the requests
// or by none. A request for a dataset that does not exist has a
// GetResult.Err wrapping kv.ErrNoDataset; any other failure fails the
// call. One SQL statement answers up to 32 requests; more run in one read
// transaction.
func (s *Store) MultiGet(ctx context.Context, reqs []kv.GetRequest) ([]kv.GetResult, error) {
	out := make([]kv.GetResult, len(reqs))
	if len(reqs) == 0 {
		return out, nil
	}
	// The requests on existing datasets, with their dataset ids. Datasets
	// are never dropped, so this needs no snapshot.
	todo := make([]int, 0, len(reqs))
	ids := make([]int64, len(reqs))
	for i, r := range reqs {
		id, ok, err := s.datasetID(ctx, s.poolLookup, r.Dataset)
		if err != nil {
			return nil, fmt.Errorf("kv/sqlite: multi-get from dataset %q: %w", r.Dataset, err)
		}
		if !ok {
			out[i].Err = fmt.Errorf("kv/sqlite: get from dataset %q: %w", r.Dataset, kv.ErrNoDataset)
			continue
		}
		ids[i] = id
		todo = append(todo, i)
	}
	if len(todo) == 0 {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("kv/sqlite: multi-get: %w", err)
		}
		return out, nil
	}

	// One statement reads one snapshot; several need a read transaction.
	stmt := func(k int) *sql.Stmt { return s.rGet[k] }
	var tx *sql.Tx
	if len(todo) > maxGet {
		var err error
		if tx, err = s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true}); err != nil {
			return nil, fmt.Errorf("kv/sqlite: multi-get: %w", err)
		}
		defer tx.Rollback() //nolint:errcheck // a read transaction: nothing to keep
		var stmts [getClasses]*sql.Stmt
		stmt = func(k int) *sql.Stmt {
			if stmts[k] == nil {
				stmts[k] = tx.StmtContext(ctx, s.rGet[k])
			}
			return stmts[k]
		}
	}
	args := make([]any, 0, 4*min(len(todo), maxGet))
	for chunk := range slices.Chunk(todo, maxGet) {
		k := getClass(len(chunk))
		args = args[:0]
		for _, i := range chunk {
			args = append(args, i, ids[i], reqs[i].Key, reqs[i].AfterMillis)
		}
		for range 1<<k - len(chunk) {
			args = append(args, nil, nil, nil, nil)
		}
		if err := scanGet(ctx, stmt(k), args, reqs, out); err != nil {
			return nil, fmt.Errorf("kv/sqlite: multi-get from dataset %q: %w", reqs[chunk[0]].Dataset, err)
		}
	}
	if tx != nil {
		if err := tx.Commit(); err != nil {
			return nil, fmt.Errorf("kv/sqlite: multi-get: %w", err)
		}
	}
	for i := range out { // oldest first, whatever order the rows came in
		if vals := out[i].Values; !slices.IsSortedFunc(vals, byTs) {
			slices.SortFunc(vals, byTs)
		}
	}
	return out, nil
}

func byTs(a, b kv.Entry) int { return cmp.Compare(a.TsMillis, b.TsMillis) }

// scanGet runs a get statement and appends the values it finds to out.
func scanGet(ctx context.Context, get *sql.Stmt, args []any, reqs []kv.GetRequest, out []kv.GetResult) error {
	rows, err := get.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		var e kv.Entry
		if err := rows.Scan(&i, &e.TsMillis, &e.Value); err != nil {
			return err
		}
		e.Key = slices.Clone(reqs[i].Key)
		out[i].Values = append(out[i].Values, e)
	}
	return rows.Err()
}

// MultiPut writes entries to a dataset in one transaction.
func (s *Store) MultiPut(ctx context.Context, dataset string, entries []kv.Entry) error {
	return s.write(ctx, "multi-put to", dataset, func(tx *sql.Tx, id int64) error {
		put := tx.StmtContext(ctx, s.wPut)
		for _, e := range entries {
			if _, err := put.ExecContext(ctx, id, e.Key, e.TsMillis, e.Value); err != nil {
				return err
			}
		}
		return nil
	})
}

// BulkLoad writes entries to a dataset in one transaction, sorted by key
// and ts and many to an INSERT statement. Entries of the same key and ts
// keep their order: the last one wins.
func (s *Store) BulkLoad(ctx context.Context, dataset string, entries []kv.Entry) error {
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := bytes.Compare(entries[a].Key, entries[b].Key); c != 0 {
			return c
		}
		return cmp.Compare(entries[a].TsMillis, entries[b].TsMillis)
	})
	return s.write(ctx, "bulk load to", dataset, func(tx *sql.Tx, id int64) error {
		var bulk, put *sql.Stmt
		args := make([]any, 0, 4*bulkRows)
		for chunk := range slices.Chunk(order, bulkRows) {
			if err := ctx.Err(); err != nil {
				return err
			}
			args = args[:0]
			for _, i := range chunk {
				e := &entries[i]
				args = append(args, id, e.Key, e.TsMillis, e.Value)
			}
			if len(chunk) == bulkRows {
				if bulk == nil {
					bulk = tx.StmtContext(ctx, s.wPutBulk)
				}
				if _, err := bulk.ExecContext(ctx, args...); err != nil {
					return err
				}
				continue
			}
			if put == nil {
				put = tx.StmtContext(ctx, s.wPut)
			}
			for row := range slices.Chunk(args, 4) {
				if _, err := put.ExecContext(ctx, row...); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// Expire deletes the values of a dataset older than beforeMillis (with
// keepLatest, all but each key's latest) in one transaction, and returns
// how many it deleted.
func (s *Store) Expire(ctx context.Context, dataset string, beforeMillis int64, keepLatest bool) (int64, error) {
	var n int64
	err := s.write(ctx, "expire in", dataset, func(tx *sql.Tx, id int64) error {
		stmt := s.wExpire
		if keepLatest {
			stmt = s.wExpireKeep
		}
		res, err := tx.StmtContext(ctx, stmt).ExecContext(ctx, id, beforeMillis)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// write runs fn in a write transaction on an existing dataset.
func (s *Store) write(ctx context.Context, op, dataset string, fn func(tx *sql.Tx, id int64) error) error {
	err := s.inWriteTx(ctx, func(tx *sql.Tx) error {
		id, ok, err := s.datasetID(ctx, s.txLookup(ctx, tx), dataset)
		if err != nil {
			return err
		}
		if !ok {
			return kv.ErrNoDataset
		}
		return fn(tx, id)
	})
	if err != nil {
		return fmt.Errorf("kv/sqlite: %s dataset %q: %w", op, dataset, err)
	}
	return nil
}

// inWriteTx runs fn in a transaction of the writer connection (BEGIN
// IMMEDIATE) and commits it if fn succeeds.
func (s *Store) inWriteTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Close closes the store's connections. Calls after the first return its
// result; other methods fail after Close.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		if err := s.closeAll(); err != nil {
			s.closeErr = fmt.Errorf("kv/sqlite: close %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// closeAll closes whatever open created.
func (s *Store) closeAll() error {
	var errs []error
	stmts := append([]*sql.Stmt{s.rLookup, s.wLookup, s.wCreate, s.wPut, s.wPutBulk, s.wExpire, s.wExpireKeep}, s.rGet[:]...)
	for _, st := range stmts {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	for _, db := range []*sql.DB{s.r, s.w} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	return errors.Join(errs...)
}
