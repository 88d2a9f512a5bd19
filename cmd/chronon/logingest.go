// SPDX-License-Identifier: Apache-2.0

package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/runners/logingest"
	"github.com/chronon-go/chronon/runners/pubsubbatch"
)

func newLogIngestCmd(a *app) *cobra.Command {
	var o logingest.Options
	cmd := &cobra.Command{
		Use:   "log-ingest [--max-batch N] [--flush-every D]",
		Short: "Land the fetch logs published to Pub/Sub in chronon_log_table, until stopped",
		Long: `Log-ingest reads the fetch logs chronon serve publishes with logging.sink:
pubsub (chronon.yaml's logging.topic) through the subscription
chronon-log-ingest, created when missing, and appends them to
chronon_log_table in logging.namespace, where chronon log-flatten reads
them: one transaction per batch (--max-batch messages, or what arrived
within --flush-every), one part file per ds partition. Messages are
acknowledged once their batch is committed, and a redelivered message is
not written twice. A message that is not a log record goes to
<topic>-dead-letter with its reason. SIGINT or SIGTERM stop it after it
wrote the batch it holds; a restart resumes from the subscription.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			wh, err := a.openWarehouse()
			if err != nil {
				return err
			}
			defer wh.Close()
			client, err := a.openPubSub(ctx)
			if err != nil {
				return err
			}
			defer client.Close()
			o.Client, o.Warehouse, o.Log = client, wh, a.log
			o.Namespace, o.Topic = a.cfg.Logging.Namespace, a.cfg.Logging.Topic
			return logingest.Run(ctx, o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.MaxBatch, "max-batch", logingest.DefaultMaxBatch, "messages per write at most")
	f.DurationVar(&o.FlushEvery, "flush-every", logingest.DefaultFlushEvery, "longest a message waits for its batch to fill")
	f.IntVar(&o.PullStreams, "pull-streams", pubsubbatch.DefaultPullStreams, "streaming pulls receiving messages; the local emulator needs dozens for thousands of messages/s")
	return cmd
}
