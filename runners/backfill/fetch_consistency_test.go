// SPDX-License-Identifier: Apache-2.0

package backfill_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/bigtable/bttest"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/plugins/builtin"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/bigtable"
	"github.com/chronon-go/chronon/plugins/kv/kvplugin"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
	"github.com/chronon-go/chronon/plugins/pluginhost"
	"github.com/chronon-go/chronon/runners/backfill"
	"github.com/chronon-go/chronon/runners/metadata"
	"github.com/chronon-go/chronon/runners/pubsubdev"
	"github.com/chronon-go/chronon/runners/stream"
	"github.com/chronon-go/chronon/testing/oracle"
	"github.com/chronon-go/chronon/testing/testkit"
)

// servedJoin joins checkouts made after the last uploaded day with every
// kind of part the batch upload serves exactly: TEMPORAL and SNAPSHOT
// events, entity snapshots with and without aggregations, an int32 key
// joined from an int64 column, and derivations. (Entity mutations after
// the batch end arrive by streaming, not tested here.)
func servedJoin() *api.Join {
	j := eventsJoin()
	j.MetaData.Name = "test.served_join"
	j.MetaData.Online = true
	j.Left = api.EventsSource("data.late_checkouts", api.NewQuery(api.Selects("lid", "buyer", "store_id"), "ts"))
	parts := j.JoinParts[:0]
	for _, jp := range j.JoinParts {
		if jp.GroupBy.MetaData.Name != usersMutations().MetaData.Name {
			parts = append(parts, jp)
		}
	}
	j.JoinParts = parts
	return j
}

