// SPDX-License-Identifier: Apache-2.0

//go:build cgo

package main

import (
	"fmt"

	"github.com/chronon-go/chronon/core/api"
)

// The joins measured, by the -join name of the "ours" step.
const (
	joinMain  = "main"  // SUM, COUNT, AVERAGE over 3d, 14d, 30d: checked against DuckDB
	joinSmall = "small" // joinMain over eventsTableSmall (the scaling run)
	joinLastK = "lastk" // LAST_K(10)
	joinThree = "three" // three GroupBys with different operations and windows
)

// eventsGroupBy is a TEMPORAL GroupBy of table's amounts by key.
func eventsGroupBy(name, table string, aggs ...*api.Aggregation) *api.GroupBy {
	src := api.EventsSource(table, api.NewQuery(api.Selects("key", "amount"), "ts"))
	g := api.NewGroupBy(name, []*api.Source{src}, []string{"key"}, aggs...)
	g.Accuracy = api.Ptr(api.Temporal)
	g.MetaData.OutputNamespace = "bench"
	return g
}

// amounts is the GroupBy the SQL baseline computes (its column names are
// in join.sql).
func amounts(table string) *api.GroupBy {
	w := func() []api.Window { return []api.Window{api.Days(3), api.Days(14), api.Days(30)} }
	return eventsGroupBy("bench.amounts", table,
		api.Sum("amount", w()...), api.CountOf("amount", w()...), api.Avg("amount", w()...))
}

// lastAmounts holds a user's last 10 amounts.
func lastAmounts(table string) *api.GroupBy {
	return eventsGroupBy("bench.last_amounts", table, api.LastK("amount", 10))
}

// recentAmounts sums and counts over short windows, hour windows included.
func recentAmounts(table string) *api.GroupBy {
	w := func() []api.Window { return []api.Window{api.Hours(1), api.Days(1), api.Days(7)} }
	return eventsGroupBy("bench.recent_amounts", table,
		api.Sum("amount", w()...), api.CountOf("amount", w()...), api.NewAggregation("amount", api.OpMax, api.Days(7)))
}

// benchJoin returns the join named by the "ours" step's -join flag.
func benchJoin(name string) (*api.Join, error) {
	left := api.EventsSource(leftTable, api.NewQuery(api.Selects("row_id", "user_id"), "ts"))
	m := map[string]string{"user_id": "key"}
	var parts []*api.JoinPart
	switch name {
	case joinMain:
		parts = []*api.JoinPart{api.Part(amounts(eventsTable), m)}
	case joinSmall:
		parts = []*api.JoinPart{api.Part(amounts(eventsTableSmall), m)}
	case joinLastK:
		parts = []*api.JoinPart{api.Part(lastAmounts(eventsTable), m)}
	case joinThree:
		parts = []*api.JoinPart{
			api.Part(amounts(eventsTable), m),
			api.Part(recentAmounts(eventsTable), m),
			api.Part(lastAmounts(eventsTable), m),
		}
	default:
		return nil, fmt.Errorf("unknown join %q", name)
	}
	j := api.NewJoin("bench."+name, left, parts...)
	j.MetaData.OutputNamespace = "bench"
	return j, nil
}
