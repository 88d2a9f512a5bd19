// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/runners/plan"
)

func newAnalyzeCmd(a *app) *cobra.Command {
	var conf string
	var opts plan.Options
	cmd := &cobra.Command{
		Use:   "analyze --conf JOIN_OR_GROUPBY [--start-ds D] [--end-ds D]",
		Short: "Print a backfill's output schema, the partitions it would compute and the inputs it would read",
		Long: `Analyze plans a backfill without running it: the output schema (columns
and types), which output partitions are missing or stale (semantic hash), and
which input partitions it reads, with missing required inputs as errors and
gaps in event tables as warnings (errors with --strict-inputs).

--conf is a compiled file's path or a name such as quickstart.training_set.v1,
resolved under <repo>/production/.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			def, wh, err := a.loadConfAndWarehouse(conf, api.KindJoin, api.KindGroupBy)
			if err != nil {
				return err
			}
			defer wh.Close()
			opts.WindowTail = a.cfg.WindowTail
			p, err := planDefinition(cmd.Context(), def, wh, opts)
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), p.String())
			return p.Err()
		},
	}
	f := cmd.Flags()
	f.StringVar(&conf, "conf", "", "compiled join or group-by: a path or a name (required)")
	f.StringVar(&opts.Start, "start-ds", "", "first output partition (default: from the left or source table)")
	f.StringVar(&opts.End, "end-ds", "", "last output partition (default: from the left or source table)")
	f.BoolVar(&opts.Strict, "strict-inputs", false, "treat missing event partitions as errors, not warnings")
	_ = cmd.MarkFlagRequired("conf")
	return cmd
}

// loadConf resolves --conf (a path or a name) and parses the definition.
func (a *app) loadConf(conf string, kinds ...api.Kind) (any, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	data, kind, err := api.ResolveConf(os.DirFS(wd), os.DirFS(a.cfg.Repo), conf, kinds...)
	if err != nil {
		return nil, err
	}
	def, err := api.Parse(kind, data)
	if err != nil {
		return nil, fmt.Errorf("conf %s: %w", conf, err)
	}
	return def, nil
}

// loadConfAndWarehouse resolves --conf and opens the warehouse, what every
// command running a definition starts with.
func (a *app) loadConfAndWarehouse(conf string, kinds ...api.Kind) (any, warehouse.Warehouse, error) {
	def, err := a.loadConf(conf, kinds...)
	if err != nil {
		return nil, nil, err
	}
	wh, err := a.openWarehouse()
	if err != nil {
		return nil, nil, err
	}
	return def, wh, nil
}

// planDefinition plans a Join or GroupBy backfill against the warehouse.
func planDefinition(ctx context.Context, def any, wh warehouse.Warehouse, opts plan.Options) (*plan.Plan, error) {
	describe := func(table string) (*warehouse.TableInfo, error) { return wh.Describe(ctx, table) }
	switch d := def.(type) {
	case *api.Join:
		return plan.PlanJoin(d, describe, opts)
	case *api.GroupBy:
		return plan.PlanGroupBy(d, describe, opts)
	}
	return nil, fmt.Errorf("cannot plan a %T", def)
}
