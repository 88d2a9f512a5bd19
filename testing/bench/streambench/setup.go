// SPDX-License-Identifier: Apache-2.0

package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
	core "github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/online"
	cstream "github.com/chronon-go/chronon/core/stream"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/runners/pubsubdev"
	"github.com/chronon-go/chronon/runners/stream"
)

const (
	groupByName = "streambench.clicks"
	topicID     = "events.streambench"
	// baselineTopic and baselineSub are the baseline's topic and its plain
	// subscriber's subscription.
	baselineTopic = "events.streambench-baseline"
	baselineSub   = "streambench-baseline"
	// windowTail is core/config's default window_tail, as chronon stream
	// and chronon serve use it.
	windowTail = "exact"
	hourMillis = int64(3600 * 1000)
	dayMillis  = 24 * hourMillis
)

// Feature columns of the GroupBy.
const (
	colCount   = "x_count" // unbounded: batch + streamed events
	colCount1h = "x_count_1h"
	colSum1h   = "x_sum_1h"
)

// table is the source table's data schema: what messages carry (CSV in
// the topic's fields= order ts,user,x).
var table = arrow.NewSchema([]arrow.Field{
	{Name: "user", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
}, nil)

// selected is the source's projected schema (selects, then ts): the
// serving info's.
var selected = arrow.NewSchema([]arrow.Field{table.Field(0), table.Field(1), table.Field(2)}, nil)

// benchGroupBy is a TEMPORAL GroupBy keyed by user with a streaming
// source: COUNT and SUM of x over 1 hour, and the unbounded COUNT.
func benchGroupBy() *api.GroupBy {
	src := api.EventsSource("data.streambench_clicks", api.NewQuery(api.Selects("user", "x"), "ts"))
	src.Events.Topic = topicID + "/fields=ts,user,x"
	g := api.NewGroupBy(groupByName, []*api.Source{src}, []string{"user"},
		api.CountOf("x", api.Hours(1)), api.Sum("x", api.Hours(1)), api.CountOf("x"))
	g.Accuracy = api.Ptr(api.Temporal)
	return g
}

// userName is key k's user.
func userName(k int) string { return fmt.Sprintf("u%05d", k) }

// uploadBatch stores the serving info and each key's batch value for the
// day before today (UTC), as chronon upload does: the batch end is today's
// midnight, and the streamed events come after it. Each key gets 1 to 10
// events in the three days before the batch end, none in its last two
// hours, so that the 1-hour windows of fetches now hold streamed events
// only. It returns each key's count of batch events and the batch end.
func uploadBatch(ctx context.Context, store kv.Store, g *api.GroupBy, keys int, rng *rand.Rand) ([]int64, int64, error) {
	ds := batch.DSOfMillis(time.Now().UnixMilli() - dayMillis)
	info, err := online.NewServingInfo(g, ds, selected, windowTail)
	if err != nil {
		return nil, 0, err
	}
	infoBytes, err := online.MarshalServingInfo(info)
	if err != nil {
		return nil, 0, err
	}
	gb, err := core.CompileGroupBy(g, selected, agg.ExactTails)
	if err != nil {
		return nil, 0, err
	}
	end := info.BatchEnd
	counts := make([]int64, keys)
	entries := []kv.Entry{{Key: []byte(api.ServingInfoKey), Value: infoBytes, TsMillis: end}}
	for k := range keys {
		n := 1 + rng.IntN(10)
		evs := make([]agg.Event, n)
		for i := range evs {
			evs[i] = agg.Event{Ts: end - 72*hourMillis + rng.Int64N(70*hourMillis), Values: []any{rng.Int64N(100)}}
		}
		slices.SortStableFunc(evs, func(a, b agg.Event) int { return cmp.Compare(a.Ts, b.Ts) })
		key, err := online.AppendKey(nil, []any{userName(k)})
		if err != nil {
			return nil, 0, err
		}
		entries = append(entries, kv.Entry{Key: key, TsMillis: end, Value: gb.Spec.AppendBatchValue(nil, gb.Spec.Batch(evs, end))})
		counts[k] = int64(n)
	}
	dataset := g.MetaData.BatchDataset()
	if err := store.CreateDataset(ctx, dataset); err != nil {
		return nil, 0, err
	}
	if err := store.MultiPut(ctx, dataset, entries); err != nil {
		return nil, 0, fmt.Errorf("upload %s: %w", dataset, err)
	}
	return counts, end, nil
}

// createBaselineSubscription creates the baseline topic and the plain
// subscriber's subscription on it, with the streaming job's ack deadline.
func createBaselineSubscription(ctx context.Context, c *pubsub.Client) error {
	if err := pubsubdev.EnsureTopic(ctx, c, baselineTopic); err != nil {
		return err
	}
	_, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name:               "projects/" + c.Project() + "/subscriptions/" + baselineSub,
		Topic:              pubsubdev.TopicName(c, baselineTopic),
		AckDeadlineSeconds: 10,
	})
	if err != nil {
		return fmt.Errorf("create subscription %s: %w", baselineSub, err)
	}
	return nil
}

