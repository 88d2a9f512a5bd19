// SPDX-License-Identifier: Apache-2.0

// Package batch holds the columnar helpers shared by every layer: the
// partition spec (daily "ds" partitions in UTC, "YYYY-MM-DD"), time
// conversions between epoch milliseconds and partitions, and the mapping from
// Chronon data kinds to Arrow types.
//
// It performs no I/O.
package batch
