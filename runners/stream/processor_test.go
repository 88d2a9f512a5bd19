// SPDX-License-Identifier: Apache-2.0

package stream_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
	core "github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/online"
	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
	"github.com/chronon-go/chronon/runners/stream"
	"github.com/chronon-go/chronon/testing/oracle"
)

const (
	hour     = int64(3600 * 1000)
	batchEnd = int64(1727827200000) // 2024-10-02 00:00 UTC
)

var table = arrow.NewSchema([]arrow.Field{
	{Name: "user", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
}, nil)

func streamedGroupBy() *api.GroupBy {
	q := api.NewQuery(api.Selects("user", "x"), "ts")
	q.Wheres = []string{"x >= 0"}
	src := api.EventsSource("data.clicks", q)
	src.Events.Topic = "events.clicks/fields=ts,user,x"
	g := api.NewGroupBy("t.clicks", []*api.Source{src}, []string{"user"},
		api.Sum("x", api.Hours(1), api.Days(1)), api.CountOf("x"), api.Avg("x", api.Hours(2)),
		api.NewAggregation("x", api.OpLastK, api.Days(3)))
	g.Aggregations[3].ArgMap = map[string]string{"k": "3"}
	g.Accuracy = api.Ptr(api.Temporal)
	return g
}

// TestProcessedTilesServeOracleValues: batch values uploaded at the batch
// end plus streamed messages (with redeliveries, malformed and filtered
// ones, processed in random batches by two processors, as a restarted job
// would) fetch the oracle's value at random times after the batch end.
// Sparse messages (300 over 6 hours) give spans of a few events; dense
// ones (2000 over 20 minutes) spans of many chunks, which fetches at
// window edges cut.
func TestProcessedTilesServeOracleValues(t *testing.T) {
	ctx := context.Background()
	const sparse, dense = 6 * hour, hour / 3
	for _, tc := range []struct {
		seed   uint64
		tail   string
		n      int
		spread int64
	}{{1, "exact", 300, sparse}, {2, "exact", 300, sparse}, {3, "exact", 300, sparse}, {4, "hop", 300, sparse}, {5, "hop", 300, sparse},
		{6, "exact", 2000, dense}, {7, "hop", 2000, dense}} {
		seed, tail := tc.seed, tc.tail
		mode, omode := agg.ExactTails, oracle.Exact
		if tail == "hop" {
			mode, omode = agg.HopTails, oracle.Hop
		}
		t.Run(fmt.Sprint("seed", seed, "/", tail, "/", tc.n), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 9))
			g := streamedGroupBy()
			store, err := sqlite.Open(t.TempDir()+"/kv.db", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			users := []string{"a", "b", "c"}
			valid := map[string][]oracle.Event{}
			// Batch data: events of the three days before the batch end.
			gb, err := core.CompileGroupBy(g, selected, mode)
			if err != nil {
				t.Fatal(err)
			}
			batchEvents := map[string][]agg.Event{}
			for i := 0; i < 60; i++ {
				u := users[rng.IntN(len(users))]
				e := agg.Event{Ts: batchEnd - 72*hour + rng.Int64N(72*hour), Values: []any{rng.Int64N(20)}}
				batchEvents[u] = append(batchEvents[u], e)
				valid[u] = append(valid[u], oracle.Event{Ts: e.Ts, Values: map[string]any{"x": e.Values[0]}})
			}
			uploadBatchTail(t, store, g, gb, batchEvents, tail)

			// Streamed messages after the batch end.
			var msgs []stream.Message
			for i := 0; i < tc.n; i++ {
				u := users[rng.IntN(len(users))]
				ts := batchEnd + rng.Int64N(tc.spread)
				x := any(rng.Int64N(20))
				m := stream.Message{ID: fmt.Sprint("m", i), DS: batch.DSOfMillis(ts), Row: map[string]any{"user": u, "x": x, "ts": ts}}
				switch rng.IntN(12) {
				case 0:
					m.Row["x"] = "not a number" // malformed
				case 1:
					m.Row["x"] = int64(-1) // filtered by the wheres
				case 2:
					m.Row["user"] = nil // a null key
				default:
					valid[u] = append(valid[u], oracle.Event{Ts: ts, Values: map[string]any{"x": x}})
				}
				msgs = append(msgs, m)
				if rng.IntN(5) == 0 { // redelivered, now or later
					msgs = append(msgs, m)
				}
			}
			rng.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
			var total stream.Stats
			proc := newProcessorTail(t, store, g, tail)
			for len(msgs) > 0 {
				n := min(len(msgs), 1+rng.IntN(40))
				if rng.IntN(4) == 0 {
					proc = newProcessorTail(t, store, g, tail) // a restart: nothing in memory
				}
				st, err := proc.Process(ctx, msgs[:n])
				if err != nil {
					t.Fatal(err)
				}
				total.Events += st.Events
				total.Duplicates += st.Duplicates
				total.Malformed += st.Malformed
				msgs = msgs[n:]
			}
			if total.Duplicates == 0 || total.Malformed == 0 {
				t.Errorf("stats %+v: the test must see redeliveries and malformed messages", total)
			}

			f := fetcher.New(store, fetcher.Options{})
			parts := g.AggregationParts()
			for q := 0; q < 60; q++ {
				u := users[rng.IntN(len(users))]
				T := batchEnd + rng.Int64N(tc.spread+3*hour/2)
				res := f.FetchGroupBy(ctx, []fetcher.Request{{Name: "t.clicks", Keys: map[string]any{"user": u}, AtMillis: T}})[0]
				if res.Err != nil {
					t.Fatal(res.Err)
				}
				for _, part := range parts {
					col := part.OutputColumnName()
					if err := oracle.Check(part, arrow.PrimitiveTypes.Int64, valid[u], T, omode, res.Values[col], oracle.CheckOptions{}); err != nil {
						t.Errorf("user %s at batch end + %dms: %s: %v", u, T-batchEnd, col, err)
					}
				}
			}
		})
	}
}

