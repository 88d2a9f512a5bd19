// SPDX-License-Identifier: Apache-2.0

// Package consistency measures online/offline consistency (`chronon
// consistency`, Chronon's ConsistencyJob): it recomputes a day of logged
// online requests offline, at their logged timestamps, and compares the
// two per feature.
//
//	res, err := consistency.Run(ctx, wh, join, "2023-12-01", consistency.Options{Root: root})
//	if err != nil {
//		return err // names the join and the table at fault
//	}
//	for _, f := range res.Features {
//		fmt.Println(f.Name, f.Metrics.Mismatch, f.Metrics.Missing, f.Metrics.Extra)
//	}
//
// # Steps
//
//  1. The join's flattened logs, <join output table>_logged partition D
//     (runners/logflatten), must exist; Run does not flatten the day
//     itself (ErrNotFlattened tells the user to run `chronon log-flatten`),
//     because a flattened partition is never recomputed and flattening a
//     day whose logs still arrive would freeze it incomplete.
//  2. ComparisonJoin derives Chronon's comparison join: the same parts and
//     derivations with the _logged table as left side (its left key
//     columns and ts), named <join>_comparison, so runners/backfill.Join
//     writes <join output table>_comparison partition D (and part tables
//     next to it) like any join backfill: planned, atomic, not recomputed
//     for an unchanged definition. External parts, bootstrap parts, row
//     ids and the label part are dropped: they have no offline
//     counterpart, or would compare the logs with themselves.
//  3. The comparison rows are paired with the logged rows on (left keys,
//     ts) (Chronon joins on ts, ds and the left keys; ds is the day of
//     both here). Rows with equal keys and ts pair in any order: their
//     offline values are equal. The compared columns are those both
//     tables have (Chronon: the logged columns the comparison has):
//     values of external and contextual parts and _exception entries are
//     logged only and are listed in Result.Excluded.
//  4. core/compare classifies each (offline, online) pair and sums SMAPE.
//     The metrics replace partition D of <join output table>_consistency
//     in one transaction, one row per feature.
//
// # The _consistency table
//
//	feature            the column, as in the join output
//	group_by           the GroupBy of the join part producing it (null: derived)
//	data_type          the offline column type
//	total              rows compared
//	both_null          offline and online null
//	missing            online null or absent, offline present (Chronon right_null)
//	extra              online present, offline null (Chronon left_null)
//	mismatch           both present and different (compare.Equal)
//	mismatch_rate      mismatch / total (Chronon's mismatch metric)
//	inconsistent_rate  (mismatch + missing + extra) / total
//	smape              mean of 2|a-b|/(|a|+|b|) over numeric pairs, in [0, 2]
//	ds                 the day (partition)
//
// Chronon's table is wide (one column per feature and metric, one row per
// hour) and adds percentile sketches of the values and their differences;
// this one is long (a row per feature and day), which reads and renders
// directly. The table also holds, per day, the rows compared and any
// unpaired rows in its properties.
//
// # Expectations
//
// The fetcher serves exact window tails, as the backfill computes them
// (SEMANTICS.md, Deliberate differences), so a correct system reports no
// inconsistency for requests served from a batch upload within its exact
// range. Streaming lag and late uploads show up as mismatches, as in
// Chronon.
//
// # Sampling
//
// A join's consistencySamplePercent p in (0, 100) keeps the logged rows
// whose pmod(crc32(cast(ts as string)), 100000) < p*1000: deterministic,
// so a re-run compares the same rows (Chronon filters with RAND()). The
// rows left out are counted in Result.Unsampled. An unset (or zero)
// percentage means 100: Chronon migrates unset configs to 100, and our
// definitions cannot tell zero from unset.
package consistency
