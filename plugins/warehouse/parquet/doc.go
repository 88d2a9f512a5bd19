// SPDX-License-Identifier: Apache-2.0

// Package parquet is the built-in warehouse.Warehouse: a local directory of
// Hive-layout Parquet files with a JSON manifest per table as its commit point.
//
// # Layout
//
// A warehouse root (a local path or a file:// URI) holds one directory per
// namespace and one per table; both names match [A-Za-z0-9_]+:
//
//	<root>/<ns>/<table>/_chronon.json                       manifest (commit point)
//	<root>/<ns>/<table>/_lock                               commit lock (flock)
//	<root>/<ns>/<table>/ds=YYYY-MM-DD/part-<txn>-<n>.parquet committed data files
//	<root>/<ns>/<table>/_staging/<pid>-<txn>/ds=.../part-*  files of open transactions
//
// Data files hold the data columns only: the partition column ds lives in the
// directory name, so DuckDB (read_parquet(..., hive_partitioning=true)) and
// Spark read it from the path. Files are written with the Arrow schema
// embedded, so Arrow types without a Parquet equivalent (unsigned integers,
// large strings, time zones) read back exactly.
//
// # Manifest
//
// _chronon.json is the only source of truth: readers only ever open files it
// lists, so any file not listed is invisible. It looks like
//
//	{
//	  "formatVersion": 1,
//	  "version": 7,
//	  "table": "ns.table",
//	  "schema": {"fields": [
//	    {"name": "id", "type": "int64", "nullable": false},
//	    {"name": "ts", "type": "timestamp", "unit": "ms", "timezone": "UTC", "nullable": true},
//	    {"name": "tags", "type": "list", "nullable": true,
//	     "children": [{"name": "item", "type": "utf8", "nullable": true}]},
//	    {"name": "m", "type": "map", "nullable": true, "children": [
//	      {"name": "key", "type": "utf8", "nullable": false},
//	      {"name": "value", "type": "float64", "nullable": true}]}
//	  ]},
//	  "properties": {"owner": "team"},
//	  "semanticHash": "abc123",
//	  "partitions": {
//	    "2024-01-01": {"files": ["ds=2024-01-01/part-5f3c9a0e1b2d4c6a-0.parquet"], "rows": 1000, "bytes": 23456}
//	  }
//	}
//
// version increases by one with every commit. Type names are bool, int8,
// int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, utf8,
// large_utf8, binary, large_binary, date32, timestamp (unit ms, us or ns and
// an optional timezone), list, large_list (one child, the element), map (two
// children, key and value) and struct (one child per field). File paths are
// relative to the table directory.
//
// # Transactions
//
// Begin creates a staging directory and Write streams each partition into
// its own Parquet file there (part-<txn>-0.parquet), flushing a row group
// every Options.RowGroupRows rows, so a transaction's memory is bounded by
// the number of partitions it writes times one encoded row group, whatever
// the number of rows. Commit closes and fsyncs the files, takes
// an exclusive flock on _lock, re-reads the manifest (so concurrent writers in
// other goroutines or processes are serialized and all their appends
// survive), reconciles the schema, renames the staged files into their ds=
// directories, and atomically replaces the manifest (temporary file, fsync,
// rename, directory fsync). After releasing the lock it deletes the files an
// Overwrite replaced and the staging directory.
//
// Schema evolution: a write may add columns, which become nullable in the
// table schema and read back as nulls from older files, and may omit nullable
// columns. A column whose type changed (nested types included: a struct may
// not gain fields), or a non-nullable table column missing from the write, is
// warehouse.ErrSchemaConflict. Nullability only widens: a column, list
// element or struct field nullable in any write is nullable in the table.
//
// # Recovery
//
// A crash at any point leaves the previous version fully visible and nothing
// partial. The debris it may leave (staging directories of processes that are
// no longer alive, part files renamed into ds= directories but never
// referenced by a manifest, temporary manifests) is deleted under the table
// lock when the warehouse is opened, and for tables created later on their
// first commit through this Warehouse.
//
// Locking uses flock(2), so commits need a Unix system and a local file
// system (not NFS). As replaced files are deleted at commit, a Scan running
// while another transaction overwrites the partitions it reads may fail with
// an error; it never returns a mix of versions.
package parquet