func newProcessorTail(t *testing.T, store kv.Store, g *api.GroupBy, tail string) *stream.Processor {
	t.Helper()
	p, err := stream.NewProcessor(context.Background(), g, table, tail, store)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// selected is the source's projected schema (selects, then ts).
var selected = arrow.NewSchema([]arrow.Field{table.Field(0), table.Field(1), table.Field(2)}, nil)

// uploadBatch stores each user's batch value and the serving info, as
// chronon upload does.
func uploadBatch(t *testing.T, store kv.Store, g *api.GroupBy, gb *core.GroupBy, events map[string][]agg.Event) {
	t.Helper()
	uploadBatchTail(t, store, g, gb, events, "exact")
}

// uploadBatchTail is uploadBatch under window tail mode tail.
func uploadBatchTail(t *testing.T, store kv.Store, g *api.GroupBy, gb *core.GroupBy, events map[string][]agg.Event, tail string) {
	t.Helper()
	ctx := context.Background()
	info, err := online.NewServingInfo(g, batch.DSOfMillis(batchEnd-1), selected, tail)
	if err != nil {
		t.Fatal(err)
	}
	infoBytes, err := online.MarshalServingInfo(info)
	if err != nil {
		t.Fatal(err)
	}
	entries := []kv.Entry{{Key: []byte(api.ServingInfoKey), Value: infoBytes, TsMillis: batchEnd}}
	for u, evs := range events {
		slices.SortStableFunc(evs, func(a, b agg.Event) int { return cmp.Compare(a.Ts, b.Ts) })
		key, err := online.AppendKey(nil, []any{u})
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, kv.Entry{Key: key, TsMillis: batchEnd, Value: gb.Spec.AppendBatchValue(nil, gb.Spec.Batch(evs, batchEnd))})
	}
	ds := g.MetaData.BatchDataset()
	if err := store.CreateDataset(ctx, ds); err != nil {
		t.Fatal(err)
	}
	if err := store.MultiPut(ctx, ds, entries); err != nil {
		t.Fatal(err)
	}
}
