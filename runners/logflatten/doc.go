// SPDX-License-Identifier: Apache-2.0

// Package logflatten runs log flattening (Chronon's LogFlattenerJob): it
// turns a join's raw fetch logs in <logging namespace>.chronon_log_table
// into <join output table>_logged, one column per key and value plus
// schema_hash, ts and extra_values, partitioned by ds.
//
// It plans like a backfill: only the log partitions in [start, end] that
// the output lacks are computed (a re-run computes nothing), each in one
// transaction. Schemas come from the schema-publish events in the log
// table and from the output's schema_hash_<hash> properties, so the output
// schema is the union of every version (older rows are null in newer
// columns). Records that cannot be decoded are skipped and counted per day
// in the output's log_flatten_malformed_<ds> property, and in Result.
package logflatten
