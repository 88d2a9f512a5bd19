// SPDX-License-Identifier: Apache-2.0

//go:build cgo

package warehousesql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/chronon-go/chronon/plugins/warehouse"
)

// BatchRows is the most rows a query result batch holds.
const BatchRows = 4096

// DB is an in-memory DuckDB database whose views read a warehouse's tables.
// It is safe for concurrent use.
type DB struct {
	wh  warehouse.Warehouse
	sql *sql.DB

	mu     sync.Mutex // guards tables; serializes Refresh
	tables []string
}

// Open creates an in-memory DuckDB database with a view for every table of
// wh (see Refresh). The caller keeps ownership of wh, which must stay open
// while the DB is used.
func Open(ctx context.Context, wh warehouse.Warehouse) (*DB, error) {
	if wh == nil {
		return nil, errors.New("warehousesql: nil warehouse")
	}
	conn, err := duckdb.NewConnector("", nil)
	if err != nil {
		return nil, fmt.Errorf("warehousesql: open DuckDB: %w", err)
	}
	db := &DB{wh: wh, sql: sql.OpenDB(conn)}
	if err := db.Refresh(ctx); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	return db, nil
}

// Refresh (re)creates the view of every warehouse table from its current
// manifest, so that later commits become visible. Each table "ns.table"
// becomes the view ns.table (identifiers quoted as needed) with the table's
// columns followed by ds. Views of tables no longer listed are left as they
// are.
func (db *DB) Refresh(ctx context.Context) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	names, err := db.wh.Tables(ctx)
	if err != nil {
		return fmt.Errorf("warehousesql: list tables: %w", err)
	}
	for _, name := range names {
		info, err := db.wh.Describe(ctx, name)
		if err != nil {
			return fmt.Errorf("warehousesql: describe %s: %w", name, err)
		}
		stmt, err := viewSQL(info)
		if err != nil {
			return err
		}
		if _, err := db.sql.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("warehousesql: create view of %s: %w", name, err)
		}
		if !slices.Contains(db.tables, name) {
			db.tables = append(db.tables, name)
		}
	}
	slices.Sort(db.tables)
	return nil
}

// Tables returns the warehouse tables with a view, as "ns.table", sorted.
func (db *DB) Tables() []string {
	db.mu.Lock()
	defer db.mu.Unlock()
	return slices.Clone(db.tables)
}

// Exec runs statements that return no rows (several may be separated by
// semicolons). args bind the placeholders of the last statement.
//
// Settings changed with SET apply to one pooled connection only; prefer
// putting them in the same call as the statements that need them.
func (db *DB) Exec(ctx context.Context, query string, args ...any) error {
	if _, err := db.sql.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("warehousesql: exec: %w", err)
	}
	return nil
}

// Query runs query and reads its whole result into memory. Several
// statements may be separated by semicolons: the last one gives the result.
// args bind its placeholders. Release the Result when done.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*Result, error) {
	res := &Result{}
	err := db.QueryEach(ctx, query, func(schema *arrow.Schema, rec arrow.RecordBatch) error {
		res.Schema = schema
		if rec.NumRows() > 0 {
			rec.Retain()
			res.Batches = append(res.Batches, rec)
		}
		return nil
	}, args...)
	if err != nil {
		res.Release()
		return nil, err
	}
	return res, nil
}

// QueryEach runs query like Query but streams its result: fn is called with
// the result schema and each batch of at most BatchRows rows, in order. An
// empty result gives one call with a zero-row batch, so fn always sees the
// schema. rec is only valid during the call (Retain it to keep it). An error
// from fn stops the query and is returned as is.
func (db *DB) QueryEach(ctx context.Context, query string, fn func(schema *arrow.Schema, rec arrow.RecordBatch) error, args ...any) error {
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("warehousesql: query: %w", err)
	}
	defer conn.Close()
	var fnErr error
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		return runQuery(ctx, c, query, args, func(s *arrow.Schema, rec arrow.RecordBatch) error {
			if err := fn(s, rec); err != nil {
				fnErr = err
				return err
			}
			return nil
		})
	})
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil:
		return fmt.Errorf("warehousesql: query: %w", err)
	}
	return nil
}

// Close closes the DuckDB database (not the warehouse).
func (db *DB) Close() error {
	if err := db.sql.Close(); err != nil {
		return fmt.Errorf("warehousesql: close: %w", err)
	}
	return nil
}

// runQuery prepares and runs query on c, converting its rows to Arrow.
func runQuery(ctx context.Context, c *duckdb.Conn, query string, args []any, fn func(*arrow.Schema, arrow.RecordBatch) error) error {
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return err
	}
	stmt, ok := st.(*duckdb.Stmt)
	if !ok {
		_ = st.Close()
		return fmt.Errorf("unexpected driver statement %T", st)
	}
	defer stmt.Close()

	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
		if na, ok := a.(sql.NamedArg); ok {
			named[i].Name, named[i].Value = na.Name, na.Value
		}
	}
	rows, err := stmt.QueryContext(ctx, named)
	if err != nil {
		return err
	}
	defer rows.Close()

	names := rows.Columns()
	fields := make([]arrow.Field, len(names))
	convs := make([]appendFunc, len(names))
	for i, name := range names {
		info, err := stmt.ColumnTypeInfo(i)
		if err != nil {
			info = nil // unknown type: rendered as text
		}
		typ, conv := converterFor(info)
		fields[i] = arrow.Field{Name: name, Type: typ, Nullable: true}
		convs[i] = conv
	}
	schema := arrow.NewSchema(fields, nil)
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()

	emit := func() error {
		rec := rb.NewRecordBatch()
		defer rec.Release()
		return fn(schema, rec)
	}
	dest := make([]driver.Value, len(names))
	n, batches := 0, 0
	for {
		err := rows.Next(dest)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		for i, v := range dest {
			if err := convs[i](rb.Field(i), v); err != nil {
				return fmt.Errorf("column %q: %w", names[i], err)
			}
		}
		if n++; n == BatchRows {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := emit(); err != nil {
				return err
			}
			n, batches = 0, batches+1
		}
	}
	if n > 0 || batches == 0 {
		return emit()
	}
	return nil
}
