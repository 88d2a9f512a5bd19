// SPDX-License-Identifier: Apache-2.0

// Package batch holds the columnar helpers shared by every layer: the
// partition spec (daily "ds" partitions in UTC, "YYYY-MM-DD"), time
// conversions between epoch milliseconds and partitions, and the mapping from
// Chronon data kinds to Arrow types.
//
// It also decodes CSV and JSONL streams into record batches (with type
// inference and errors naming the line) and renders batches as a table, CSV
// or JSON lines. It reads and writes only the io.Reader and io.Writer it is
// given: it opens no files.
package batch