// waitSubscription waits until the streaming job created its subscription
// (chronon-<name>): events published before would not reach it. jobErr
// reports the job ending early.
func waitSubscription(ctx context.Context, c *pubsub.Client, jobErr <-chan error, timeout time.Duration) error {
	name := "projects/" + c.Project() + "/subscriptions/" + cstream.SubscriptionName(groupByName)
	deadline := time.Now().Add(timeout)
	for {
		_, err := c.SubscriptionAdminClient.GetSubscription(ctx, &pubsubpb.GetSubscriptionRequest{Subscription: name})
		if err == nil {
			return nil
		}
		select {
		case err := <-jobErr:
			if err == nil {
				err = errors.New("stopped")
			}
			return fmt.Errorf("streaming job: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the streaming job did not create %s within %s: %v", name, timeout, err)
		}
	}
}

// prefillChunk is how many events prefill folds per Process call.
const prefillChunk = 20000

// prefill folds perKey events of each key into its current five-minute
// tile (the tile of now), before the streaming job starts, through the
// job's own Processor on store: as if the job had been running at the
// bench's rate since the tile began. The events' timestamps are spread
// over the part of the tile before now, their message ids are their own
// ("prefill-KEY-I"); they are added to l's counts of published events, so
// that the probes and the final check expect them. It returns the tile's
// start.
func prefill(ctx context.Context, store kv.Store, g *api.GroupBy, l *ledger, perKey int, rng *rand.Rand) (int64, error) {
	proc, err := stream.NewProcessor(ctx, g, table, windowTail, store)
	if err != nil {
		return 0, err
	}
	now := time.Now().UnixMilli()
	start := agg.TileStart(now)
	msgs := make([]stream.Message, 0, prefillChunk)
	flush := func() error {
		st, err := proc.Process(ctx, msgs)
		if err == nil && st.Events != len(msgs) {
			err = fmt.Errorf("folded %d of %d events (%d duplicates, %d filtered, %d malformed)", st.Events, len(msgs), st.Duplicates, st.Filtered, st.Malformed)
		}
		msgs = msgs[:0]
		return err
	}
	for i := range perKey {
		for k := range l.published {
			ts := start + rng.Int64N(max(now-start, 1))
			x := rng.Int64N(100)
			l.published[k]++
			l.sum[k] += x
			msgs = append(msgs, stream.Message{ID: fmt.Sprintf("prefill-%d-%d", k, i), DS: batch.DSOfMillis(ts),
				Row: map[string]any{"user": userName(k), "x": x, "ts": ts}})
			if len(msgs) == prefillChunk {
				if err := flush(); err != nil {
					return 0, err
				}
			}
		}
	}
	if len(msgs) > 0 {
		if err := flush(); err != nil {
			return 0, err
		}
	}
	return start, nil
}
