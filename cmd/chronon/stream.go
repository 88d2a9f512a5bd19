// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/runners/stream"
	"github.com/chronon-go/chronon/transforms"
)

func newStreamCmd(a *app) *cobra.Command {
	var conf string
	cmd := &cobra.Command{
		Use:   "stream --conf GROUP_BY",
		Short: "Fold a group-by's Pub/Sub events into the KV store's streaming tiles, until stopped",
		Long: `Stream consumes the topic of a group-by's events source (the part of
Chronon's topic string before the first "/"; fields=a,b,c gives the CSV
column order) through the subscription chronon-<name>, and folds each event
into five-minute tiles of <NAME>_STREAMING that the fetcher merges with the
batch value. Messages are acknowledged once their tiles are written;
redelivered messages count once. A message that does not fit the source
table goes to <topic>-dead-letter with its reason. SIGINT or SIGTERM stop
it; a restart resumes from the subscription. The Pub/Sub project and
emulator come from chronon.yaml's pubsub (or $PUBSUB_EMULATOR_HOST).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			def, wh, err := a.loadConfAndWarehouse(conf, api.KindGroupBy)
			if err != nil {
				return err
			}
			defer wh.Close()
			g := def.(*api.GroupBy)
			var table string
			for _, s := range g.Sources {
				if s.Events != nil && s.Events.Topic != "" {
					table = s.Table()
					break
				}
			}
			if table == "" {
				return fmt.Errorf("%s: no events source with a topic to stream", g.MetaData.GetName())
			}
			schema, err := transforms.SchemaOf(ctx, wh)(table)
			if err != nil {
				return fmt.Errorf("%s: source table %s: %w", g.MetaData.GetName(), table, err)
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
				Client: client, Table: schema, WindowTail: a.cfg.WindowTail, Store: store, Log: a.log,
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
	cmd.Flags().StringVar(&conf, "conf", "", "group-by to stream (path or name)")
	_ = cmd.MarkFlagRequired("conf")
	return cmd
}
