// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/runners/labeljoin"
)

func newLabelJoinCmd(a *app) *cobra.Command {
	var b backfillFlags
	cmd := &cobra.Command{
		Use:   "label-join --conf NAME --start-ds D --end-ds D [--runner R]",
		Short: "Attach a join's labels (label versions label_ds D) and materialize the labeled training set",
		Long: `Label-join computes, for every label_ds in [--start-ds, --end-ds], the labels of
the join's labelPart for the left partitions label_ds-(leftStartOffset-1) ..
label_ds-(leftEndOffset-1) into <join output table>_labels (one version per
label_ds, replaced atomically; an up-to-date version is skipped), then rewrites
the partitions it touched of <join>_labeled (features with every label version)
and <join>_labeled_latest (the latest version per ds).

--conf is a compiled join's path or a name such as team.model.v1, resolved
under <repo>/production/.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			def, wh, err := a.loadConfAndWarehouse(b.conf, api.KindJoin)
			if err != nil {
				return err
			}
			defer wh.Close()
			j, ok := def.(*api.Join)
			if !ok || j.LabelPart == nil {
				return fmt.Errorf("%s: the definition has no labelPart", b.conf)
			}
			b.resolve(a.cfg)
			b.opts.Log = a.log
			res, err := labeljoin.Run(cmd.Context(), wh, j, b.opts)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, v := range res.Versions {
				state := "up to date"
				switch {
				case len(v.Days) == 0:
					state = "no left partitions"
				case v.Computed:
					state = fmt.Sprintf("computed %d rows", v.Rows)
				case b.runner.DryRun:
					state = "dry run"
				}
				fmt.Fprintf(out, "%s: label_ds %s (left %s..%s): %s\n", j.MetaData.GetName(), v.LabelDS, v.LeftStart, v.LeftEnd, state)
			}
			fmt.Fprintf(out, "%s: %s; %s and %s: %d partitions rewritten in %s\n", j.MetaData.GetName(), res.Table,
				res.Labeled, res.LabeledLatest, len(res.Refreshed), res.Elapsed.Round(1e6))
			return nil
		},
	}
	b.register(cmd.Flags())
	cmd.Flags().Lookup("start-ds").Usage = "first label version (label_ds) to compute (required)"
	cmd.Flags().Lookup("end-ds").Usage = "last label version (label_ds) to compute (required)"
	cmd.Flags().Lookup("strict-inputs").Usage = "treat missing partitions of label event tables as errors, not warnings"
	for _, f := range []string{"conf", "start-ds", "end-ds"} {
		_ = cmd.MarkFlagRequired(f)
	}
	return cmd
}