// TestFetchMatchesBackfill: for left rows at T in the day after the
// uploaded day, FetchJoin(keys, T) equals the backfilled row, with each KV
// store, in process and as a plugin process.
func TestFetchMatchesBackfill(t *testing.T) {
	emulator := func(t *testing.T) string {
		srv, err := bttest.NewServer("localhost:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		return srv.Addr
	}
	// asPlugin runs a built-in store in a plugin process (this test
	// binary, see TestMain), as kv.process does.
	asPlugin := func(t *testing.T, name string, config map[string]any) kv.Store {
		s, err := kvplugin.Open(t.Context(), pluginhost.Options{Path: os.Args[0], Env: []string{builtinEnv + "=" + name}, Config: config, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	stores := map[string]func(t *testing.T) kv.Store{
		"sqlite": func(t *testing.T) kv.Store {
			s, err := sqlite.Open(t.TempDir()+"/kv.db", nil)
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"bigtable": func(t *testing.T) kv.Store {
			s, err := bigtable.Open(t.Context(), bigtable.Options{Emulator: emulator(t)})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"sqlite-plugin": func(t *testing.T) kv.Store {
			return asPlugin(t, builtin.SQLite, map[string]any{"path": t.TempDir() + "/kv.db"})
		},
		"bigtable-plugin": func(t *testing.T) kv.Store {
			return asPlugin(t, builtin.Bigtable, map[string]any{"emulator": emulator(t)})
		},
	}
	for _, seed := range []uint64{3, 4} {
		rng := rand.New(rand.NewPCG(seed, 11))
		w := newWorld(t, rng, 3)
		j := servedJoin()
		last := int64(20000 + 2) // the world's last day: the uploaded one
		batchEnd := (last + 1) * day
		var left []oracle.Row
		for i := 0; i < 40; i++ {
			var buyer any = []string{"a", "b", "c", "d", "e", "nobody"}[rng.IntN(6)]
			if rng.IntN(15) == 0 {
				buyer = nil
			}
			var store any = rng.Int64N(6)
			if rng.IntN(10) == 0 {
				store = nil
			}
			ts := batchEnd + rng.Int64N(day)
			if i < 3 {
				ts = batchEnd + int64(i) // right at the batch end
			}
			left = append(left, oracle.Row{"lid": int64(i), "buyer": buyer, "store_id": store, "ts": ts, "ds": ds(last + 1)})
		}
		w.put(t, "data.late_checkouts", schemaOf("lid", tInt, "buyer", tString, "store_id", tInt, "ts", tInt), left)
		ctx := context.Background()
		if _, err := backfill.Join(ctx, w.wh, j, backfill.Options{Root: w.root, Start: ds(last + 1), End: ds(last + 1), Runner: runner("direct"), Shards: 2}); err != nil {
			t.Fatal(err)
		}
		rows := output(t, w.wh, j.MetaData.OutputTable())
		if len(rows) != len(left) {
			t.Fatalf("backfill has %d rows, want %d", len(rows), len(left))
		}
		for name, open := range stores {
			t.Run(fmt.Sprintf("seed%d/%s", seed, name), func(t *testing.T) {
				store := open(t)
				defer store.Close()
				for _, jp := range j.JoinParts {
					if _, err := backfill.Upload(ctx, w.wh, jp.GroupBy, ds(last), store, backfill.Options{Root: w.root, Runner: runner("direct"), Shards: 2}); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := metadata.Upload(ctx, store, []any{j}, batchEnd); err != nil {
					t.Fatal(err)
				}
				f := fetcher.New(store, fetcher.Options{})
				checkFetches(t, f, j, rows)
			})
		}
	}
}

// checkFetches fetches every backfilled row's keys at its ts and compares
// the values.
func checkFetches(t *testing.T, f *fetcher.Fetcher, j *api.Join, rows []map[string]any) {
	t.Helper()
	reqs := make([]fetcher.Request, len(rows))
	for i, r := range rows {
		reqs[i] = fetcher.Request{Name: "test/served_join", Keys: map[string]any{"buyer": r["buyer"], "store_id": r["store_id"]}, AtMillis: r["ts"].(int64)}
	}
	left := map[string]bool{"lid": true, "buyer": true, "store_id": true, "ts": true, "ds": true}
	values := 0 // non-null values compared
	for i, res := range f.FetchJoin(context.Background(), reqs) {
		if res.Err != nil {
			t.Fatalf("row %v: %v", rows[i]["lid"], res.Err)
		}
		for k, v := range res.Values {
			if strings.HasSuffix(k, "_exception") {
				t.Errorf("row %v: %s = %v", rows[i]["lid"], k, v)
			}
		}
		for col, want := range rows[i] {
			if left[col] && col != "buyer_id" {
				continue
			}
			got, ok := res.Values[col]
			if !ok && want == nil {
				continue // omitted part: no data
			}
			if want != nil {
				values++
			}
			if !sameValue(got, want) {
				t.Errorf("row %v (buyer %v, store %v, ts %v): %s = %#v, backfill %#v", rows[i]["lid"], rows[i]["buyer"], rows[i]["store_id"], rows[i]["ts"], col, got, want)
			}
		}
		for col := range res.Values {
			if _, ok := rows[i][col]; !ok {
				t.Errorf("row %v: fetch has %s, the backfill has no such column", rows[i]["lid"], col)
			}
		}
	}
	if values < 10*len(rows) {
		t.Errorf("only %d non-null values in %d rows: the test data is too thin", values, len(rows))
	}
	t.Logf("%d rows, %d non-null values equal", len(rows), values)
}

// sameValue compares a fetched value with a backfilled one (floats within
// rounding: the two sum in different orders).
func sameValue(got, want any) bool {
	if g, ok := got.(float64); ok {
		if w, ok := want.(float64); ok {
			return g == w || math.Abs(g-w) <= 1e-9*math.Max(1, math.Abs(w)) || math.IsNaN(g) && math.IsNaN(w)
		}
	}
	return reflect.DeepEqual(got, want) || fmt.Sprint(got) == fmt.Sprint(want)
}

// TestFetchMutationsMatchBackfill: an entity GroupBy with mutations, its
// snapshot of day D uploaded and the mutations of day D+1 published to
// Pub/Sub (pstest, out of order) and folded by the streaming job:
// FetchJoin at a left row's time on D+1 equals the backfilled row.
func TestFetchMutationsMatchBackfill(t *testing.T) {
	ctx := context.Background()
	for _, seed := range []uint64{5, 6, 7} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 13))
			w := newWorld(t, rng, 3)
			last := int64(20000 + 2)
			batchEnd := (last + 1) * day
			g := usersMutations()
			g.Sources[0].Entities.MutationTopic = "users.mutations"
			g.MetaData.OutputNamespace = "out"
			left := api.EventsSource("data.late_checkouts", api.NewQuery(api.Selects("lid", "buyer"), "ts"))
			j := api.NewJoin("test.mutations_join", left, api.Part(g, map[string]string{"buyer": "user"}))
			j.MetaData.OutputNamespace = "out"
			var rows []oracle.Row
			for i := 0; i < 40; i++ {
				rows = append(rows, oracle.Row{"lid": int64(i), "buyer": []string{"a", "b", "c", "d", "e"}[rng.IntN(5)],
					"ts": batchEnd + rng.Int64N(day), "ds": ds(last + 1)})
			}
			w.put(t, "data.late_checkouts", schemaOf("lid", tInt, "buyer", tString, "ts", tInt), rows)
			if _, err := backfill.Join(ctx, w.wh, j, backfill.Options{Root: w.root, Start: ds(last + 1), End: ds(last + 1), Runner: runner("direct"), Shards: 2}); err != nil {
				t.Fatal(err)
			}
			want := output(t, w.wh, j.MetaData.OutputTable())

			store, err := sqlite.Open(t.TempDir()+"/kv.db", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			if _, err := backfill.Upload(ctx, w.wh, g, ds(last), store, backfill.Options{Root: w.root, Runner: runner("direct"), Shards: 2}); err != nil {
				t.Fatal(err)
			}
			if _, err := metadata.Upload(ctx, store, []any{j}, batchEnd); err != nil {
				t.Fatal(err)
			}
			// The day's mutations, published as JSON messages in random
			// order to a local Pub/Sub, folded by the streaming job.
			// (Redeliveries are runners/stream's tests.)
			client := testkit.PubSub(t)
			var lines []string
			for _, r := range w.tables["data.user_mutations"] {
				if r["ds"] != ds(last+1) {
					continue
				}
				b, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				lines = append(lines, string(b))
			}
			rng.Shuffle(len(lines), func(a, b int) { lines[a], lines[b] = lines[b], lines[a] })
			var mu sync.Mutex
			folded := 0
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() {
				done <- stream.Run(rctx, g, stream.Options{Client: client, Table: w.types["data.user_mutations"], WindowTail: "exact", Store: store,
					OnBatch: func(s stream.Stats) { mu.Lock(); folded += s.Events + s.Duplicates; mu.Unlock() }})
			}()
			// The job creates its subscription first: messages published
			// before it exists would not reach it.
			for sub := "projects/local/subscriptions/chronon-test_user_mut"; ; time.Sleep(10 * time.Millisecond) {
				if _, err := client.SubscriptionAdminClient.GetSubscription(ctx, &pubsubpb.GetSubscriptionRequest{Subscription: sub}); err == nil {
					break
				}
			}
			if _, err := pubsubdev.Publish(ctx, client, "users.mutations", strings.NewReader(strings.Join(lines, "\n")), pubsubdev.PublishOptions{Format: pubsubdev.FormatJSONL}); err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				mu.Lock()
				n := folded
				mu.Unlock()
				if n >= len(lines) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("folded %d of %d messages", n, len(lines))
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			f := fetcher.New(store, fetcher.Options{})
			compared := 0
			for _, row := range want {
				res := f.FetchJoin(ctx, []fetcher.Request{{Name: "test/mutations_join", Keys: map[string]any{"buyer": row["buyer"]}, AtMillis: row["ts"].(int64)}})[0]
				if res.Err != nil {
					t.Fatal(res.Err)
				}
				for col, v := range row {
					if !strings.HasPrefix(col, "test_user_mut_") {
						continue
					}
					got, ok := res.Values[col]
					if !ok && v == nil {
						continue
					}
					compared++
					if !sameValue(got, v) {
						t.Errorf("row %v (buyer %v at %v): %s = %#v, backfill %#v", row["lid"], row["buyer"], row["ts"], col, got, v)
					}
				}
			}
			if compared < len(want) {
				t.Errorf("only %d values compared", compared)
			}
		})
	}
}
