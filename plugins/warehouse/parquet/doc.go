// SPDX-License-Identifier: Apache-2.0

// Package parquet is the built-in warehouse.Warehouse: Hive-layout Parquet
// files with a JSON manifest per table as its commit point, in a local
// directory or under a Google Cloud Storage prefix (so that Dataflow workers
// read and write the same tables).
//
// # Layout
//
// A warehouse root (a local path, a file:// URI, or gs://bucket[/prefix])
// holds one directory per namespace and one per table; both names match
// [A-Za-z0-9_]+:
//
//	<root>/<ns>/<table>/_chronon.json                       manifest (commit point)
//	<root>/<ns>/<table>/_lock                               commit lock (flock; local only)
//	<root>/<ns>/<table>/ds=YYYY-MM-DD/part-<txn>-<n>.parquet committed data files
//	<root>/<ns>/<table>/_staging/<pid>-<txn>/ds=.../part-*  files of open transactions
//
// Storage goes through package blob, which gives both kinds of root the same
// operations: files that appear whole when written, ranged reads, renames, and
// a conditional write (compare-and-swap) for the manifest. On GCS "directories"
// are name prefixes, Describe returns gs:// URIs, and Parquet files are read
// with ranged GETs through a read-ahead cache, so a footer or a run of small
// column chunks costs one request.
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
// Begin reads the manifest to check the schema, and Write streams each
// partition into its own Parquet file under the transaction's staging
// directory (part-<txn>-0.parquet), flushing a row group every
// Options.RowGroupRows rows, so a transaction's memory is bounded by the
// number of partitions it writes times one encoded row group (plus, on GCS,
// one upload chunk of blob.ChunkSize per partition), whatever the number of
// rows. Commit closes the files (local: fsynced; GCS: uploads finalized),
// moves them into their ds= directories, where nothing lists them yet, and
// then commits by replacing the manifest: it reads the manifest and its
// version, merges (the schema is reconciled, appended files are added to
// those of concurrent writers, overwritten partitions are replaced), and
// writes the new manifest only if the manifest is still at the version read.
// After the manifest is replaced it deletes the files an Overwrite replaced
// and the staging directory.
//
// On a local root the whole commit runs under an exclusive flock on _lock, so
// concurrent writers in other goroutines or processes are serialized and all
// their appends survive; the manifest is written to a temporary file,
// fsynced, renamed over _chronon.json and the directory fsynced.
//
// On GCS there are no locks: concurrency is optimistic. The manifest write is
// conditional on the generation read (ifGenerationMatch, or "does not exist"
// for a new table). When another writer committed in between, the write fails
// with a precondition error and the commit re-reads the manifest and redoes
// its merge on top (so concurrent appends all survive, and a concurrent
// overwrite of the same partition is ordered after the other commit, as under
// the lock), retrying with randomized exponential backoff up to 30 attempts in
// all; then it fails with an error that satisfies errors.Is(err,
// blob.ErrConflict), and the table is unchanged. A schema that became
// incompatible meanwhile fails with warehouse.ErrSchemaConflict. If the GCS
// client retried a manifest write whose first try had landed, the retry sees
// its own commit (the manifest lists its files, or a later overwrite already
// deleted them) and reports success instead of committing twice. Moving the
// staged files on GCS is a server-side copy and a delete per file.
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
// partial: readers only open files the manifest lists. The debris a crash
// may leave (staged files, part files moved into ds= directories but never
// referenced by a manifest, temporary manifests) is deleted as follows.
//
// On a local root it is deleted under the table lock when the warehouse is
// opened, and for tables created later on their first commit through this
// Warehouse: staging directories whose process (named by the pid in the
// directory name) is no longer alive, every unreferenced part file (under
// the lock no commit is in progress) and temporary manifests. Locking uses
// flock(2), so commits need a Unix system and a local file system (not NFS).
//
// On GCS, whether a writer on another machine is alive cannot be known, and a
// commit in progress holds unreferenced files in ds= directories for a
// moment, so only old debris is deleted: at a table's first commit through a
// Warehouse, staging directories whose newest file is older than
// Options.StaleAge (24 hours by default) and unreferenced part files older
// than that. Opening a GCS warehouse deletes nothing (it lists nothing but
// the root, once). A transaction that stays open longer than StaleAge, from
// its files' close at Commit to the manifest write, could lose files to a
// sweep: StaleAge must be far longer than any commit takes. Objects that
// this package did not write (_SUCCESS, other names) are never deleted.
//
// As replaced files are deleted at commit, a Scan running while another
// transaction overwrites the partitions it reads may fail with an error; it
// never returns a mix of versions.
package parquet
