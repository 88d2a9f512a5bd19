// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"cloud.google.com/go/pubsub/v2"
	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/stream"
	"github.com/chronon-go/chronon/runners/pubsubdev"
)

// openPubSub connects to chronon.yaml's Pub/Sub (its emulator, else
// $PUBSUB_EMULATOR_HOST's, else real Pub/Sub).
func (a *app) openPubSub(ctx context.Context) (*pubsub.Client, error) {
	cfg := a.cfg.PubSub
	if env := os.Getenv(pubsubdev.EmulatorEnv); env != "" && cfg.Emulator != "" && env != cfg.Emulator {
		// Both set and different: say which one is used, since the usual
		// precedence (environment over file) does not hold here.
		a.log.Warn("chronon.yaml's pubsub.emulator wins over $"+pubsubdev.EmulatorEnv,
			"pubsub.emulator", cfg.Emulator, pubsubdev.EmulatorEnv, env)
	}
	c, err := pubsubdev.Connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if addr := pubsubdev.EmulatorAddr(cfg); addr != "" {
		a.log.Debug("pubsub through an emulator", "addr", addr, "project", c.Project())
	} else {
		a.log.Debug("pubsub", "project", c.Project())
	}
	return c, nil
}

func newDevCmd(a *app) *cobra.Command {
	dev := &cobra.Command{
		Use:   "dev",
		Short: "Local stand-ins for cloud services, for laptops and tests",
		Args:  cobra.NoArgs,
	}
	var addr string
	ps := &cobra.Command{
		Use:   "pubsub [--addr " + pubsubdev.DefaultAddr + "]",
		Short: "Run a local Pub/Sub emulator until interrupted",
		Long: `Pubsub runs Google's Pub/Sub fake (cloud.google.com/go/pubsub/v2/pstest)
in this process and prints the line that points clients at it:

  export PUBSUB_EMULATOR_HOST=127.0.0.1:8085

Run that in the shells of chronon publish and chronon stream (or set
pubsub.emulator in chronon.yaml, which wins over the variable). Any project
id works. The emulator keeps topics, subscriptions and every message in
memory: they are gone when it stops (SIGINT or SIGTERM), and a long session
grows; restart it to start afresh.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			e, err := pubsubdev.Serve(ctx, addr)
			if err != nil {
				return err
			}
			defer e.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "export %s=%s\n", pubsubdev.EmulatorEnv, e.Host())
			a.log.Info("pubsub emulator running; stop it with Ctrl-C", "addr", e.Addr)
			if y := a.cfg.PubSub.Emulator; y != "" && y != e.Host() {
				a.log.Warn("chronon.yaml's pubsub.emulator points elsewhere, and wins over $"+pubsubdev.EmulatorEnv,
					"pubsub.emulator", y)
			}
			<-e.Done()
			a.log.Info("pubsub emulator stopped")
			return nil
		},
	}
	ps.Flags().StringVar(&addr, "addr", pubsubdev.DefaultAddr, "address to listen on (host:port; port 0 picks a free one)")
	dev.AddCommand(ps)
	return dev
}

func newPublishCmd(a *app) *cobra.Command {
	var topicFlag, file, format string
	cmd := &cobra.Command{
		Use:   "publish --topic T --file F [--format csv|jsonl]",
		Short: "Publish a CSV or JSONL file to a Pub/Sub topic, one message per line",
		Long: `Publish sends each line of a file as one message to a Pub/Sub topic, creating
the topic if it does not exist, and waits until Pub/Sub has accepted them all.

--topic is a GroupBy source's topic string or a bare topic id:

  chronon publish --file returns.csv \
    --topic 'events.returns/fields=ts,return_id,user_id,product_id,refund_amt'

The topic id is the part before the first "/". With fields=, a CSV file
whose first line names every field is taken to have a header: the header is
not published, and when it orders the columns differently or has more of
them (such as the ds column of the quickstart's table files) every line is
reordered to the fields. Without such a header each line is sent as it is.
JSONL lines must be JSON objects. --format defaults to the file's extension
(.csv; .jsonl, .ndjson or .json); --file - reads standard input.

The connection is chronon.yaml's pubsub: its emulator, else
$PUBSUB_EMULATOR_HOST, else real Pub/Sub in pubsub.project with Application
Default Credentials.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			topic, err := stream.ParseTopic(topicFlag)
			if err != nil {
				return fmt.Errorf("--topic: %w", err)
			}
			switch format {
			case "", pubsubdev.FormatCSV, pubsubdev.FormatJSONL:
			default:
				return fmt.Errorf("--format %q: want %s or %s", format, pubsubdev.FormatCSV, pubsubdev.FormatJSONL)
			}
			if format == "" {
				if file == "-" {
					return fmt.Errorf("--format is needed with --file - (csv or jsonl)")
				}
				if format, err = pubsubdev.FormatOf(file); err != nil {
					return fmt.Errorf("--file %w", err)
				}
			}
			var r io.Reader = cmd.InOrStdin()
			if file != "-" {
				f, err := os.Open(file)
				if err != nil {
					return fmt.Errorf("--file: %w", err)
				}
				defer f.Close()
				r = f
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			c, err := a.openPubSub(ctx)
			if err != nil {
				return err
			}
			defer c.Close()
			n, err := pubsubdev.Publish(ctx, c, topic.ID, r, pubsubdev.PublishOptions{Format: format, Fields: topic.Fields})
			if err != nil {
				return fmt.Errorf("publish %s: %w (%d messages were published before)", file, err, n)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "published %d messages from %s to %s\n", n, file, pubsubdev.TopicName(c, topic.ID))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&topicFlag, "topic", "", "topic: Chronon's topic string (id/fields=a,b,c/...) or a bare Pub/Sub topic id (required)")
	f.StringVar(&file, "file", "", "CSV or JSONL file, one message per line; - for standard input (required)")
	f.StringVar(&format, "format", "", "csv or jsonl (default: from the file's extension)")
	_ = cmd.MarkFlagRequired("topic")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}
