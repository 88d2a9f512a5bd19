// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/runners/orchestrate"
	"github.com/chronon-go/chronon/runners/orchestrate/graph"
)

func newRunCmd(a *app) *cobra.Command {
	var (
		ds, repo               string
		confs, only            []string
		parallelism            int
		waitTimeout, pollEvery time.Duration
		noWait                 bool
		b                      backfillFlags
	)
	cmd := &cobra.Command{
		Use:   "run --ds D [--repo DIR] [--conf NAME]... [--step ID]...",
		Short: "Bring everything due on day D up to date: backfills, uploads, staging queries, retention",
		Long: `Run builds the dependency graph of the compiled definitions (see chronon
graph) and runs every step due on day D (offlineSchedule), each after the
steps it depends on and once the partitions it reads from outside the graph
have landed: staging queries, join and group-by front-fills of the missing
partitions up to D, uploads of online group-bys and their metadata, label
joins, log flattening, consistency checks (reported as skipped while that
command is not in this build), and retention (old KV batch
versions, streaming values the latest batch covers, log partitions past
their TTL).

It is idempotent: a step already up to date does nothing, so a second run
does nothing and a run after a crash finishes the rest. Independent steps
run concurrently (--parallelism); a failed step fails only its dependants.
A summary table ends the run; it exits non-zero when a step failed or
waited in vain. --conf limits the run to the named definitions and what
they depend on; --step runs single steps (what the Airflow DAGs of chronon
dags do).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !batch.ValidDS(ds) {
				return fmt.Errorf("--ds %q: want YYYY-MM-DD", ds)
			}
			o := a.cfg.Orchestration
			if !cmd.Flags().Changed("parallelism") {
				parallelism = o.Parallelism
			}
			var err error
			if !cmd.Flags().Changed("wait-timeout") {
				if waitTimeout, err = time.ParseDuration(o.WaitTimeout); err != nil {
					return fmt.Errorf("orchestration.wait_timeout: %w", err)
				}
			}
			if !cmd.Flags().Changed("poll-interval") {
				if pollEvery, err = time.ParseDuration(o.PollInterval); err != nil {
					return fmt.Errorf("orchestration.poll_interval: %w", err)
				}
			}
			wh, err := a.openWarehouse()
			if err != nil {
				return err
			}
			defer wh.Close()
			g, err := a.buildGraph(cmd.Context(), repo, wh)
			if err != nil {
				return err
			}
			if len(confs) > 0 {
				sel, err := selectDefinitions(g, confs)
				if err != nil {
					return err
				}
				only = append(only, sel...)
			}
			store, err := a.openKV(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			b.resolve(a.cfg)
			b.opts.Log = a.log
			env := &orchestrate.Env{DS: ds, Warehouse: wh, KV: store, Backfill: b.opts, LogNamespace: a.cfg.Logging.Namespace, Retention: orchestrate.Retention{
				BatchVersions: o.Retention.BatchVersions, StreamingSlackDays: o.Retention.StreamingSlackDays, LogTTLDays: o.Retention.LogTTLDays,
			}}
			rep, err := orchestrate.Execute(cmd.Context(), g, env.Step, orchestrate.Options{
				DS: ds, Parallelism: parallelism, WaitTimeout: waitTimeout, PollInterval: pollEvery, NoWait: noWait,
				Only: only, Exists: partitionExists(wh), Log: a.log,
			})
			if rep != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "chronon run --ds %s: %d steps\n", ds, len(rep.Steps))
				if werr := rep.WriteTable(cmd.OutOrStdout()); werr != nil {
					return werr
				}
			}
			if err != nil {
				return err
			}
			return rep.Err()
		},
	}
	f := cmd.Flags()
	f.StringVar(&ds, "ds", "", "the day to bring up to date, YYYY-MM-DD (required)")
	f.StringVar(&repo, "repo", "", "definitions repository holding production/ (default: chronon.yaml's repo, else the working directory)")
	f.StringArrayVar(&confs, "conf", nil, "run only this definition (a name such as quickstart.training_set.v1) and what it depends on (repeatable)")
	f.StringArrayVar(&only, "step", nil, "run only this step (an ID from chronon graph; its dependencies are taken as done) (repeatable)")
	f.IntVar(&parallelism, "parallelism", 4, "steps run at once (default: chronon.yaml's orchestration.parallelism)")
	f.DurationVar(&waitTimeout, "wait-timeout", time.Hour, "how long to wait for missing input partitions (default: orchestration.wait_timeout)")
	f.DurationVar(&pollEvery, "poll-interval", 30*time.Second, "how often to check missing inputs again (default: orchestration.poll_interval)")
	f.BoolVar(&noWait, "no-wait", false, "report missing input partitions at once instead of waiting")
	f.StringVar(&b.runner.Runner, "runner", "", "Beam runner for backfills and uploads (default: chronon.yaml's runner.name)")
	_ = cmd.MarkFlagRequired("ds")
	return cmd
}

// partitionExists checks a partition in the warehouse.
func partitionExists(wh warehouse.Warehouse) orchestrate.PartitionFunc {
	return func(ctx context.Context, table, ds string) (bool, error) {
		info, err := wh.Describe(ctx, table)
		if errors.Is(err, warehouse.ErrTableNotFound) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return slices.ContainsFunc(info.Partitions, func(p warehouse.Partition) bool { return p.DS == ds }), nil
	}
}

// buildGraph reads every compiled definition under <repo>/production/
// and builds the graph, checking the tables it reads against wh (nil: no
// check).
func (a *app) buildGraph(ctx context.Context, repo string, wh warehouse.Warehouse) (*graph.Graph, error) {
	if repo == "" {
		repo = a.cfg.Repo
	}
	defs, err := readDefinitions(repo)
	if err != nil {
		return nil, err
	}
	opts := graph.Options{LogTable: a.cfg.Logging.Namespace + "." + api.LogTable}
	if wh != nil {
		tables, err := wh.Tables(ctx)
		if err != nil {
			return nil, fmt.Errorf("list warehouse tables: %w", err)
		}
		opts.Exists = func(t string) bool { return slices.Contains(tables, t) }
	}
	return graph.Build(defs, opts)
}

// readDefinitions reads the compiled joins, group-bys and staging queries
// under repo/production/.
func readDefinitions(repo string) (graph.Definitions, error) {
	var defs graph.Definitions
	fsys := os.DirFS(repo)
	n := 0
	for _, kind := range api.Kinds {
		err := fs.WalkDir(fsys, path.Join("production", string(kind)), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(fsys, p)
			if err != nil {
				return err
			}
			def, err := api.Parse(kind, data)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			n++
			switch d := def.(type) {
			case *api.Join:
				defs.Joins = append(defs.Joins, d)
			case *api.GroupBy:
				defs.GroupBys = append(defs.GroupBys, d)
			case *api.StagingQuery:
				defs.StagingQueries = append(defs.StagingQueries, d)
			}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return defs, fmt.Errorf("read compiled definitions: %w", err)
		}
	}
	if n == 0 {
		return defs, fmt.Errorf("no compiled definitions under %s (run chronon compile)", path.Join(repo, "production"))
	}
	return defs, nil
}

// selectDefinitions returns the steps of the named definitions and every
// step they depend on, transitively.
func selectDefinitions(g *graph.Graph, names []string) ([]string, error) {
	want := map[string]bool{}
	for _, n := range g.Nodes {
		if slices.Contains(names, n.Name) {
			want[n.ID] = true
		}
	}
	for _, name := range names {
		if !slices.ContainsFunc(g.Nodes, func(n *graph.Node) bool { return n.Name == name }) {
			return nil, fmt.Errorf("--conf %s: no definition of that name has steps (see chronon graph)", name)
		}
	}
	// Nodes are in dependency order: walking backwards reaches every
	// ancestor after its dependants.
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		if n := g.Nodes[i]; want[n.ID] {
			for _, d := range n.Deps {
				want[d] = true
			}
		}
	}
	var out []string
	for _, n := range g.Nodes {
		if want[n.ID] {
			out = append(out, n.ID)
		}
	}
	return out, nil
}
