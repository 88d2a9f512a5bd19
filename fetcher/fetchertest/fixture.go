// SPDX-License-Identifier: Apache-2.0

// Package fetchertest loads a small, hand-checkable online setup into a KV
// store for the fetcher's and the server's tests: a TEMPORAL GroupBy with
// uploaded batch values, and a join over it with an external part and
// derivations.
package fetchertest

import (
	"context"
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
	selected := arrow.NewSchema([]arrow.Field{
		{Name: "user", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "price", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
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
	value := func(batchEnd int64, evs ...agg.Event) []byte {
		return gb.Spec.AppendBatchValue(nil, gb.Spec.Batch(evs, batchEnd))
	}
	key := func(user string) []byte {
		k, err := online.AppendKey(nil, []any{user})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	ds := g.MetaData.BatchDataset()
	if err := store.CreateDataset(ctx, ds); err != nil {
		t.Fatal(err)
	}
	entries := []kv.Entry{
		{Key: key("u1"), TsMillis: BatchEnd, Value: value(BatchEnd,
			agg.Event{Ts: BatchEnd - 30*Hour, Values: []any{int64(7)}},
			agg.Event{Ts: BatchEnd - 2*Hour, Values: []any{int64(5)}})},
		{Key: key("u2"), TsMillis: BatchEnd - Day, Value: value(BatchEnd-Day,
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
