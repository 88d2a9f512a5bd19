// SPDX-License-Identifier: Apache-2.0

package warehousesql

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// ErrNoCgo is returned by Open in binaries built without cgo, which cannot
// link DuckDB.
var ErrNoCgo = errors.New("warehousesql: DuckDB needs cgo (built with CGO_ENABLED=0)")

// ErrRemoteFiles is returned (wrapped) by Open and Refresh when a table's
// files are not local, as on a gs:// warehouse: the DuckDB linked here has no
// network access (its httpfs extension is not bundled). Use errors.Is.
var ErrRemoteFiles = errors.New("warehousesql: only local warehouse files can be queried (DuckDB here has no network access)")

// remoteFile returns the scheme of path if it is a URI other than file://,
// else "".
func remoteFile(path string) string {
	scheme, _, ok := strings.Cut(path, "://")
	if !ok || strings.EqualFold(scheme, "file") {
		return ""
	}
	return scheme
}

// Result is a fully read query result.
type Result struct {
	// Schema describes the result columns, in order.
	Schema *arrow.Schema
	// Batches hold the rows; there may be none. Release them with Release.
	Batches []arrow.RecordBatch
}

// Columns returns the result's column names, in order.
func (r *Result) Columns() []string {
	names := make([]string, r.Schema.NumFields())
	for i, f := range r.Schema.Fields() {
		names[i] = f.Name
	}
	return names
}

// NumRows returns the number of rows in every batch.
func (r *Result) NumRows() int64 {
	var n int64
	for _, b := range r.Batches {
		n += b.NumRows()
	}
	return n
}

// Release releases every batch. The Result must not be used afterwards.
func (r *Result) Release() {
	for _, b := range r.Batches {
		b.Release()
	}
	r.Batches = nil
}

// quoteIdent quotes a DuckDB identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteString quotes a DuckDB string literal.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// splitTable splits a warehouse table name "ns.table" at its first dot into
// a schema and a view name. Both must be non-empty; the table part may hold
// further dots.
func splitTable(name string) (ns, table string, err error) {
	i := strings.IndexByte(name, '.')
	if i <= 0 || i == len(name)-1 {
		return "", "", fmt.Errorf("warehousesql: table name %q is not \"namespace.table\"", name)
	}
	if strings.ContainsRune(name, 0) {
		return "", "", fmt.Errorf("warehousesql: table name %q holds a NUL byte", name)
	}
	return name[:i], name[i+1:], nil
}

