// SPDX-License-Identifier: Apache-2.0

// Package warehousesql runs SQL over a warehouse with an in-memory DuckDB.
//
// Open exposes every warehouse table "ns.table" as a DuckDB view ns.table
// reading exactly the Parquet files the table's manifest lists (never stray
// files on disk), with the partition column ds as a VARCHAR "YYYY-MM-DD".
// Query results come back as Arrow record batches, ready for the renderers in
// core/batch (used by `chronon sql`).
//
// Only local warehouses can be queried: files on gs:// (or any other URI)
// make Open and Refresh fail with ErrRemoteFiles, as the DuckDB linked here
// has no network access.
//
// DuckDB is a cgo library: built with CGO_ENABLED=0 the package still
// compiles, but Open returns ErrNoCgo.
package warehousesql
