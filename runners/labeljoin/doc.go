// SPDX-License-Identifier: Apache-2.0

// Package labeljoin runs Chronon's label join (`chronon label-join`): it
// attaches labels, known only after the fact, to a join's left rows, and
// materializes the join's features with them.
//
//	res, err := labeljoin.Run(ctx, wh, join, labeljoin.Options{Root: root, Start: "2023-05-01", End: "2023-05-01"})
//	if err != nil {
//		return err // names the join; the version was not written
//	}
//	for _, v := range res.Versions {
//		fmt.Println(v.LabelDS, v.Computed, v.Rows)
//	}
//
// # What is computed
//
// For each label_ds L of the range (Chronon's LabelJoin.scala), the left
// partitions L-(leftStartOffset-1) .. L-(leftEndOffset-1) are refreshed:
// every left row gets, by its keys, the label parts' values as of the end
// of L. A label part without aggregations (an entities GroupBy) gives the
// row of its snapshot partition L; one with aggregations (an events
// GroupBy with one aggregation and one window of W days, W equal to both
// offsets) aggregates the events of days L-W+1 .. L, that is the W days
// starting on the left row's own day. core/backfill.LabelJoin composes this
// from the join engine (see there); transforms.LabelJoin is the pipeline.
//
// # Tables
//
// The label table `<join output table>_labels` holds per left partition ds
// one row per left row identifier (the join's rowIds, else the label
// parts' left keys) and label version: the identifier columns, the label
// parts' columns `<part prefix>_<column>` and label_ds. Chronon partitions
// it by label_ds and ds; our warehouse partitions by ds only, so a ds
// partition holds every version of its rows, told apart by the label_ds
// column. A run for L rewrites each of L's left partitions whole (the other
// versions copied, L's replaced) in one warehouse transaction, so a version
// appears, or is replaced, atomically. The table property
// "label_version/<L>" holds the version's hash (backfill.LabelJoin's
// VersionHash: the label definition and the left days present): a rerun
// skips an up-to-date version and recomputes one whose definition changed
// or whose missing left partitions arrived. Label runs of one join must not
// run concurrently (each rewrites partitions the other may too).
//
// The warehouse has no views, so Chronon's views `_labeled` (the join's
// output table left-outer-joined with the label table on the identifier
// and ds, label columns renamed `label_<name>` unless they start with
// "label") and `_labeled_latest` (each ds's rows of its greatest label_ds)
// are materialized: their partitions of the left days whose labels a run
// computed, or that they lack, are rewritten (one transaction each). Days
// the join's output table lacks are skipped with a warning; a later
// backfill of the join is picked up by the next label run of those days
// only when the labeled tables lack them.
package labeljoin
