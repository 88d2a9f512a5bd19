// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/runners/plan"
	"github.com/chronon-go/chronon/runners/stagingquery"
)

func newStagingQueryCmd(a *app) *cobra.Command {
	var conf string
	var opts stagingquery.Options
	cmd := &cobra.Command{
		Use:   "staging-query --conf production/staging_queries/TEAM/NAME [--start-ds D] [--end-ds D]",
		Short: "Run a staging query (SQL over the warehouse) into its output table, for the partitions it lacks",
		Long: `Staging-query runs a StagingQuery's SQL (DuckDB; every warehouse table is a
view ns.table with its ds column) and writes the result, partitioned by its ds
column, to the output table <outputNamespace>.<name>.

It computes the partitions from --start-ds (default: the query's
startPartition) to --end-ds (default: yesterday, UTC) that the table lacks,
or all of them when the query changed (semantic hash), in steps of at most
--step-days days, all in one transaction. In the query, {{ start_date }} and
{{ end_date }} are the step's first and last partition, {{ latest_date }} is
--end-ds, and {{ max_date(table=ns.t) }} the latest partition of ns.t.

--conf is a compiled file's path or a name such as quickstart.daily_users.v1,
resolved under <repo>/production/.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.EndDS == "" {
				opts.EndDS = batch.FormatDS(time.Now().AddDate(0, 0, -1))
			}
			def, err := a.loadConf(conf, api.KindStagingQuery)
			if err != nil {
				return err
			}
			sq, ok := def.(*api.StagingQuery)
			if !ok {
				return fmt.Errorf("conf %s is a %T, want a staging query", conf, def)
			}
			wh, err := a.openWarehouse()
			if err != nil {
				return err
			}
			defer wh.Close()
			res, err := stagingquery.Run(cmd.Context(), wh, sq, opts)
			if err != nil {
				return err
			}
			for _, w := range res.Warnings {
				a.log.Warn(w, "staging_query", res.Name)
			}
			printStagingResult(cmd.OutOrStdout(), res, opts.EndDS)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&conf, "conf", "", "compiled staging query: a path or a name (required)")
	f.StringVar(&opts.StartDS, "start-ds", "", "first partition to compute (default: the query's startPartition)")
	f.StringVar(&opts.EndDS, "end-ds", "", "last partition to compute, and {{ latest_date }} (default: yesterday, UTC)")
	f.IntVar(&opts.StepDays, "step-days", stagingquery.DefaultStepDays, "most partitions one run of the query computes")
	_ = cmd.MarkFlagRequired("conf")
	return cmd
}

// printStagingResult reports what a run computed, e.g. "computed 3
// partitions of default.team_daily_v1: 2023-11-01..2023-11-03 (42 rows, 1
// query)".
func printStagingResult(out io.Writer, res *stagingquery.Result, end string) {
	if len(res.Partitions) == 0 {
		fmt.Fprintf(out, "computed 0 partitions of %s: up to date through %s\n", res.Table, end)
		return
	}
	ds := make([]string, len(res.Partitions))
	for i, p := range res.Partitions {
		ds[i] = p.DS
	}
	parts, queries := "partitions", "queries"
	if len(ds) == 1 {
		parts = "partition"
	}
	if len(res.Steps) == 1 {
		queries = "query"
	}
	fmt.Fprintf(out, "computed %d %s of %s: %s (%d rows, %d %s)\n",
		len(ds), parts, res.Table, plan.FormatPartitions(ds, 5), res.Rows, len(res.Steps), queries)
}
