// SPDX-License-Identifier: Apache-2.0

// Package fetchertest loads a small, hand-checkable online setup into a KV
// store for the fetcher's and the server's tests: a TEMPORAL GroupBy with
// uploaded batch values, and a join over it with an external part and
// derivations.
package fetchertest

import (
	"context"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/online"
	"github.com/chronon-go/chronon/plugins/kv"
)

// Times of the fixture, epoch ms.
const (
	Day      = int64(24 * 3600 * 1000)
	Hour     = int64(3600 * 1000)
	BatchDS  = "2024-10-01"
	BatchEnd = int64(1727827200000) // 2024-10-02 00:00 UTC
)

// Names of the fixture's definitions.
const (
	GroupBy = "t.purchases"
	Join    = "t.checkout"
)

// Fixture describes what Load wrote.
type Fixture struct {
	GroupBy *api.GroupBy
	Join    *api.Join
}

// Load writes the fixture to store. The GroupBy t.purchases (keyed by user,
// a string) has SUM(price) over 1 day and an unbounded COUNT(price):
//   - user "u1": price 5 at BatchEnd-2h and 7 at BatchEnd-30h, so at
//     BatchEnd+1h the 1-day sum is 5 and the count 2, and at BatchEnd+23h
//     the sum is null;
//   - user "u2": a value of the previous day's upload only (not served).
//
// The join t.checkout maps its "buyer" key to user, prefixes the part "p"
// (columns p_t_purchases_price_sum_1d, p_t_purchases_price_count), has the
// contextual external part with key and value request_id (columns
// ext_contextual_request_id), and derives double_sum = 2 * the 1-day sum
// next to every base column.
func Load(t testing.TB, store kv.Store) Fixture {
	t.Helper()
	ctx := context.Background()
	q := api.NewQuery(api.Selects("user", "price"), "ts")
	g := api.NewGroupBy(GroupBy, []*api.Source{api.EventsSource("data.purchases", q)}, []string{"user"},
		api.Sum("price", api.Days(1)), api.CountOf("price"))
	g.Accuracy = api.Ptr(api.Temporal)
	gb, infoBytes := compile(t, g, "price")
	value := func(batchEnd int64, evs ...agg.Event) []byte {
		return gb.Spec.AppendBatchValue(nil, gb.Spec.Batch(evs, batchEnd))
	}
	ds := g.MetaData.BatchDataset()
	if err := store.CreateDataset(ctx, ds); err != nil {
		t.Fatal(err)
	}
	entries := []kv.Entry{
		{Key: key(t, "u1"), TsMillis: BatchEnd, Value: value(BatchEnd,
			agg.Event{Ts: BatchEnd - 30*Hour, Values: []any{int64(7)}},
			agg.Event{Ts: BatchEnd - 2*Hour, Values: []any{int64(5)}})},
		{Key: key(t, "u2"), TsMillis: BatchEnd - Day, Value: value(BatchEnd-Day,
			agg.Event{Ts: BatchEnd - 30*Hour, Values: []any{int64(1)}})},
		{Key: []byte(api.ServingInfoKey), TsMillis: BatchEnd, Value: infoBytes},
	}
	if err := store.MultiPut(ctx, ds, entries); err != nil {
		t.Fatal(err)
	}

	left := api.EventsSource("data.checkouts", api.NewQuery(api.Selects("buyer", "request_id"), "ts"))
	part := api.Part(g, map[string]string{"buyer": "user"})
	part.Prefix = api.Ptr("p")
	j := api.NewJoin(Join, left, part)
	ctxSchema := &api.TDataType{Kind: api.StructKind, Name: "ctx", Params: []*api.DataField{
		{Name: "request_id", DataType: &api.TDataType{Kind: api.StringKind}}}}
	j.OnlineExternalParts = []*api.ExternalPart{{Source: &api.ExternalSource{
		MetaData: &api.MetaData{Name: "contextual"}, KeySchema: ctxSchema, ValueSchema: ctxSchema}}}
	j.Derivations = []*api.Derivation{
		{Name: "*", Expression: "*"},
		{Name: "double_sum", Expression: "2 * p_t_purchases_price_sum_1d"},
	}
	def, err := api.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateDataset(ctx, api.MetadataDataset); err != nil {
		t.Fatal(err)
	}
	if err := store.MultiPut(ctx, api.MetadataDataset, []kv.Entry{
		{Key: []byte(api.MetadataKey(api.KindJoin, Join)), Value: def, TsMillis: BatchEnd}}); err != nil {
		t.Fatal(err)
	}
	return Fixture{GroupBy: g, Join: j}
}

