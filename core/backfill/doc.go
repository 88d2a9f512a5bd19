// SPDX-License-Identifier: Apache-2.0

// Package backfill is the pure computation of GroupBy and Join backfills,
// free of I/O and of Beam: compiling a source's query into a projection,
// keying and sharding rows, sweeping one shard's left rows and events with
// core/agg, and assembling a partition's output rows with derivations.
//
// The Beam transforms in transforms/ move Arrow record batches between these
// steps; tests can call the steps directly. Every function here works on
// whole record batches, never on single rows, because rows as pipeline
// elements are an order of magnitude slower (DESIGN.md §5).
package backfill
