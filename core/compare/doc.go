// SPDX-License-Identifier: Apache-2.0

// Package compare holds the metrics of online/offline consistency
// (Chronon's CompareMetrics.scala): how a column's values logged online
// compare with the values the offline engine recomputes for the same rows.
//
// Every pair of values (offline, online) of a column falls in one class:
//
//	both null    offline and online are null
//	missing      online null, offline not (Chronon's right_null)
//	extra        online not null, offline null (Chronon's left_null)
//	mismatch     both not null and not Equal
//	(equal)      both not null and Equal
//
// and, when both values are numbers, adds a term to SMAPE, the mean over
// those pairs of 2|a-b| / (|a|+|b|) with 0 when both are 0 (Chronon's
// smape metric: an AVERAGE of that expression, which skips nulls). SMAPE
// lies in [0, 2]; it is not scaled to percent.
//
// # Equality
//
// Integers compare exactly. Floating-point numbers are equal when
// identical, both NaN, or within the Tolerance (relative 1e-9 or absolute
// 1e-12 by default): offline and online sum in different orders. Lists
// compare element by element, maps and structs key by key, recursively
// under the same rules (Chronon compares lists with Spark's exact equality
// and maps as sorted strings).
//
// # Non-finite numbers
//
// Spark would turn a SMAPE term over NaN or infinity into NaN and poison
// the average. Here a pair of equal non-finite values (both NaN, or the
// same infinity) contributes 0 and any other pair with a non-finite value
// contributes 2, the maximum, so SMAPE stays in [0, 2].
//
// Metrics values are plain counters that Merge combines, so partial
// metrics computed apart (per worker, per shard) add up.
package compare
