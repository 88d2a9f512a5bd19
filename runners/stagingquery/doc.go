// SPDX-License-Identifier: Apache-2.0

// Package stagingquery runs Chronon StagingQueries: SQL over the warehouse
// (DuckDB, see package warehousesql) whose result becomes a ds-partitioned
// output table, as `chronon staging-query` does.
//
//	res, err := stagingquery.Run(ctx, wh, sq, stagingquery.Options{EndDS: "2023-11-30"})
//	if err != nil {
//		return err // names the staging query; nothing was written
//	}
//	fmt.Printf("computed %d partitions of %s\n", len(res.Partitions), res.Table)
//
// # What is computed
//
// The output table is api.MetaData.OutputTable: "<outputNamespace>.<name
// sanitized>". A run covers the partitions from Options.StartDS (default:
// the query's startPartition) to Options.EndDS, and computes those the
// output table lacks; when the table was written by a definition with
// another semantic hash (api.StagingQuery.SemanticHash: query, setups,
// startPartition, createView), every partition of the range is recomputed
// (partitions outside the range are kept, with a warning). Unlike Chronon,
// holes before the table's first partition are filled too, as in the other
// backfills' plans (runners/plan).
//
// The partitions to compute are cut into runs of consecutive days, and each
// run into steps of at most Options.StepDays days (30 by default, Chronon's
// default). The setups statements run once, then the query runs once per
// step with its template variables (api.RenderQuery) set to the step:
// {{ start_date }} and {{ end_date }} are the step's first and last
// partition, {{ latest_date }} is Options.EndDS and
// {{ max_date(table=ns.t) }} the latest committed partition of ns.t.
//
// The query's result must have a ds column (VARCHAR "YYYY-MM-DD" or DATE):
// each row is written to its ds partition. Rows of a step whose ds is
// outside the step are dropped with a warning (another step, or an existing
// partition, owns that day). Every step writes into one warehouse
// transaction in Overwrite mode, committed after the last step, so a run
// writes all its partitions or none; a partition of the range that got no
// rows is written empty, so that it counts as computed. Columns of types the
// warehouse has no Chronon counterpart for are converted: DECIMAL (and
// HUGEINT, which DuckDB's SUM of integers returns) becomes long when it has
// no fraction digits and double otherwise, a NULL-typed column becomes a
// string column, and TIMESTAMP_S becomes milliseconds.
//
// A staging query without a startPartition (and no Options.StartDS) runs
// once over all data, as Chronon runs it, and replaces the partitions its
// result holds; it cannot use {{ start_date }} or {{ end_date }}. With
// createView set, Chronon creates a view; the warehouse has no views, so
// the result is materialized like any other staging query, with a warning.
//
// DuckDB needs cgo: in a binary built with CGO_ENABLED=0, a run with
// partitions to compute fails with an error wrapping
// warehousesql.ErrNoCgo (a run with nothing to compute still succeeds).
package stagingquery
