// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/config"
	cstream "github.com/chronon-go/chronon/core/stream"
	"github.com/chronon-go/chronon/runners/beamrun"
	"github.com/chronon-go/chronon/runners/pubsubdev"
	"github.com/chronon-go/chronon/runners/stream"
	"github.com/chronon-go/chronon/transforms"
)

func newStreamCmd(a *app) *cobra.Command {
	var (
		conf        string
		pullStreams int
	)
	var runner beamrun.Options
	cmd := &cobra.Command{
		Use:   "stream --conf GROUP_BY [--runner dataflow [--dry-run]]",
		Short: "Fold a group-by's Pub/Sub events into the KV store's streaming tiles, until stopped",
		Long: `Stream consumes the topic of a group-by's events source (the part of
Chronon's topic string before the first "/"; fields=a,b,c gives the CSV
column order) through the subscription chronon-<name>, and folds each event
into five-minute tiles of <NAME>_STREAMING that the fetcher merges with the
batch value. Messages are acknowledged once their tiles are written;
redelivered messages count once. A message that does not fit the source
table goes to <topic>-dead-letter with its reason. SIGINT or SIGTERM stop
it; a restart resumes from the subscription. The Pub/Sub project and
emulator come from chronon.yaml's pubsub (or $PUBSUB_EMULATOR_HOST).

Without --runner (or with --runner direct) this process is the consumer.
--runner dataflow submits the same fold as a Beam streaming pipeline to
Dataflow (Beam's pubsubio, which no other runner supports) and waits while
the job runs; stopping the command leaves the job running (drain it in
Dataflow). Its workers write tiles to Bigtable (kv.store: bigtable), read
Pub/Sub in chronon.yaml's pubsub.project (--project when that is the
laptop default "local"), and count malformed messages in the Beam counter
chronon.stream/malformed. --project, --region, --staging-location and
--temp-location default to chronon.yaml's runner section; chronon.yaml's
runner.name is not used here. --dry-run logs the Dataflow job (INFO)
without creating or submitting anything.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch runner.Runner {
			case "", beamrun.Direct:
				if runner.DryRun {
					return fmt.Errorf("--dry-run needs --runner dataflow")
				}
			case beamrun.Dataflow:
			default:
				return fmt.Errorf("runner %q: streaming reads Pub/Sub with Beam's pubsubio, which only Dataflow runs (use --runner dataflow, or no --runner for the in-process consumer)", runner.Runner)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			def, wh, err := a.loadConfAndWarehouse(conf, api.KindGroupBy)
			if err != nil {
				return err
			}
			defer wh.Close()
			g := def.(*api.GroupBy)
			i := backfill.StreamingSource(g)
			if i < 0 {
				return fmt.Errorf("%s: no events source with a topic nor entities source with a mutationTopic to stream", g.MetaData.GetName())
			}
			// The topic carries rows of the events table, or of the
			// entity source's mutation table.
			table := backfill.StreamedTable(g.Sources[i])
			schema, err := transforms.SchemaOf(ctx, wh)(table)
			if err != nil {
				return fmt.Errorf("%s: source table %s: %w", g.MetaData.GetName(), table, err)
			}
			if runner.Runner == beamrun.Dataflow {
				return streamOnDataflow(ctx, cmd, a, g, schema, runner)
			}
			store, err := a.openKV(ctx)
			if err != nil {
				return err
			}
			defer store.Close()
			client, err := a.openPubSub(ctx)
			if err != nil {
				return err
			}
			defer client.Close()
			var mu sync.Mutex
			var total stream.Stats
			last := time.Now()
			return stream.Run(ctx, g, stream.Options{
				Client: client, Table: schema, WindowTail: a.cfg.WindowTail, Store: store, Log: a.log, PullStreams: pullStreams,
				OnBatch: func(s stream.Stats) {
					mu.Lock()
					defer mu.Unlock()
					total.Events += s.Events
					total.Duplicates += s.Duplicates
					total.Filtered += s.Filtered
					total.Malformed += s.Malformed
					if time.Since(last) >= 10*time.Second {
						last = time.Now()
						a.log.Info("streamed", "group_by", g.MetaData.GetName(), "events", total.Events,
							"duplicates", total.Duplicates, "filtered", total.Filtered, "malformed", total.Malformed)
					}
				},
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&conf, "conf", "", "group-by to stream (path or name)")
	f.IntVar(&pullStreams, "pull-streams", 4, "streaming pulls receiving messages (direct runner); the local emulator needs dozens for thousands of events/s")
	f.StringVar(&runner.Runner, "runner", "", "direct (this process consumes; the default) or dataflow (a Beam streaming job)")
	f.StringVar(&runner.Project, "project", "", "Google Cloud project (dataflow; default: chronon.yaml's runner.project)")
	f.StringVar(&runner.Region, "region", "", "Google Cloud region (dataflow; default: chronon.yaml's runner.region)")
	f.StringVar(&runner.StagingLocation, "staging-location", "", "gs:// staging location (dataflow)")
	f.StringVar(&runner.TempLocation, "temp-location", "", "gs:// temp location (dataflow)")
	f.StringVar(&runner.JobName, "job-name", "", "Dataflow job name (default: chronon-stream-<name>)")
	f.StringVar(&runner.WorkerBinary, "worker-binary", "", "worker binary for Dataflow (default: Beam builds one)")
	f.BoolVar(&runner.DryRun, "dry-run", false, "log the Dataflow job without creating or submitting anything")
	_ = cmd.MarkFlagRequired("conf")
	return cmd
}

// streamOnDataflow submits g's streaming pipeline to Dataflow (or, with
// --dry-run, logs its job).
func streamOnDataflow(ctx context.Context, cmd *cobra.Command, a *app, g *api.GroupBy, schema *arrow.Schema, runner beamrun.Options) error {
	r := a.cfg.Runner
	for _, p := range []struct {
		flag *string
		conf string
	}{
		{&runner.Project, r.Project}, {&runner.Region, r.Region},
		{&runner.StagingLocation, r.StagingLocation}, {&runner.TempLocation, r.TempLocation},
	} {
		if *p.flag == "" {
			*p.flag = p.conf
		}
	}
	project := a.cfg.PubSub.Project
	if project == "" || project == "local" {
		// The laptop default names no Google Cloud project.
		project = runner.Project
	}
	o := stream.DataflowOptions{Table: schema, WindowTail: a.cfg.WindowTail, KV: a.cfg.KV,
		PubSubProject: project, Runner: runner, Log: a.log,
		Connect: func(ctx context.Context) (*pubsub.Client, error) {
			return pubsubdev.Connect(ctx, config.PubSub{Project: project})
		}}
	if err := stream.RunDataflow(ctx, g, o); err != nil {
		return err
	}
	name := g.MetaData.GetName()
	if runner.DryRun {
		fmt.Fprintf(cmd.OutOrStdout(), "%s: dry run: Dataflow streaming job reading projects/%s/subscriptions/%s into %s would be submitted\n",
			name, project, cstream.SubscriptionName(name), g.MetaData.StreamingDataset())
	}
	return nil
}
