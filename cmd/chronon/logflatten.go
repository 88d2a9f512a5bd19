// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/runners/logflatten"
)

func newLogFlattenCmd(a *app) *cobra.Command {
	// The backfill flags, less those that do not apply here.
	var b backfillFlags
	cmd := &cobra.Command{
		Use:   "log-flatten --conf JOIN [--start-ds D] [--end-ds D] [--runner R]",
		Short: "Flatten a join's fetch logs into <join output table>_logged",
		Long: `Log-flatten decodes the fetch logs chronon serve wrote for the join (to
chronon_log_table in chronon.yaml's logging.namespace) into the join's
_logged table: schema_hash, ts, one column per key and feature of every
schema version the join was served with, extra_values, partitioned by ds.

Only log partitions the output lacks are computed (a second run computes
nothing); --end-ds defaults to yesterday (UTC), since today's logs are still
arriving. Records that cannot be decoded are skipped and counted: the
command prints them, and the output table keeps the count per day in its
log_flatten_malformed_<ds> property.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			def, wh, err := a.loadConfAndWarehouse(b.conf, api.KindJoin)
			if err != nil {
				return err
			}
			defer wh.Close()
			b.resolve(a.cfg)
			res, err := logflatten.Run(cmd.Context(), wh, def.(*api.Join), logflatten.Options{
				Root: a.cfg.Warehouse.Root, Namespace: a.cfg.Logging.Namespace,
				Start: b.opts.Start, End: b.opts.End, Runner: b.runner, Log: a.log,
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "%s: flattened %d partitions of %s into %s (%d rows, %d schema versions)\n",
				def.(*api.Join).MetaData.GetName(), len(res.Computed), res.LogTable, res.Table, res.Rows, res.Schemas)
			if res.Malformed > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "warning: %d malformed log records skipped:\n", res.Malformed)
				for _, p := range res.Problems {
					fmt.Fprintf(cmd.ErrOrStderr(), "  %s\n", p)
				}
			}
			return nil
		},
	}
	b.register(cmd.Flags())
	for _, name := range []string{"shards", "strict-inputs"} {
		_ = cmd.Flags().MarkHidden(name)
	}
	_ = cmd.MarkFlagRequired("conf")
	return cmd
}
