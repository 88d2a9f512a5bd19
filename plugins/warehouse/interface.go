// SPDX-License-Identifier: Apache-2.0

package warehouse

import (
	"context"
	"errors"

	"github.com/apache/arrow-go/v18/arrow"
)

// ErrTableNotFound is returned when a named table does not exist.
// Use errors.Is(err, ErrTableNotFound) to check for it.
var ErrTableNotFound = errors.New("warehouse: table not found")

// ErrSchemaConflict is returned by Begin when the written schema cannot be
// reconciled with the table's schema (a column changed type, or a non-nullable
// column is missing). Use errors.Is.
var ErrSchemaConflict = errors.New("warehouse: schema conflict")

// PartitionColumn is the name of the partition column every table has. It is
// not stored inside data files (Hive layout); Scan adds it to every record.
const PartitionColumn = "ds"

// Warehouse stores ds-partitioned tables named "<namespace>.<table>".
//
// Implementations must be safe for concurrent use by multiple goroutines, and
// readers must never observe a partially committed write.
type Warehouse interface {
	// Tables lists every table as "namespace.table", sorted.
	Tables(ctx context.Context) ([]string, error)
	// Describe returns a table's schema, partitions and properties, or
	// ErrTableNotFound.
	Describe(ctx context.Context, table string) (*TableInfo, error)
	// Scan streams the table's committed rows in the partitions selected by
	// opts as Arrow record batches, in bounded memory.
	Scan(ctx context.Context, table string, opts ScanOptions) (Scanner, error)
	// Begin starts a write transaction on table (created if absent) whose
	// records have the given schema (data columns only, without ds). Nothing
	// written is visible until Commit.
	Begin(ctx context.Context, table string, schema *arrow.Schema, opts WriteOptions) (Txn, error)
	// Close releases resources held by the warehouse.
	Close() error
}

// TableInfo describes a committed table.
type TableInfo struct {
	// Name is "namespace.table".
	Name string
	// Schema holds the data columns (without ds), the union of every
	// committed write's schema: columns added later are nullable.
	Schema *arrow.Schema
	// Partitions lists the committed partitions sorted by DS.
	Partitions []Partition
	// Properties are free-form table properties (e.g. Chronon tableProperties).
	Properties map[string]string
	// SemanticHash is the hash of the definition that produced the table, if
	// any (used to decide recomputation).
	SemanticHash string
}

// Partition describes one committed ds partition.
type Partition struct {
	DS    string // YYYY-MM-DD
	Rows  int64
	Files []string // data file paths or URIs, for external readers (DuckDB)
	Bytes int64
}

// ScanOptions selects what Scan reads. The zero value reads every partition
// and every column.
type ScanOptions struct {
	// StartDS and EndDS bound the partitions read, both inclusive. Empty
	// means unbounded on that side.
	StartDS, EndDS string
	// Columns projects the table's columns, in this order. Nil means every
	// column in table-schema order followed by ds. A column may be "ds".
	// A column the table does not have is an error.
	Columns []string
}

// Scanner iterates over record batches. It is not safe for concurrent use.
type Scanner interface {
	// Schema is the schema of every record returned by Next.
	Schema() *arrow.Schema
	// Next returns the next batch, or io.EOF after the last one. The caller
	// owns the batch and must Release it.
	Next(ctx context.Context) (arrow.RecordBatch, error)
	// Close releases the scanner's resources.
	Close() error
}

// WriteMode says how a transaction treats partitions that already exist.
type WriteMode int

const (
	// Overwrite replaces every partition the transaction writes to; other
	// partitions are left as they are.
	Overwrite WriteMode = iota
	// Append adds the transaction's rows to the partitions as new part files.
	Append
	// Replace makes the table exactly what the transaction wrote: its
	// schema (no merge with the old one) and only the partitions written;
	// every other partition is dropped. A recomputed definition whose
	// columns changed uses it.
	Replace
)

// WriteOptions configure a write transaction. The zero value overwrites
// partitions and leaves properties and semantic hash as they are.
type WriteOptions struct {
	Mode WriteMode
	// Properties are merged into the table's properties at commit.
	Properties map[string]string
	// SemanticHash, when non-empty, replaces the table's semantic hash at commit.
	SemanticHash string
}

// Txn is a write transaction. It is not safe for concurrent use.
type Txn interface {
	// Write adds rec's rows to partition ds. rec's schema must equal the
	// transaction's schema. A zero-row record still marks the partition as
	// written (an empty partition is committed).
	Write(ctx context.Context, ds string, rec arrow.RecordBatch) error
	// Commit makes every partition written visible at once, atomically.
	Commit(ctx context.Context) error
	// Abort discards everything written. It is safe to call after Commit
	// (it does nothing then).
	Abort() error
}

// PropertySetter is implemented by transactions that take table properties
// after Begin, so a writer can commit what it learned while writing (a
// count of skipped rows) atomically with the data. The built-in parquet
// warehouse implements it; check with a type assertion.
type PropertySetter interface {
	// SetProperties merges props into the properties the commit writes.
	SetProperties(props map[string]string)
}
