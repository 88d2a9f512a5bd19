// SPDX-License-Identifier: Apache-2.0

// Package orchestrate runs the dependency graph of runners/orchestrate/graph
// for one day: `chronon run --ds D`.
//
// Execute starts every step due on the day once the steps it depends on
// ended well, waits (up to a timeout, or not at all) for the partitions it
// reads from outside the run, and runs at most Options.Parallelism steps
// at once. A failed step, or one whose inputs never landed, blocks only
// its dependants; a step whose job is not available in this build
// (ErrUnavailable from the StepFunc) is reported as skipped, and so are its
// dependants. The Report prints a
// summary table and names the steps each missing partition holds up.
//
// Steps adapt jobs through the small Step interface (UpToDate, Run); Env
// adapts each kind to the packages that run it in process:
// runners/backfill (join and group-by front-fills, uploads),
// runners/stagingquery, runners/metadata, runners/labeljoin,
// runners/logflatten, runners/consistency (a day without fetch logs has
// nothing to compare and is done), and the retention implemented here (KV batch versions and streaming values through kv.Store.Expire,
// log table partitions past their TTL emptied by an overwrite).
//
// A run is idempotent: every job writes whole partitions atomically and
// computes only what is missing or stale (runners/plan's semantic
// hashes), uploads are complete once both the _upload partition and the
// KV serving info say so, and metadata once the store holds the same
// definitions. A second run does nothing; a run after a crash finishes
// the rest.
package orchestrate
