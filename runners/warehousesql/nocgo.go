// SPDX-License-Identifier: Apache-2.0

//go:build !cgo

package warehousesql

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/plugins/warehouse"
)

// BatchRows is the most rows a query result batch holds.
const BatchRows = 4096

// DB is an in-memory DuckDB database whose views read a warehouse's tables.
// Without cgo it cannot be created: Open always fails with ErrNoCgo.
type DB struct{}

// Open fails with ErrNoCgo: DuckDB cannot be linked without cgo.
func Open(context.Context, warehouse.Warehouse) (*DB, error) { return nil, ErrNoCgo }

// Refresh fails with ErrNoCgo.
func (*DB) Refresh(context.Context) error { return ErrNoCgo }

// Tables returns nil.
func (*DB) Tables() []string { return nil }

// Exec fails with ErrNoCgo.
func (*DB) Exec(context.Context, string, ...any) error { return ErrNoCgo }

// Query fails with ErrNoCgo.
func (*DB) Query(context.Context, string, ...any) (*Result, error) { return nil, ErrNoCgo }

// QueryEach fails with ErrNoCgo.
func (*DB) QueryEach(context.Context, string, func(*arrow.Schema, arrow.RecordBatch) error, ...any) error {
	return ErrNoCgo
}

// Close does nothing.
func (*DB) Close() error { return nil }
