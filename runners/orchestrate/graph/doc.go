// SPDX-License-Identifier: Apache-2.0

// Package graph derives the dependency graph of a repository of compiled
// definitions: for each join, group-by, staging query, label part, log
// flattening and consistency check, the steps that keep it fresh day by
// day, the partitions each step reads and writes, and the edges between
// them. `chronon run`, `chronon graph` and `chronon dags` share it.
//
// The package performs no I/O, like runners/plan: callers hand it the
// definitions and, to catch reads of unknown tables, a function telling
// whether a table exists. It lives under runners/ rather than core/
// because it is job planning (DESIGN: runners own "job planning: missing
// partitions, dependencies"), not computation shared with serving.
//
//	g, err := graph.Build(graph.Definitions{Joins: joins, GroupBys: gbs}, graph.Options{Exists: exists})
//	if err != nil {
//		return err // a cycle, an unknown table, a bad schedule: named
//	}
//	for _, n := range g.Nodes { // dependencies first
//		fmt.Println(n.ID, n.Deps, n.Due("2023-12-01"))
//	}
//
// # Steps
//
// A join gets a backfill step (front-fill of its missing partitions up to
// day D), a label-join step when it has a label part (on the label part's
// schedule), and when online a log-flatten step, a consistency step with
// consistencyCheck, and the retention of its _logged table. A group-by
// gets a groupby-backfill step when it has a backfillStartDate, and when
// online an upload step followed by the retention of its KV datasets. A
// staging query gets one step. Each team with online definitions gets a
// metadata-upload step, and the raw fetch log table a retention step.
//
// # Reads
//
// A step for day D reads the partitions D+From..D+To of each input table,
// by the rules runners/plan applies (a test checks they agree): a join's
// left partition D; an entity snapshot of D-1 for an events left, else D;
// an event table over the longest window, ending at D-1 for SNAPSHOT parts
// of an events left and at D otherwise; the latest partition of a
// cumulative table; the join's partitions D-(leftStartOffset-1) through
// D-(leftEndOffset-1) for labels (core/backfill.LeftDays); metaData.dependencies ("ns.table",
// "ns.table/ds={{ ds }}", {{ yesterday_ds }}, {{ macros.ds_add(ds, N) }} or
// Chronon's {"name", "spec"} objects) at the day they name; the tables a
// staging query's SQL reads after FROM or JOIN. Read.Need says which of
// them a scheduler waits for.
//
// # Schedules
//
// metaData.offlineSchedule decides on which days a step is due: @daily
// (the default), @never (never scheduled), @weekly, @monthly, @yearly or a
// 5-field cron expression, matched against the day's date.
package graph
