// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/runners/backfill"
	"github.com/chronon-go/chronon/runners/progress"
)

func newUploadCmd(a *app) *cobra.Command {
	var b backfillFlags
	var ds string
	var tableOnly bool
	cmd := &cobra.Command{
		Use:   "upload --conf GROUP_BY --ds D",
		Short: "Upload a group-by's batch values for day D into its _upload table and the KV store",
		Long: `Upload computes, for day D, each key's batch value as a Beam pipeline
(TEMPORAL: IRs with the exact band of events that may leave a window while
the value is served; SNAPSHOT: finalized values), writes them to the
group-by's <output table>_upload partition D, and bulk-loads them into the
KV store's <NAME>_BATCH dataset (chronon.yaml's kv) with the serving info.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			def, wh, err := a.loadConfAndWarehouse(b.conf, api.KindGroupBy)
			if err != nil {
				return err
			}
			defer wh.Close()
			var store kv.Store
			if !tableOnly {
				if store, err = a.openKV(cmd.Context()); err != nil {
					return err
				}
				defer store.Close()
			}
			b.resolve(a.cfg)
			b.opts.Log = a.log
			bar := progress.NewReporter(cmd.ErrOrStderr(), a.log, 0, "upload")
			b.opts.Progress = bar.Report
			res, err := backfill.Upload(cmd.Context(), wh, def.(*api.GroupBy), ds, store, b.opts)
			bar.Close()
			if err != nil {
				return err
			}
			where := "table only"
			if res.Dataset != "" {
				where = "kv dataset " + res.Dataset
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: uploaded %d keys of %s to %s and %s (batch end %s)\n",
				def.(*api.GroupBy).MetaData.GetName(), res.Keys, ds, res.Table, where, time.UnixMilli(res.BatchEnd).UTC().Format(time.RFC3339))
			return nil
		},
	}
	b.register(cmd.Flags())
	cmd.Flags().StringVar(&ds, "ds", "", "the day to upload (required)")
	cmd.Flags().BoolVar(&tableOnly, "table-only", false, "write the _upload table without loading the KV store")
	_ = cmd.MarkFlagRequired("conf")
	_ = cmd.MarkFlagRequired("ds")
	return cmd
}
