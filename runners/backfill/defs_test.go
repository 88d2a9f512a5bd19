// SPDX-License-Identifier: Apache-2.0

package backfill_test

import (
	"github.com/chronon-go/chronon/core/api"
)

// everyOp aggregates purchases with every operation over hour, day,
// several-day and unbounded windows (day windows only when hours is false).
func everyOp(hours bool) []*api.Aggregation {
	windows := []api.Window{api.Days(1), api.Days(3)}
	if hours {
		windows = append(windows, api.Hours(1), api.Hours(30))
	}
	w := func() []api.Window { return append([]api.Window(nil), windows...) }
	agg := func(in string, op api.Operation, args ...string) *api.Aggregation {
		a := api.NewAggregation(in, op, w()...)
		for i := 0; i < len(args); i += 2 {
			a.ArgMap[args[i]] = args[i+1]
		}
		return a
	}
	aggs := []*api.Aggregation{
		agg("price", api.OpSum), agg("price", api.OpCount), agg("rate", api.OpAverage),
		agg("price", api.OpMin), agg("price", api.OpMax), agg("price", api.OpFirst), agg("price", api.OpLast),
		agg("price", api.OpLastK, "k", "3"), agg("price", api.OpFirstK, "k", "3"),
		agg("price", api.OpTopK, "k", "2"), agg("price", api.OpBottomK, "k", "2"),
		agg("category", api.OpUniqueCount), agg("category", api.OpApproxUniqueCount),
		agg("category", api.OpHistogram), agg("category", api.OpApproxHistogramK, "k", "2"),
		agg("category", api.OpBoundedUniqueCount, "k", "2"),
		agg("rate", api.OpVariance), agg("rate", api.OpSkew), agg("rate", api.OpKurtosis),
		agg("price", api.OpApproxPercentile, "percentiles", "[0.5, 0.9]"),
		api.Sum("price"), api.CountOf("price"),
	}
	bucketed := agg("price", api.OpSum)
	bucketed.Buckets = []string{"category"}
	return append(aggs, bucketed)
}

func purchasesQuery() *api.Query {
	return api.NewQuery(api.Selects("user", "price", "rate", "category"), "ts")
}

// purchasesGB is a GroupBy of purchases by user.
func purchasesGB(name string, acc api.Accuracy) *api.GroupBy {
	g := api.NewGroupBy(name, []*api.Source{api.EventsSource("data.purchases", purchasesQuery())}, []string{"user"},
		everyOp(acc == api.Temporal)...)
	g.Accuracy = api.Ptr(acc)
	g.MetaData.OutputNamespace = "out"
	return g
}

func usersQuery() *api.Query {
	return api.NewQuery(api.Selects("user", "score"), "ts")
}

// usersPassthrough is an entity GroupBy without aggregations.
func usersPassthrough() *api.GroupBy {
	q := &api.Query{Selects: api.Selects("user", "score")}
	g := api.NewGroupBy("test.user_score", []*api.Source{api.EntitiesSource("data.users", q)}, []string{"user"})
	g.MetaData.OutputNamespace = "out"
	return g
}

// usersAgg aggregates entity snapshots.
func usersAgg() *api.GroupBy {
	g := api.NewGroupBy("test.user_agg", []*api.Source{api.EntitiesSource("data.users", usersQuery())}, []string{"user"},
		api.Sum("score"), api.CountOf("score", api.Days(1)), api.NewAggregation("score", api.OpMax), api.NewAggregation("score", api.OpLast))
	g.MetaData.OutputNamespace = "out"
	return g
}

// usersMutations aggregates entity snapshots and their mutations.
func usersMutations() *api.GroupBy {
	q := usersQuery()
	q.MutationTimeColumn = "mutation_ts"
	q.ReversalColumn = "is_before"
	src := api.EntitiesSource("data.users", q)
	src.Entities.MutationTable = "data.user_mutations"
	g := api.NewGroupBy("test.user_mut", []*api.Source{src}, []string{"user"},
		api.Sum("score"), api.CountOf("score"), api.Avg("score", api.Days(1)), api.NewAggregation("score", api.OpMax))
	g.Accuracy = api.Ptr(api.Temporal)
	return g
}

// eventsJoin joins checkouts (events) with every kind of part.
func eventsJoin() *api.Join {
	left := api.EventsSource("data.checkouts", api.NewQuery(api.Selects("lid", "buyer", "store_id"), "ts"))
	m := map[string]string{"buyer": "user"}
	snap := api.Part(purchasesGB("test.purchases_snapshot", api.Snapshot), m)
	snap.Prefix = api.Ptr("snap")
	j := api.NewJoin("test.events_join", left,
		api.Part(purchasesGB("test.purchases", api.Temporal), m),
		snap,
		api.Part(usersPassthrough(), m),
		api.Part(usersAgg(), m),
		api.Part(usersMutations(), m),
		api.Part(byStore(), map[string]string{"store_id": "store"}))
	j.MetaData.OutputNamespace = "out"
	j.Derivations = []*api.Derivation{
		{Name: "*", Expression: "*"},
		{Name: "spend_per_score", Expression: "test_purchases_price_sum_1d / test_user_score_score"},
		{Name: "buyer_id", Expression: "buyer"},
	}
	return j
}

// entitiesJoin joins daily user lists (entities) with events and entities.
func entitiesJoin() *api.Join {
	left := api.EntitiesSource("data.user_days", &api.Query{Selects: api.Selects("user")})
	j := api.NewJoin("test.entities_join", left,
		api.Part(purchasesGB("test.purchases", api.Temporal), nil),
		api.Part(usersPassthrough(), nil),
		api.Part(usersAgg(), nil))
	j.MetaData.OutputNamespace = "out"
	return j
}

// twoKeys groups purchases by user and category: a row whose user is null
// still counts for its category (Chronon drops a row only when every key is
// null).
func twoKeys() *api.GroupBy {
	g := api.NewGroupBy("test.user_category", []*api.Source{api.EventsSource("data.purchases", purchasesQuery())},
		[]string{"user", "category"}, api.Sum("price", api.Days(2)), api.CountOf("price"))
	g.MetaData.OutputNamespace = "out"
	return g
}

// byStore aggregates purchases by an int32 key that the left joins with an
// int64 column.
func byStore() *api.GroupBy {
	q := api.NewQuery(api.Selects("store", "price", "rate"), "ts")
	g := api.NewGroupBy("test.store", []*api.Source{api.EventsSource("data.purchases", q)}, []string{"store"},
		api.Sum("price", api.Days(1), api.Hours(2)), api.Avg("rate", api.Days(3)), api.CountOf("price"))
	g.Accuracy = api.Ptr(api.Temporal)
	g.MetaData.OutputNamespace = "out"
	return g
}
