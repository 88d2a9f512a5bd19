// SPDX-License-Identifier: Apache-2.0

package stream_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/chronon-go/chronon/core/agg"
	core "github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
	"github.com/chronon-go/chronon/runners/pubsubdev"
	"github.com/chronon-go/chronon/runners/stream"
	"github.com/chronon-go/chronon/testing/oracle"
	"github.com/chronon-go/chronon/testing/testkit"
)

// TestRunOnEmulator: events published to the topic (CSV, as Chronon's
// quickstart publishes them) are folded by the streaming job; a stopped and
// restarted job loses nothing and counts nothing twice; malformed messages
// go to the dead-letter topic with their reason; fetches equal the oracle.
func TestRunOnEmulator(t *testing.T) {
	ctx := context.Background()
	client := testkit.PubSub(t)
	store, err := sqlite.Open(t.TempDir()+"/kv.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	g := streamedGroupBy()
	gb, err := core.CompileGroupBy(g, selected, agg.ExactTails)
	if err != nil {
		t.Fatal(err)
	}
	uploadBatch(t, store, g, gb, map[string][]agg.Event{"a": {{Ts: batchEnd - 10*60*1000, Values: []any{int64(100)}}}})
	valid := map[string][]oracle.Event{"a": {{Ts: batchEnd - 10*60*1000, Values: map[string]any{"x": int64(100)}}}}

	// A subscription on the dead-letter topic, to read what lands there.
	if err := pubsubdev.EnsureTopic(ctx, client, "events.clicks-dead-letter"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: "projects/local/subscriptions/dead", Topic: pubsubdev.TopicName(client, "events.clicks-dead-letter")}); err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(4, 4))
	var mu sync.Mutex
	var folded, malformed int
	run := func() (stop func()) {
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			done <- stream.Run(rctx, g, stream.Options{Client: client, Table: table, WindowTail: "exact", Store: store,
				OnBatch: func(s stream.Stats) {
					mu.Lock()
					folded += s.Events
					malformed += s.Malformed
					mu.Unlock()
				}})
		}()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}
	publish := func(n, bad int) {
		var lines []string
		for i := 0; i < n; i++ {
			u := []string{"a", "b"}[rng.IntN(2)]
			ts, x := batchEnd+rng.Int64N(3*hour), rng.Int64N(30)
			lines = append(lines, fmt.Sprintf("%d,%s,%d", ts, u, x))
			valid[u] = append(valid[u], oracle.Event{Ts: ts, Values: map[string]any{"x": x}})
		}
		for i := 0; i < bad; i++ {
			lines = append(lines, fmt.Sprintf("%d,a,lots", batchEnd))
		}
		if _, err := pubsubdev.Publish(ctx, client, "events.clicks", strings.NewReader(strings.Join(lines, "\n")),
			pubsubdev.PublishOptions{Format: pubsubdev.FormatCSV, Fields: []string{"ts", "user", "x"}}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(wantFolded, wantBad int) {
		deadline := time.Now().Add(15 * time.Second)
		for {
			mu.Lock()
			f, m := folded, malformed
			mu.Unlock()
			if f >= wantFolded && m >= wantBad {
				if f != wantFolded || m != wantBad {
					t.Fatalf("folded %d events and %d malformed, want %d and %d", f, m, wantFolded, wantBad)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("after 15s: folded %d of %d events, %d of %d malformed", f, wantFolded, m, wantBad)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	stop := run()
	publish(80, 2)
	waitFor(80, 2)
	stop()
	// Published while the job is down, then a restart.
	publish(40, 1)
	stop = run()
	waitFor(120, 3)
	stop()

	checkFetches(t, store, g, valid, rng)

	// The three malformed messages, with their reasons.
	dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	var reasons []string
	err = client.Subscriber("dead").Receive(dctx, func(_ context.Context, m *pubsub.Message) {
		mu.Lock()
		reasons = append(reasons, m.Attributes["reason"])
		if len(reasons) == 3 {
			cancel()
		}
		mu.Unlock()
		m.Ack()
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(reasons) != 3 || !strings.Contains(reasons[0], `field x: cannot parse "lots" as long`) {
		t.Errorf("dead letters: %q", reasons)
	}
}
