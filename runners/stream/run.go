// SPDX-License-Identifier: Apache-2.0

package stream

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/chronon-go/chronon/core/api"
	core "github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/batch"
	cstream "github.com/chronon-go/chronon/core/stream"
	"github.com/chronon-go/chronon/plugins/kv"
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

// received is a message waiting for its batch: the callback that got it
// waits for ack to say whether to acknowledge it.
type received struct {
	m   *pubsub.Message
	ack chan bool
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
	if o.MaxBatch <= 0 {
		o.MaxBatch = 500
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = 20 * time.Millisecond
	}
	if o.PullStreams <= 0 {
		o.PullStreams = 4
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
	sub := o.Client.Subscriber(subID)
	sub.ReceiveSettings.MaxOutstandingMessages = 2 * o.MaxBatch
	sub.ReceiveSettings.NumGoroutines = o.PullStreams
	// Extend leases by the shortest step: the messages a killed job held
	// are delivered again within about 10s, not after minutes.
	sub.ReceiveSettings.MaxDurationPerAckExtension = 10 * time.Second

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in := make(chan received)
	recvErr := make(chan error, 1)
	go func() {
		recvErr <- sub.Receive(ctx, func(ctx context.Context, m *pubsub.Message) {
			r := received{m: m, ack: make(chan bool, 1)}
			select {
			case in <- r:
			case <-ctx.Done():
				m.Nack()
				return
			}
			select {
			case ok := <-r.ack:
				if ok {
					m.Ack()
				} else {
					m.Nack()
				}
			case <-ctx.Done():
				m.Nack() // redelivered; folded messages are recognized
			}
		})
	}()
	o.Log.Info("streaming", "group_by", name, "topic", topic.ID, "subscription", subID, "dataset", g.MetaData.StreamingDataset())
	var pending []received
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			// Receive returns once the callbacks have nacked their
			// messages; an unreachable service must not hold the job.
			select {
			case err := <-recvErr:
				return err
			case <-time.After(5 * time.Second):
				o.Log.Warn("stopped without settling every message with Pub/Sub; they will be delivered again", "subscription", subID)
				return nil
			}
		case err := <-recvErr:
			if err != nil {
				return fmt.Errorf("%s: receive from %s: %w", name, subID, err)
			}
			return nil
		case r := <-in:
			if len(pending) == 0 {
				timer.Reset(o.FlushEvery)
			}
			pending = append(pending, r)
			if len(pending) < o.MaxBatch {
				continue
			}
			timer.Stop()
		case <-timer.C:
		}
		if len(pending) > 0 {
			processBatch(ctx, pending, dec, proc, dead, o)
			pending = pending[:0]
		}
	}
}

// processBatch decodes and folds a batch, dead-letters what does not fit,
// and tells each message's callback whether to acknowledge it.
func processBatch(ctx context.Context, batch []received, dec *cstream.Decoder, proc *Processor, dead *pubsub.Publisher, o Options) {
	msgs := make([]Message, 0, len(batch))
	reasons := map[string]error{}
	for _, r := range batch {
		row, err := dec.Decode(r.m.Data)
		if err != nil {
			reasons[r.m.ID] = err
			continue
		}
		msgs = append(msgs, Message{ID: r.m.ID, Row: row, DS: publishDS(r.m)})
	}
	stats, err := proc.Process(ctx, msgs)
	if err != nil {
		o.Log.Error("streaming batch failed; it will be delivered again", "messages", len(batch), "err", err)
		for _, r := range batch {
			r.ack <- false
		}
		return
	}
	for id, e := range stats.Errors {
		reasons[id] = e
	}
	stats.Malformed = len(reasons)
	var results []*pubsub.PublishResult
	for _, r := range batch {
		reason, bad := reasons[r.m.ID]
		if !bad {
			continue
		}
		o.Log.Warn("malformed message to the dead-letter topic", "message_id", r.m.ID, "reason", reason)
		results = append(results, dead.Publish(ctx, &pubsub.Message{Data: r.m.Data,
			Attributes: map[string]string{"reason": reason.Error(), "source_message_id": r.m.ID}}))
	}
	deadFailed := false
	for _, res := range results {
		if _, err := res.Get(ctx); err != nil {
			o.Log.Error("dead-letter publish failed; the message will be delivered again", "err", err)
			deadFailed = true
		}
	}
	for _, r := range batch {
		_, bad := reasons[r.m.ID]
		r.ack <- !(bad && deadFailed)
	}
	if o.OnBatch != nil {
		o.OnBatch(stats)
	}
}

// publishDS is a message's partition: the day it was published.
func publishDS(m *pubsub.Message) string {
	return batch.DSOfMillis(m.PublishTime.UnixMilli())
}

// ensureSubscription creates subscription id on topic unless it exists.
func ensureSubscription(ctx context.Context, c *pubsub.Client, id, topic string) error {
	name := "projects/" + c.Project() + "/subscriptions/" + id
	_, err := c.SubscriptionAdminClient.GetSubscription(ctx, &pubsubpb.GetSubscriptionRequest{Subscription: name})
	if err == nil {
		return nil
	}
	if status.Code(err) != codes.NotFound {
		return fmt.Errorf("get subscription %s: %w", name, err)
	}
	_, err = c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		// The shortest deadline: messages a killed job held come back
		// within 10s; the client extends it while a batch is processed.
		Name: name, Topic: pubsubdev.TopicName(c, topic), AckDeadlineSeconds: 10,
	})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("create subscription %s: %w", name, err)
	}
	return nil
}