// Streaming is the name of LoadStreaming's GroupBy.
const Streaming = "t.clicks"

// LoadStreaming writes a GroupBy with a streaming source, t.clicks (keyed
// by user, a string): SUM(x) over 1 hour and an unbounded COUNT(x).
//   - batch values: "u1" has x=1 at BatchEnd-30m and x=2 at BatchEnd-2h;
//   - streaming tiles: "u1" has x=4 at BatchEnd+10m (delivered twice) and
//     x=8 at BatchEnd+20m; "u9", without batch data, x=3 at BatchEnd+10m.
//
// So u1 at BatchEnd+15m has sum 5 and count 3, at +25m sum 13 and count 4,
// at +65m sum 12 and count 4; u9 at +20m sum 3 and count 1.
func LoadStreaming(t testing.TB, store kv.Store) {
	t.Helper()
	ctx := context.Background()
	src := api.EventsSource("data.clicks", api.NewQuery(api.Selects("user", "x"), "ts"))
	src.Events.Topic = "events.clicks/fields=ts,user,x"
	g := api.NewGroupBy(Streaming, []*api.Source{src}, []string{"user"}, api.Sum("x", api.Hours(1)), api.CountOf("x"))
	g.Accuracy = api.Ptr(api.Temporal)
	gb, infoBytes := compile(t, g, "x")
	const minute = 60 * 1000
	batch := gb.Spec.Batch([]agg.Event{
		{Ts: BatchEnd - 120*minute, Values: []any{int64(2)}},
		{Ts: BatchEnd - 30*minute, Values: []any{int64(1)}},
	}, BatchEnd)
	put := func(dataset string, entries ...kv.Entry) {
		if err := store.CreateDataset(ctx, dataset); err != nil {
			t.Fatal(err)
		}
		if err := store.MultiPut(ctx, dataset, entries); err != nil {
			t.Fatal(err)
		}
	}
	put(g.MetaData.BatchDataset(),
		kv.Entry{Key: key(t, "u1"), TsMillis: BatchEnd, Value: gb.Spec.AppendBatchValue(nil, batch)},
		kv.Entry{Key: []byte(api.ServingInfoKey), TsMillis: BatchEnd, Value: infoBytes})
	type ev struct {
		id string
		ts int64
		x  int64
	}
	// tile returns a span's summary and chunk entries, as the streaming
	// job writes them.
	tile := func(user string, events ...ev) []kv.Entry {
		var st online.StreamTile
		for _, e := range events {
			st.Add(gb.Spec, agg.Event{Ts: e.ts, Values: []any{e.x}}, online.MessageID(e.id))
		}
		span, k := agg.TileStart(events[0].ts), key(t, user)
		return []kv.Entry{
			{Key: k, TsMillis: span, Value: st.AppendSummary(gb.Spec, nil)},
			{Key: online.ChunkKey(k, span), TsMillis: online.ChunkTs(span, st.Chunks), Value: online.AppendChunk(gb.Spec, nil, &st.Last)},
		}
	}
	put(g.MetaData.StreamingDataset(), slices.Concat(
		tile("u1", ev{"m1", BatchEnd + 10*minute, 4}, ev{"m1", BatchEnd + 10*minute, 4}),
		tile("u1", ev{"m2", BatchEnd + 20*minute, 8}),
		tile("u9", ev{"m3", BatchEnd + 10*minute, 3}))...)
}

// compile compiles a GroupBy keyed by user (string) with one long value
// column over its selected schema, and encodes its serving info.
func compile(t testing.TB, g *api.GroupBy, value string) (*backfill.GroupBy, []byte) {
	t.Helper()
	selected := arrow.NewSchema([]arrow.Field{
		{Name: "user", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: value, Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	gb, err := backfill.CompileGroupBy(g, selected, agg.ExactTails)
	if err != nil {
		t.Fatal(err)
	}
	info, err := online.NewServingInfo(g, BatchDS, selected, "exact")
	if err != nil {
		t.Fatal(err)
	}
	infoBytes, err := online.MarshalServingInfo(info)
	if err != nil {
		t.Fatal(err)
	}
	return gb, infoBytes
}

// key encodes a user key as uploads do.
func key(t testing.TB, user string) []byte {
	t.Helper()
	k, err := online.AppendKey(nil, []any{user})
	if err != nil {
		t.Fatal(err)
	}
	return k
}
