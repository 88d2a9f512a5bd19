// SPDX-License-Identifier: Apache-2.0

// Package sqlite is the embedded kv.Store: one SQLite file, through the
// pure-Go driver modernc.org/sqlite (no cgo). It is the default online
// store of a local setup (kv: {store: sqlite, path: ./.chronon/kv.db}).
//
//	s, err := sqlite.Open("./.chronon/kv.db", nil) // nil: default Options
//	if err != nil {
//		return err
//	}
//	defer s.Close()
//
// # Layout
//
// Two tables (layout version 1, kept in PRAGMA user_version):
//
//	CREATE TABLE kv_datasets (
//		id   INTEGER PRIMARY KEY,
//		name TEXT NOT NULL UNIQUE
//	);
//	CREATE TABLE kv_values (
//		dataset INTEGER NOT NULL REFERENCES kv_datasets (id),
//		key     BLOB NOT NULL,
//		ts      INTEGER NOT NULL, -- epoch milliseconds
//		value   BLOB NOT NULL,
//		PRIMARY KEY (dataset, key, ts)
//	) WITHOUT ROWID;
//
// A dataset is a row of kv_datasets; its values are the kv_values rows
// with its id, clustered by (dataset, key, ts) in the table's own B-tree
// (WITHOUT ROWID, so a value is read with its key, no second lookup).
// Every access is a search of that primary key: a latest-value get is a
// backward seek for the key's greatest ts then a seek to it, a get with
// AfterMillis a range scan from (dataset, key, AfterMillis), Expire a
// range scan of one dataset (with keepLatest, plus a seek for a newer
// value of each candidate). Writing the same (key, ts) again is an upsert.
// Dataset ids are cached per Store (datasets are never dropped).
//
// # Connections and processes
//
// The file is in WAL mode. A Store holds one writer connection (every
// write call is one transaction begun with BEGIN IMMEDIATE, so a write
// waits for another writer rather than failing midway) and a pool of
// query-only read connections (Options.ReadConns) that read the file
// through a memory map (Options.MmapSize). Statements are prepared once
// per connection. Readers never wait for writers: a MultiGet answers up to
// 32 requests with one statement (a VALUES list of the requests joined to
// kv_values), more in one read transaction, so it reads one snapshot.
// Several Stores and processes can share a file, the fetcher reading while
// an upload or a streaming job writes; writers of different processes take
// turns, each waiting up to Options.BusyTimeout for the lock. Opening an
// existing file takes no write lock.
//
// BulkLoad sorts its entries by key and writes them 128 to an INSERT, in
// one transaction per call; MultiPut writes one INSERT per entry, also in
// one transaction.
//
// The file must be on a local file system: WAL needs shared memory, which
// network file systems do not provide.
package sqlite
