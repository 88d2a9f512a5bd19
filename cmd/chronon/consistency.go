// SPDX-License-Identifier: Apache-2.0

package main

import (
	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/runners/consistency"
)

func newConsistencyCmd(a *app) *cobra.Command {
	// The backfill flags (conf, runner), less the range: one day is
	// compared.
	var b backfillFlags
	var ds, format string
	cmd := &cobra.Command{
		Use:   "consistency --conf JOIN --ds D [--format table|csv|json] [--runner R]",
		Short: "Compare a day of the join's logged online values with the offline recomputation",
		Long: `Consistency recomputes offline the requests the join served on day --ds (its
_logged table, written by chronon log-flatten), at their logged timestamps,
into <join output table>_comparison, and compares each feature's offline
and online values: rows compared, both null, missing (online null, offline
present), extra (online present, offline null), mismatch (both present and
different; floats within a relative 1e-9), the rates, and SMAPE for
numbers. The metrics replace partition --ds of <join output table>_consistency
and are printed.

Inconsistencies are a report, not a failure: the exit status is 0 unless
the run itself fails (e.g. the day was not flattened yet).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			def, wh, err := a.loadConfAndWarehouse(b.conf, api.KindJoin)
			if err != nil {
				return err
			}
			defer wh.Close()
			b.resolve(a.cfg)
			res, err := consistency.Run(cmd.Context(), wh, def.(*api.Join), ds, consistency.Options{
				Root: b.opts.Root, WindowTail: b.opts.WindowTail, Runner: b.runner, Shards: b.opts.Shards, Log: a.log,
			})
			if err != nil || b.runner.DryRun {
				return err
			}
			return res.WriteSummary(cmd.OutOrStdout(), format)
		},
	}
	b.register(cmd.Flags())
	cmd.Flags().StringVar(&ds, "ds", "", "the day of logs to compare, YYYY-MM-DD (required)")
	cmd.Flags().StringVar(&format, "format", batch.FormatTable, "table, csv or json")
	for _, name := range []string{"start-ds", "end-ds", "strict-inputs"} {
		_ = cmd.Flags().MarkHidden(name)
	}
	_ = cmd.MarkFlagRequired("conf")
	_ = cmd.MarkFlagRequired("ds")
	return cmd
}
