// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/config"
	"github.com/chronon-go/chronon/runners/backfill"
	"github.com/chronon-go/chronon/runners/beamrun"
	"github.com/chronon-go/chronon/runners/progress"
)

// backfillFlags are the flags of the backfill commands.
type backfillFlags struct {
	conf   string
	opts   backfill.Options
	runner beamrun.Options
}

func (b *backfillFlags) register(f *pflag.FlagSet) {
	f.StringVar(&b.conf, "conf", "", "compiled definition: a path or a name (required)")
	f.StringVar(&b.opts.Start, "start-ds", "", "first output partition (default: from the left or source table)")
	f.StringVar(&b.opts.End, "end-ds", "", "last output partition (default: from the left or source table)")
	f.BoolVar(&b.opts.Strict, "strict-inputs", false, "treat missing event partitions as errors, not warnings")
	f.IntVar(&b.opts.Shards, "shards", 0, "key shards (default 16; more spreads the work over more workers)")
	f.StringVar(&b.runner.Runner, "runner", "", "Beam runner: direct, prism, dataflow or flink (default: chronon.yaml's runner.name)")
	f.StringVar(&b.runner.Endpoint, "endpoint", "", "job server endpoint host:port (flink; an external prism)")
	f.StringVar(&b.runner.Project, "project", "", "Google Cloud project (dataflow)")
	f.StringVar(&b.runner.Region, "region", "", "Google Cloud region (dataflow)")
	f.StringVar(&b.runner.StagingLocation, "staging-location", "", "gs:// staging location (dataflow)")
	f.StringVar(&b.runner.TempLocation, "temp-location", "", "gs:// temp location (dataflow)")
	f.BoolVar(&b.runner.DryRun, "dry-run", false, "print the Dataflow job without submitting it")
	f.StringVar(&b.runner.EnvironmentType, "environment-type", "", "how a portable runner starts workers: LOOPBACK, PROCESS, DOCKER, EXTERNAL")
	f.StringVar(&b.runner.EnvironmentConfig, "environment-config", "", "the environment's configuration (e.g. a worker endpoint for EXTERNAL)")
	f.StringVar(&b.runner.WorkerBinary, "worker-binary", "", "worker binary for portable runners (default: Beam builds one)")
}

// resolve fills the options from chronon.yaml where flags left them empty.
func (b *backfillFlags) resolve(cfg *config.Config) {
	r := cfg.Runner
	pick := func(flag *string, conf string) {
		if *flag == "" {
			*flag = conf
		}
	}
	pick(&b.runner.Runner, r.Name)
	pick(&b.runner.Endpoint, r.Endpoint)
	pick(&b.runner.Project, r.Project)
	pick(&b.runner.Region, r.Region)
	pick(&b.runner.StagingLocation, r.StagingLocation)
	pick(&b.runner.TempLocation, r.TempLocation)
	b.opts.Root = cfg.Warehouse.Root
	b.opts.WindowTail = cfg.WindowTail
	b.opts.Runner = b.runner
}

func newBackfillCmd(a *app) *cobra.Command {
	return backfillCommand(a, "backfill", api.KindJoin,
		"Backfill a join's training data: point-in-time correct features for every left row",
		`Backfill computes the join's missing output partitions in [--start-ds,
--end-ds] (all partitions when the definition's semantic hash changed) as a
Beam pipeline and commits them atomically. A second run computes nothing.`)
}

func newGroupByBackfillCmd(a *app) *cobra.Command {
	return backfillCommand(a, "groupby-backfill", api.KindGroupBy,
		"Backfill a group-by's daily snapshots (one row per key and day)",
		`GroupBy-backfill computes the group-by's missing daily snapshot partitions:
each key's aggregates as of the end of each day.`)
}

func backfillCommand(a *app, use string, kind api.Kind, short, long string) *cobra.Command {
	var b backfillFlags
	cmd := &cobra.Command{
		Use:   use + " --conf NAME [--start-ds D] [--end-ds D] [--runner R]",
		Short: short,
		Long:  long + "\n\n--conf is a compiled file's path or a name such as quickstart.training_set.v1,\nresolved under <repo>/production/.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			def, wh, err := a.loadConfAndWarehouse(b.conf, kind)
			if err != nil {
				return err
			}
			defer wh.Close()
			b.resolve(a.cfg)
			b.opts.Log = a.log
			bar := progress.NewReporter(cmd.ErrOrStderr(), a.log, 0, "backfill")
			b.opts.Progress = bar.Report
			var res *backfill.Result
			switch d := def.(type) {
			case *api.Join:
				res, err = backfill.Join(cmd.Context(), wh, d, b.opts)
			case *api.GroupBy:
				res, err = backfill.GroupBy(cmd.Context(), wh, d, b.opts)
			}
			bar.Close()
			if err != nil {
				return err
			}
			if b.runner.DryRun {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: dry run: %d partitions of %s would be computed\n", res.Plan.Name, len(res.Plan.Compute), res.Table)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: computed %d partitions of %s (%d rows) in %s\n",
				res.Plan.Name, len(res.Computed), res.Table, res.Rows, res.Elapsed.Round(1e6))
			return nil
		},
	}
	b.register(cmd.Flags())
	_ = cmd.MarkFlagRequired("conf")
	return cmd
}
