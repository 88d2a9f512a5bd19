// SPDX-License-Identifier: Apache-2.0

package pubsubbatch

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/chronon-go/chronon/runners/pubsubdev"
)

// Defaults of Options' zero fields.
const (
	DefaultMaxBatch    = 500
	DefaultFlushEvery  = 20 * time.Millisecond
	DefaultPullStreams = 4
)

// AckDeadline is the ack deadline of the subscriptions EnsureSubscription
// creates, and the longest lease extension Receive asks for: the shortest
// Pub/Sub allows, so the messages a killed job held come back within about
// 10s, not after minutes; the client extends leases while a batch is
// processed.
const AckDeadline = 10 * time.Second

// stopTimeout bounds how long a stopping Receive waits for the Pub/Sub
// client to settle the messages it holds: an unreachable service must not
// hold the job.
const stopTimeout = 5 * time.Second

// stopFlushTimeout bounds the handling of the pending batch at a stop
// (FlushOnStop).
const stopFlushTimeout = time.Minute

// Options configure Receive. A zero field means its default.
type Options struct {
	// MaxBatch bounds the messages of a batch. The default value is
	// DefaultMaxBatch. At most twice as many are outstanding.
	MaxBatch int
	// FlushEvery bounds how long the first message of a batch waits for
	// the batch to fill. The default value is DefaultFlushEvery.
	FlushEvery time.Duration
	// PullStreams is how many streaming pulls receive messages. The
	// default value is DefaultPullStreams. Pub/Sub's emulator (pstest)
	// hands each stream about one message per 10ms, so a local run at
	// thousands of messages per second needs dozens; Pub/Sub itself
	// delivers batches per stream.
	PullStreams int
	// FlushOnStop, when true, hands the pending batch to the handler once
	// more when ctx is done (with a context that is not canceled, but ends
	// after a minute), so a graceful stop settles every message it
	// received. When false the pending messages are nacked and delivered
	// again.
	FlushOnStop bool
	// Log receives warnings; nil discards them.
	Log *slog.Logger
}

// Handler processes a batch of messages and returns, for each (same
// order, same length), whether to acknowledge it (true) or nack it. It is
// called from one goroutine at a time and must not Ack or Nack itself.
type Handler func(ctx context.Context, batch []*pubsub.Message) []bool

// received is a message waiting for its batch: the callback that got it
// waits for ack to say whether to acknowledge it.
type received struct {
	m   *pubsub.Message
	ack chan bool
}

// Receive pulls subscription subID until ctx is done or receiving fails,
// and calls h with batches of at most MaxBatch messages, each batch once
// it is full or its first message waited FlushEvery. A message is
// acknowledged or nacked after h returned, as h decided. It returns nil
// when ctx ended, else the receive error naming the subscription.
func Receive(ctx context.Context, c *pubsub.Client, subID string, o Options, h Handler) error {
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = DefaultFlushEvery
	}
	if o.PullStreams <= 0 {
		o.PullStreams = DefaultPullStreams
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	sub := c.Subscriber(subID)
	sub.ReceiveSettings.MaxOutstandingMessages = 2 * o.MaxBatch
	sub.ReceiveSettings.NumGoroutines = o.PullStreams
	sub.ReceiveSettings.MaxDurationPerAckExtension = AckDeadline

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// abandon tells the callbacks still waiting that no decision comes:
	// they nack.
	abandon := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(abandon) }) }
	defer release()
	in := make(chan received)
	recvErr := make(chan error, 1)
	go func() {
		recvErr <- sub.Receive(rctx, func(cbCtx context.Context, m *pubsub.Message) {
			r := received{m: m, ack: make(chan bool, 1)}
			select {
			case in <- r:
			case <-cbCtx.Done():
				m.Nack()
				return
			}
			// Without FlushOnStop a stop nacks the pending batch; with it
			// the batch is still handled (nil never fires).
			var stopped <-chan struct{}
			if !o.FlushOnStop {
				stopped = cbCtx.Done()
			}
			select {
			case ok := <-r.ack:
				if ok {
					m.Ack()
				} else {
					m.Nack()
				}
			case <-stopped:
				m.Nack() // delivered again
			case <-abandon:
				m.Nack()
			}
		})
	}()
	var pending []received
	flush := func(ctx context.Context) {
		if len(pending) == 0 {
			return
		}
		msgs := make([]*pubsub.Message, len(pending))
		for i, r := range pending {
			msgs[i] = r.m
		}
		acks := h(ctx, msgs)
		for i, r := range pending {
			r.ack <- i < len(acks) && acks[i]
		}
		pending = pending[:0]
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			cancel() // pull nothing more
			if o.FlushOnStop {
				fctx, cancelFlush := context.WithTimeout(context.WithoutCancel(ctx), stopFlushTimeout)
				flush(fctx)
				cancelFlush()
			}
			// Receive returns once every callback returned.
			release()
			select {
			case err := <-recvErr:
				return err
			case <-time.After(stopTimeout):
				o.Log.Warn("stopped without settling every message with Pub/Sub; they will be delivered again", "subscription", subID)
				return nil
			}
		case err := <-recvErr:
			if err != nil {
				return fmt.Errorf("receive from subscription %s: %w", subID, err)
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
		flush(ctx)
	}
}

// EnsureSubscription creates subscription id on topic (both ids in c's
// project) unless it exists, with the ack deadline AckDeadline. A
// concurrent creation is success.
func EnsureSubscription(ctx context.Context, c *pubsub.Client, id, topic string) error {
	name := "projects/" + c.Project() + "/subscriptions/" + id
	_, err := c.SubscriptionAdminClient.GetSubscription(ctx, &pubsubpb.GetSubscriptionRequest{Subscription: name})
	if err == nil {
		return nil
	}
	if status.Code(err) != codes.NotFound {
		return fmt.Errorf("get subscription %s: %w", name, err)
	}
	_, err = c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: name, Topic: pubsubdev.TopicName(c, topic), AckDeadlineSeconds: int32(AckDeadline / time.Second),
	})
	if err != nil && status.Code(err) != codes.AlreadyExists {
		return fmt.Errorf("create subscription %s on topic %s: %w", name, topic, err)
	}
	return nil
}

// DeadLetter publishes the messages of batch that have a reason (keyed by
// message ID) to dead, with their data and the attributes "reason" and
// "source_message_id", and waits until Pub/Sub accepted them. It returns
// the IDs whose publish failed: nack those, so they come back.
func DeadLetter(ctx context.Context, dead *pubsub.Publisher, batch []*pubsub.Message, reasons map[string]error, log *slog.Logger) map[string]bool {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	results := map[string]*pubsub.PublishResult{}
	for _, m := range batch {
		reason, bad := reasons[m.ID]
		if !bad || results[m.ID] != nil {
			continue
		}
		log.Warn("malformed message to the dead-letter topic", "message_id", m.ID, "reason", reason)
		results[m.ID] = dead.Publish(ctx, &pubsub.Message{Data: m.Data,
			Attributes: map[string]string{"reason": reason.Error(), "source_message_id": m.ID}})
	}
	failed := map[string]bool{}
	for id, res := range results {
		if _, err := res.Get(ctx); err != nil {
			log.Error("dead-letter publish failed; the message will be delivered again", "message_id", id, "err", err)
			failed[id] = true
		}
	}
	return failed
}
