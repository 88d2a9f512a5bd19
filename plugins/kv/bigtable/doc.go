// SPDX-License-Identifier: Apache-2.0

// Package bigtable is the production kv.Store, on Cloud Bigtable
// (cloud.google.com/go/bigtable). Tests run it against the in-process
// emulator cloud.google.com/go/bigtable/bttest; Options.Emulator or
// $BIGTABLE_EMULATOR_HOST points it at any emulator.
//
// # Layout
//
// Every dataset lives in one table (Options.Table, default "chronon") with
// two column families:
//
//	row key                      family:column   cells
//	esc(dataset) "#" key         v:v             one per value: timestamp TsMillis*1000 (µs), the value
//	esc(dataset)                 d:d             one (timestamp 0): the dataset's name, written by CreateDataset
//
// esc(dataset) is the dataset's name with '%' written "%25" and '#' written
// "%23", so it contains no '#': the first '#' of a value row's key ends the
// dataset name, and the keys of two datasets never collide, whatever bytes
// the keys hold (dataset "a#b" key "c" is row "a%23b#c", dataset "a" key
// "b#c" is row "a#b#c"). A dataset row holds no '#', so it is never a value
// row. A dataset's value rows are the range ["esc#", "esc$"), which Expire
// scans. Names are kept readable, so
//
//	cbt -instance I read chronon prefix='quickstart_purchases_v1_BATCH#' count=10
//
// shows a dataset. The empty dataset name is refused (its dataset row
// would have an empty key).
//
// A value is a cell: Bigtable keeps one cell per (row, column, timestamp),
// so writing a key again at the same TsMillis replaces the value, and the
// versions of a key are the column's cells, newest first on the wire.
// Bigtable timestamps are microseconds at millisecond granularity, so
// TsMillis must lie in [0, MaxInt64/1000]. Bigtable limits a row key to
// 4 KiB: the escaped dataset name, '#' and the key must fit in it.
//
// This is the layout of Chronon's BigTableKVStore (row key dataset#key,
// time series points as cell timestamps, Bigtable µs = ms*1000), with all
// datasets in one table instead of a table per dataset kind, and without
// its per-day row buckets: Expire bounds a row's cells instead.
//
// # Datasets
//
// CreateDataset writes the dataset row; a request on a dataset without one
// fails with an error wrapping kv.ErrNoDataset (MultiGet: in that request's
// GetResult.Err). Rows rather than a column family per dataset: creating a
// family is a schema change (admin permission, slow, rate limited, and
// Bigtable advises at most about 100 families per table), while a row is
// one ordinary write that any process may make, and a dataset costs nothing
// more than its values. A Store caches the datasets it has seen (they are
// never dropped), so the lookup costs one extra ReadRows the first time a
// process uses a dataset.
//
// # Operations
//
// MultiGet groups requests by dataset and reads each dataset's keys with
// one ReadRows of a RowList (two when a dataset has both kinds of request),
// the datasets concurrently: filter LatestNFilter(1) for AfterMillis <= 0,
// a timestamp range from the smallest AfterMillis (inclusive) otherwise,
// each request keeping its own values; values come back oldest first.
// MultiPut and BulkLoad use ApplyBulk with one mutation per row, a SetCell
// per entry in the caller's order (the last of equal (key, TsMillis)
// entries wins), at most 100,000 mutations and about 64 MiB per request;
// a failed row fails the call with the count of failed rows and the first
// error. Expire reads the value rows a page at a time (timestamps only) to
// count the cells it deletes, and deletes each row's cells older than
// beforeMillis with one DeleteTimestampRange; with keepLatest the range
// stops at the row's newest cell. It is O(cells read): a maintenance job,
// not a request-path call.
//
// # Table
//
// Open creates the table and any missing family, as these would:
//
//	cbt -project P -instance I createtable chronon
//	cbt -project P -instance I createfamily chronon v
//	cbt -project P -instance I createfamily chronon d
//	cbt -project P -instance I setgcpolicy chronon d maxversions=1
//
// With Options.SkipCreate it only connects, so a server that reads needs
// only the Bigtable reader role on a table made beforehand. Family v has no
// garbage collection: retention is Expire's job (batch datasets keep their
// last upload however old).
package bigtable