// duckType returns the DuckDB type of Arrow type t, as it is read back from
// Parquet.
func duckType(t arrow.DataType) (string, error) {
	t = batch.ValueType(t)
	switch t := t.(type) {
	case *arrow.TimestampType:
		switch {
		case t.TimeZone != "":
			return "TIMESTAMPTZ", nil
		case t.Unit == arrow.Nanosecond:
			return "TIMESTAMP_NS", nil
		default:
			return "TIMESTAMP", nil
		}
	case arrow.DecimalType:
		if t.GetPrecision() > 38 {
			return "", fmt.Errorf("decimal precision %d exceeds DuckDB's 38", t.GetPrecision())
		}
		return fmt.Sprintf("DECIMAL(%d,%d)", t.GetPrecision(), t.GetScale()), nil
	case *arrow.MapType:
		k, err := duckType(t.KeyType())
		if err != nil {
			return "", err
		}
		v, err := duckType(t.ItemType())
		if err != nil {
			return "", err
		}
		return "MAP(" + k + ", " + v + ")", nil
	case arrow.ListLikeType:
		e, err := duckType(t.Elem())
		if err != nil {
			return "", err
		}
		return e + "[]", nil
	case *arrow.StructType:
		if t.NumFields() == 0 {
			return "", errors.New("empty struct")
		}
		parts := make([]string, t.NumFields())
		for i, f := range t.Fields() {
			ft, err := duckType(f.Type)
			if err != nil {
				return "", err
			}
			parts[i] = quoteIdent(f.Name) + " " + ft
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")", nil
	}
	switch t.ID() {
	case arrow.BOOL:
		return "BOOLEAN", nil
	case arrow.INT8:
		return "TINYINT", nil
	case arrow.INT16:
		return "SMALLINT", nil
	case arrow.INT32:
		return "INTEGER", nil
	case arrow.INT64:
		return "BIGINT", nil
	case arrow.UINT8:
		return "UTINYINT", nil
	case arrow.UINT16:
		return "USMALLINT", nil
	case arrow.UINT32:
		return "UINTEGER", nil
	case arrow.UINT64:
		return "UBIGINT", nil
	case arrow.FLOAT16, arrow.FLOAT32:
		return "FLOAT", nil
	case arrow.FLOAT64:
		return "DOUBLE", nil
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return "VARCHAR", nil
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY:
		return "BLOB", nil
	case arrow.DATE32, arrow.DATE64:
		return "DATE", nil
	case arrow.TIME32, arrow.TIME64:
		return "TIME", nil
	case arrow.DURATION, arrow.INTERVAL_MONTHS, arrow.INTERVAL_DAY_TIME, arrow.INTERVAL_MONTH_DAY_NANO:
		return "INTERVAL", nil
	case arrow.NULL:
		return "INTEGER", nil // Parquet stores an all-null column as INT32
	}
	return "", fmt.Errorf("unsupported Arrow type %s", t)
}

// emptySelect returns a zero-row SELECT with the table's columns, typed as
// DuckDB reads them from Parquet, followed by ds.
func emptySelect(schema *arrow.Schema) (string, error) {
	var b strings.Builder
	b.WriteString("SELECT ")
	if schema != nil {
		for _, f := range schema.Fields() {
			if f.Name == warehouse.PartitionColumn {
				continue // never stored; the view's own ds wins
			}
			t, err := duckType(f.Type)
			if err != nil {
				return "", fmt.Errorf("column %q: %w", f.Name, err)
			}
			fmt.Fprintf(&b, "CAST(NULL AS %s) AS %s, ", t, quoteIdent(f.Name))
		}
	}
	fmt.Fprintf(&b, "CAST(NULL AS VARCHAR) AS %s WHERE false", quoteIdent(warehouse.PartitionColumn))
	return b.String(), nil
}

// fileList returns a DuckDB list literal of paths.
func fileList(paths []string) string {
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = quoteString(p)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// hiveLayout reports whether DuckDB's Hive partitioning reads the right ds
// from every file: each path's only "key=value" directory is ds=<its
// partition>.
func hiveLayout(parts []warehouse.Partition) bool {
	want := warehouse.PartitionColumn + "="
	for _, p := range parts {
		for _, f := range p.Files {
			dirs := strings.FieldsFunc(f, func(r rune) bool { return r == '/' || r == '\\' })
			if len(dirs) == 0 {
				return false
			}
			dirs = dirs[:len(dirs)-1] // the file name
			found := false
			for _, d := range dirs {
				if !strings.Contains(d, "=") {
					continue
				}
				if d != want+p.DS || found {
					return false
				}
				found = true
			}
			if !found {
				return false
			}
		}
	}
	return true
}

// viewSQL returns the statements that (re)create the view of a table: a
// zero-row typed SELECT (so that a table without files still has its
// columns), UNION ALL BY NAME the table's files, read with union_by_name so
// that columns added by later writes are null in older files.
func viewSQL(info *warehouse.TableInfo) (string, error) {
	ns, table, err := splitTable(info.Name)
	if err != nil {
		return "", err
	}
	empty, err := emptySelect(info.Schema)
	if err != nil {
		return "", fmt.Errorf("warehousesql: table %s: %w", info.Name, err)
	}
	var parts []warehouse.Partition
	for _, p := range info.Partitions {
		for _, f := range p.Files {
			if scheme := remoteFile(f); scheme != "" {
				return "", fmt.Errorf("%w: table %s is on %s:// (%s)", ErrRemoteFiles, info.Name, scheme, f)
			}
		}
		if len(p.Files) > 0 {
			parts = append(parts, p)
		}
	}
	body := empty
	switch {
	case len(parts) == 0:
	case hiveLayout(parts):
		var files []string
		for _, p := range parts {
			files = append(files, p.Files...)
		}
		body = fmt.Sprintf("%s\nUNION ALL BY NAME\nSELECT * FROM read_parquet(%s, hive_partitioning = true, hive_types = {%s: VARCHAR}, union_by_name = true)",
			empty, fileList(files), quoteString(warehouse.PartitionColumn))
	default:
		// Files outside a Hive layout: label each partition's rows.
		var b strings.Builder
		b.WriteString(empty)
		for _, p := range parts {
			fmt.Fprintf(&b, "\nUNION ALL BY NAME\nSELECT *, %s AS %s FROM read_parquet(%s, hive_partitioning = false, union_by_name = true)",
				quoteString(p.DS), quoteIdent(warehouse.PartitionColumn), fileList(p.Files))
		}
		body = b.String()
	}
	return fmt.Sprintf("CREATE SCHEMA IF NOT EXISTS %s;\nCREATE OR REPLACE VIEW %s.%s AS\n%s",
		quoteIdent(ns), quoteIdent(ns), quoteIdent(table), body), nil
}
