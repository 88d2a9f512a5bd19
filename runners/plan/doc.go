// SPDX-License-Identifier: Apache-2.0

// Package plan decides what an offline backfill computes and reads, without
// running it: the output schema of a GroupBy or Join, the output partitions
// that are missing or stale (semantic hash), and the input partitions each of
// them needs. It backs `chronon backfill`, `chronon groupby-backfill` and
// `chronon analyze`.
//
// The package performs no I/O. Callers hand it the warehouse's view of the
// tables as a DescribeFunc (or, for schemas only, a SchemaFunc):
//
//	describe := func(table string) (*warehouse.TableInfo, error) {
//		return wh.Describe(ctx, table)
//	}
//	p, err := plan.PlanJoin(join, describe, plan.Options{Start: "2023-11-01", End: "2023-11-30"})
//	if err != nil {
//		return err // a definition problem: unknown column, missing table, bad date
//	}
//	fmt.Print(p) // chronon analyze
//	if err := p.Err(); err != nil {
//		return err // a required input partition is missing
//	}
//
// # Output partitions
//
// A backfill computes the partitions of [start, end] its output table lacks.
// When the table was written by a definition whose semantic hash differs
// from the current one, the table is stale: the runner drops it and
// recomputes every partition of the range (Chronon drops such tables too).
// A table without a stored hash is kept as it is, with a warning. A Join's
// main table stores the JSON of api.Join.SemanticHashes; each join part
// table stores the JSON of its own entry and the left source's, so a change
// of the left or of one part recomputes exactly what depends on it. The
// part tables are computed for the main table's missing days only.
//
// # Inputs
//
// For each output day D (the left's partition for a Join):
//
//   - the left table's partition D is required;
//   - an entity snapshot is required on day D-1 when the left is events
//     (the snapshot as of the start of D) and on day D when the left is
//     entities or for a GroupBy backfill (end of D); a TEMPORAL entity
//     GroupBy with a mutation table also reads that table's partition D;
//   - an event source is read from the first day the longest window can
//     reach to the last day the left day can see: D-1 for SNAPSHOT parts of
//     an events left (values as of D 00:00), D otherwise. An unbounded
//     window reads from the table's first partition (or the query's
//     startPartition). Days before the table begins are empty; days missing
//     inside the range are listed as warnings (a day may have had no
//     events), or errors with Options.Strict. A cumulative event source
//     reads only its latest partition (or endPartition).
//
// Event partitions are chosen by the UTC day of the events' ts, assuming a
// partition holds the events of its own day. A required partition that the
// table lacks is reported in Plan.Missing as a *MissingError; Plan.Err joins
// them.
package plan
