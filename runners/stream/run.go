// SPDX-License-Identifier: Apache-2.0

package stream

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	core "github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/batch"
	cstream "github.com/chronon-go/chronon/core/stream"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/runners/pubsubbatch"
	"github.com/chronon-go/chronon/runners/pubsubdev"
)

// Options configure Run.
type Options struct {
	Client *pubsub.Client
	// Table is the data schema of the streaming source's table: messages
	// carry its columns.
	Table      *arrow.Schema
	WindowTail string
	Store      kv.Store
	Log        *slog.Logger
	// MaxBatch bounds the messages folded per store write (default 500);
	// FlushEvery bounds how long a message waits for its batch to fill
	// (default 20ms): the freshness of streamed features.
	MaxBatch   int
	FlushEvery time.Duration
	// OnBatch, when set, is called after each batch (progress, tests).
	OnBatch func(Stats)
	// PullStreams is how many streaming pulls receive messages (default
	// 4). Pub/Sub's emulator (pstest) hands each stream about one message
	// per 10ms, so a local run at thousands of events per second needs
	// dozens; Pub/Sub itself delivers batches per stream.
	PullStreams int
}

// Run consumes g's streaming topic until ctx is done: it creates the
// subscription (chronon-<name>) and the dead-letter topic (<topic>-dead-letter)
// when missing, folds every message into g's _STREAMING tiles and
// acknowledges it once the tiles are written. A message that does not fit
// the source table goes to the dead-letter topic with its reason (attribute
// "reason") and is acknowledged; a failed write leaves the batch
// unacknowledged, so Pub/Sub delivers it again.
func Run(ctx context.Context, g *api.GroupBy, o Options) error {
	name := g.MetaData.GetName()
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	var topicStr string
	if i := core.StreamingSource(g); i >= 0 {
		topicStr = g.Sources[i].Topic()
	}
	topic, err := cstream.ParseTopic(topicStr)
	if err != nil {
		return fmt.Errorf("%s: topic %q: %w", name, topicStr, err)
	}
	dec, err := cstream.NewDecoder(topic, o.Table)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	proc, err := NewProcessor(ctx, g, o.Table, o.WindowTail, o.Store)
	if err != nil {
		return err
	}
	subID := cstream.SubscriptionName(name)
	deadID := cstream.DeadLetterTopic(topic.ID)
	for _, id := range []string{topic.ID, deadID} {
		if err := pubsubdev.EnsureTopic(ctx, o.Client, id); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := ensureSubscription(ctx, o.Client, subID, topic.ID); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	dead := o.Client.Publisher(deadID)
	defer dead.Stop()
	o.Log.Info("streaming", "group_by", name, "topic", topic.ID, "subscription", subID, "dataset", g.MetaData.StreamingDataset())
	err = pubsubbatch.Receive(ctx, o.Client, subID, pubsubbatch.Options{
		MaxBatch: o.MaxBatch, FlushEvery: o.FlushEvery, PullStreams: o.PullStreams, Log: o.Log,
	}, func(ctx context.Context, batch []*pubsub.Message) []bool {
		return processBatch(ctx, batch, dec, proc, dead, o)
	})
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// processBatch decodes and folds a batch, dead-letters what does not fit,
// and returns whether to acknowledge each message.
func processBatch(ctx context.Context, batch []*pubsub.Message, dec *cstream.Decoder, proc *Processor, dead *pubsub.Publisher, o Options) []bool {
	msgs := make([]Message, 0, len(batch))
	reasons := map[string]error{}
	for _, m := range batch {
		row, err := dec.Decode(m.Data)
		if err != nil {
			reasons[m.ID] = err
			continue
		}
		msgs = append(msgs, Message{ID: m.ID, Row: row, DS: publishDS(m)})
	}
	stats, err := proc.Process(ctx, msgs)
	if err != nil {
		o.Log.Error("streaming batch failed; it will be delivered again", "messages", len(batch), "err", err)
		return make([]bool, len(batch))
	}
	for id, e := range stats.Errors {
		reasons[id] = e
	}
	stats.Malformed = len(reasons)
	failed := pubsubbatch.DeadLetter(ctx, dead, batch, reasons, o.Log)
	acks := make([]bool, len(batch))
	for i, m := range batch {
		acks[i] = !failed[m.ID]
	}
	if o.OnBatch != nil {
		o.OnBatch(stats)
	}
	return acks
}

// publishDS is a message's partition: the day it was published.
func publishDS(m *pubsub.Message) string {
	return batch.DSOfMillis(m.PublishTime.UnixMilli())
}

// ensureSubscription creates subscription id on topic unless it exists
// (dataflow.go shares it).
func ensureSubscription(ctx context.Context, c *pubsub.Client, id, topic string) error {
	return pubsubbatch.EnsureSubscription(ctx, c, id, topic)
}
