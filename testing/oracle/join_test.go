// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// purchasesTables holds data.purchases (events) and data.checkouts (an
// events left). T0 = 2024-01-10 12:02:00.000; the 3-day window at T0 is
// exactly [01-07 12:02:00.000, T0), and with hop tails [01-07 12:00, T0)
// (tail hop 5 min).
//
//	p1 a   1  01-07 12:02:00.000  (= T0 - 3d: in)
//	p2 a   2  01-07 12:01:59.999  (T0 - 3d - 1 ms: out; in with hop tails)
//	p3 a   4  01-10 12:02:00.000  (= T0: out)
//	p4 a   8  01-10 12:01:59.999  (in)
//	p5 b  16  01-10 11:02
//	p6 a  32  12-31 12:02         (only unbounded)
//	p7 a  64  01-07 12:00:00.000  (out; in with hop tails)
//	p8 a 128  01-07 11:59:59.999  (out in both)
//	p9 -  256 null key            (dropped)
func purchasesTables() (Tables, map[string]*arrow.Schema) {
	p := func(u any, price int64, ts, ds string) Row {
		return Row{"user_id": u, "price": price, "ts": at(ts), "ds": ds}
	}
	c := func(u any, ts, ds string) Row { return Row{"user_id": u, "ts": at(ts), "ds": ds} }
	return Tables{
			"data.purchases": {
				p("a", 1, "2024-01-07 12:02:00.000", "2024-01-07"),
				p("a", 2, "2024-01-07 12:01:59.999", "2024-01-07"),
				p("a", 4, "2024-01-10 12:02:00.000", "2024-01-10"),
				p("a", 8, "2024-01-10 12:01:59.999", "2024-01-10"),
				p("b", 16, "2024-01-10 11:02", "2024-01-10"),
				p("a", 32, "2023-12-31 12:02", "2023-12-31"),
				p("a", 64, "2024-01-07 12:00:00.000", "2024-01-07"),
				p("a", 128, "2024-01-07 11:59:59.999", "2024-01-07"),
				p(nil, 256, "2024-01-10 12:01:59.999", "2024-01-10"),
			},
			"data.checkouts": {
				c("a", "2024-01-10 12:02", "2024-01-10"),
				c("b", "2024-01-10 12:02", "2024-01-10"),
				c("c", "2024-01-10 12:02", "2024-01-10"),
				c(nil, "2024-01-10 12:02", "2024-01-10"),
				c("a", "2024-01-11 12:02", "2024-01-11"),
				c("a", "2024-01-12 12:02", "2024-01-12"), // not asked for
			},
		}, map[string]*arrow.Schema{
			"data.purchases": sch("user_id", tStr, "price", tI64, "ts", tI64, "ds", tStr),
			"data.checkouts": sch("user_id", tStr, "ts", tI64, "ds", tStr),
		}
}

func purchasesGroupBy() *api.GroupBy {
	g := api.NewGroupBy("team.purchases.v1",
		[]*api.Source{api.EventsSource("data.purchases", api.NewQuery(api.Selects("user_id", "price"), "ts"))},
		[]string{"user_id"}, api.Sum("price", api.Days(3), api.Window{}), api.CountOf("price", api.Days(3)))
	g.Accuracy = api.Ptr(api.Temporal)
	return g
}

func checkoutsJoin(parts ...*api.JoinPart) *api.Join {
	return api.NewJoin("team.training.v1",
		api.EventsSource("data.checkouts", api.NewQuery(api.Selects("user_id"), "ts")), parts...)
}

func TestJoinTemporalEvents(t *testing.T) {
	tables, types := purchasesTables()
	j := checkoutsJoin(api.Part(purchasesGroupBy(), nil))
	days := []string{"2024-01-11", "2024-01-10"}
	const s3, s, c3 = "team_purchases_v1_price_sum_3d", "team_purchases_v1_price_sum", "team_purchases_v1_price_count_3d"
	row := func(u any, ts string, ds string, sum3, sum, cnt any) m {
		return m{"user_id": u, "ts": at(ts), "ds": ds, s3: sum3, s: sum, c3: cnt}
	}
	rows, err := JoinBackfill(j, tables, types, days, Exact)
	checkRows(t, "exact", rows, err, []m{
		// 01-11 first (days order). T1 = 01-11 12:02: 3d [01-08 12:02, T1) = p3 + p4;
		// unbounded: every a event (all before T1) = 1+2+4+8+32+64+128.
		row("a", "2024-01-11 12:02", "2024-01-11", int64(12), int64(239), int64(2)),
		// T0: 3d = p1 + p4 (p2 is 1 ms early, p3 at T0, p7/p8 early); unbounded all a with ts < T0.
		row("a", "2024-01-10 12:02", "2024-01-10", int64(9), int64(1+2+8+32+64+128), int64(2)),
		row("b", "2024-01-10 12:02", "2024-01-10", int64(16), int64(16), int64(1)),
		// c: no events; null key: no match.
		row("c", "2024-01-10 12:02", "2024-01-10", nil, nil, nil),
		row(nil, "2024-01-10 12:02", "2024-01-10", nil, nil, nil),
	})
	if err == nil {
		if c := rows[1][s3]; !c.Aggregated || c.T != at("2024-01-10 12:02") || c.Mode != Exact {
			t.Errorf("a@T0 %s: aggregated %v T %d mode %v, want an aggregated cell at T0", s3, c.Aggregated, c.T, c.Mode)
		}
		if c := rows[3][s3]; !c.Aggregated { // c has a row (TEMPORAL: every non-null key is queried)
			t.Errorf("c: %s must be an aggregated cell over no events", s3)
		}
		if c := rows[4][s3]; c.Aggregated {
			t.Errorf("null key: %s must be an exact null", s3)
		}
	}
	rows, err = JoinBackfill(j, tables, types, days, Hop)
	checkRows(t, "hop", rows, err, []m{
		// round(T1 - 3d, 5 min) = 01-08 12:00: same events as exact.
		row("a", "2024-01-11 12:02", "2024-01-11", int64(12), int64(239), int64(2)),
		// round(T0 - 3d, 5 min) = 01-07 12:00: p1, p2, p4, p7.
		row("a", "2024-01-10 12:02", "2024-01-10", int64(1+2+8+64), int64(235), int64(4)),
		row("b", "2024-01-10 12:02", "2024-01-10", int64(16), int64(16), int64(1)),
		row("c", "2024-01-10 12:02", "2024-01-10", nil, nil, nil),
		row(nil, "2024-01-10 12:02", "2024-01-10", nil, nil, nil),
	})
}

func TestJoinLeftQuery(t *testing.T) {
	tables, types := purchasesTables()
	q := api.NewQuery(api.Selects("user_id"), "ts")
	q.Wheres = []string{"user_id <> 'b'"} // null <> 'b' is null: the null-key row goes too
	q.EndPartition = "2024-01-10"
	j := api.NewJoin("team.training.v2", api.EventsSource("data.checkouts", q), api.Part(purchasesGroupBy(), nil))
	rows, err := JoinBackfill(j, tables, types, []string{"2024-01-11", "2024-01-10"}, Exact)
	checkRows(t, "left query", rows, err, []m{
		{"user_id": "a", "ts": at("2024-01-10 12:02"), "ds": "2024-01-10", "team_purchases_v1_price_sum_3d": int64(9),
			"team_purchases_v1_price_sum": int64(235), "team_purchases_v1_price_count_3d": int64(2)},
		{"user_id": "c", "ts": at("2024-01-10 12:02"), "ds": "2024-01-10", "team_purchases_v1_price_sum_3d": nil,
			"team_purchases_v1_price_sum": nil, "team_purchases_v1_price_count_3d": nil},
	})
}

func TestJoinSnapshotEvents(t *testing.T) {
	views, vtypes := viewsTable()
	tables := Tables{
		"data.views": views["data.views"],
		"data.clicks": { // no ts column: ts = end of ds - 1 ms
			{"user_id": "a", "c": int64(1), "ds": "2024-01-09"},
			{"user_id": "a", "c": int64(10), "ds": "2024-01-08"},
			{"user_id": "a", "c": int64(100), "ds": "2024-01-10"},
		},
		// Left rows on 01-10 (UTC day of ts) but in partition 01-11: the
		// day of ts decides.
		"data.visits": {
			{"user_id": "a", "ts": at("2024-01-10 15:00"), "ds": "2024-01-11"},
			{"user_id": "y", "ts": at("2024-01-10 15:00"), "ds": "2024-01-11"},
			{"user_id": "w", "ts": at("2024-01-10 15:00"), "ds": "2024-01-11"},
			{"user_id": "z", "ts": at("2024-01-10 15:00"), "ds": "2024-01-11"},
		},
	}
	types := map[string]*arrow.Schema{
		"data.views":  vtypes["data.views"],
		"data.clicks": sch("user_id", tStr, "c", tI64),
		"data.visits": sch("user_id", tStr, "ts", tI64),
	}
	clicks := api.NewGroupBy("team.clicks", []*api.Source{api.EventsSource("data.clicks", api.NewQuery(api.Selects("user_id", "c"), ""))},
		[]string{"user_id"}, api.Sum("c", api.Days(1), api.Days(2)))
	j := api.NewJoin("team.visits_join", api.EventsSource("data.visits", api.NewQuery(api.Selects("user_id"), "ts")),
		api.Part(viewsGroupBy(), nil), api.Part(clicks, nil))
	row := func(u string, sum1d, sum, total, c1, c2 any) m {
		return m{"user_id": u, "ts": at("2024-01-10 15:00"), "ds": "2024-01-11",
			"team_views_n_sum_1d": sum1d, "team_views_n_all": sum, "team_views_n_total": total,
			"team_clicks_c_sum_1d": c1, "team_clicks_c_sum_2d": c2}
	}
	for _, mode := range []TailMode{Exact, Hop} {
		rows, err := JoinBackfill(j, tables, types, []string{"2024-01-11"}, mode)
		checkRows(t, "snapshot "+mode.String(), rows, err, []m{
			// T = 01-10 00:00, partitions <= 01-09. views a: v1, v2, v3 count
			// (v4, v5 in partition 01-10; v6 has ts >= T): 1d = v1 + v3 = 5, all = 7.
			// clicks a: ds 01-09 (ts 01-09 23:59:59.999) in 1d; + ds 01-08 in 2d.
			row("a", int64(5), int64(7), int64(7), int64(1), int64(11)),
			// y: the snapshot drops its all-null row, so even n_total is null.
			row("y", nil, nil, nil, nil, nil),
			row("w", nil, int64(3), int64(3), nil, nil),
			// z: its only event is in partition 01-10.
			row("z", nil, nil, nil, nil, nil),
		})
		if err == nil {
			if c := rows[0]["team_views_n_all"]; c.T != at("2024-01-10") {
				t.Errorf("snapshot part T = %d, want 01-10 00:00", c.T)
			}
		}
	}
}

func TestJoinEventsLeftEntities(t *testing.T) {
	users, utypes := usersTable()
	tables := Tables{
		"data.users": users["data.users"],
		"data.visits": {
			// D = 01-10 (day of ts, though ds is 01-11): snapshot partition 01-09.
			{"user_id": "a", "ts": at("2024-01-10 15:00"), "ds": "2024-01-11"},
			{"user_id": "b", "ts": at("2024-01-10 15:00"), "ds": "2024-01-11"},
			// D = 01-11: snapshot partition 01-10.
			{"user_id": "a", "ts": at("2024-01-11 00:00"), "ds": "2024-01-11"},
		},
	}
	types := map[string]*arrow.Schema{"data.users": utypes["data.users"], "data.visits": sch("user_id", tStr, "ts", tI64)}
	for _, acc := range []*api.Accuracy{nil, api.Ptr(api.Snapshot), api.Ptr(api.Temporal)} { // no mutation table: accuracy does not matter
		scores := userScores()
		scores.Accuracy = acc
		j := api.NewJoin("team.visits_users", api.EventsSource("data.visits", api.NewQuery(api.Selects("user_id"), "ts")),
			api.Part(scores, nil), api.Part(userTier(), nil))
		rows, err := JoinBackfill(j, tables, types, []string{"2024-01-11"}, Exact)
		checkRows(t, "events x entities", rows, err, []m{
			// partition 01-09, T = 01-10 00:00: 1+2+4 = 7; 1d [01-09, 01-10): 2+4 = 6; tier: the
			// row with score < 2.
			{"user_id": "a", "ts": at("2024-01-10 15:00"), "ds": "2024-01-11",
				"team_user_scores_score_sum": int64(7), "team_user_scores_score_sum_1d": int64(6), "team_user_tier_tier": "gold"},
			{"user_id": "b", "ts": at("2024-01-10 15:00"), "ds": "2024-01-11",
				"team_user_scores_score_sum": nil, "team_user_scores_score_sum_1d": nil, "team_user_tier_tier": nil},
			// partition 01-10, T = 01-11 00:00: 1000 (ts 01-10 01:00).
			{"user_id": "a", "ts": at("2024-01-11 00:00"), "ds": "2024-01-11",
				"team_user_scores_score_sum": int64(1000), "team_user_scores_score_sum_1d": int64(1000), "team_user_tier_tier": "new"},
		})
	}
}

// balances: an entity source with mutations.
//
//	snapshot 01-08: a v 7000                          (not read)
//	snapshot 01-09: a v 20  ts 01-05 00:00           (same value as below, other ts)
//	                a v 10  ts 01-07 00:00
//	                a v 20  ts 01-08 12:00
//	                a v 9000 ts 01-10 03:00           (ts >= 01-10 00:00: not in the day's state)
//	snapshot 01-10: a v 5000 ts 01-10 12:00
//	mutations 01-10: m1 01:00 before v 10 ts 01-07    (update 10 -> 15)
//	                 m2 01:00 after  v 15 ts 01-07
//	                 m8 09:30 before v 7  ts 01-10 05:00   (delete of m3; listed before it)
//	                 m3 05:00 after  v 7  ts 01-10 05:00   (insert)
//	                 m4 09:00 before v 20 ts 01-08 12:00   (delete)
//	                 m5 06:00 after  v 1000 ts 01-10 05:30 (insert; listed after m4)
//	                 m6 01-09 23:00 after v 50000      (mutation_ts before 01-10: ignored)
//	mutations 01-11: m7 01-10 02:00 after v 60000     (partition 01-11, mutation_ts 01-10: ignored)
//	                 m9 01-10 04:00 before v null     (a null input: ignored by delete)
func balancesTables() (Tables, map[string]*arrow.Schema) {
	s := func(v int64, ts, ds string) Row { return Row{"user_id": "a", "v": v, "ts": at(ts), "ds": ds} }
	mu := func(mts string, before bool, v int64, ts, ds string) Row {
		return Row{"user_id": "a", "v": v, "ts": at(ts), "mts": at(mts), "before": before, "ds": ds}
	}
	l := func(ts, ds string) Row { return Row{"user_id": "a", "ts": at(ts), "ds": ds} }
	return Tables{
			"data.balances": {
				s(7000, "2024-01-08 00:00", "2024-01-08"),
				s(20, "2024-01-05 00:00", "2024-01-09"),
				s(10, "2024-01-07 00:00", "2024-01-09"),
				s(20, "2024-01-08 12:00", "2024-01-09"),
				s(9000, "2024-01-10 03:00", "2024-01-09"),
				s(5000, "2024-01-10 12:00", "2024-01-10"),
			},
			"data.balance_mutations": {
				mu("2024-01-10 01:00", true, 10, "2024-01-07 00:00", "2024-01-10"),
				mu("2024-01-10 01:00", false, 15, "2024-01-07 00:00", "2024-01-10"),
				mu("2024-01-10 09:30", true, 7, "2024-01-10 05:00", "2024-01-10"),
				mu("2024-01-10 05:00", false, 7, "2024-01-10 05:00", "2024-01-10"),
				mu("2024-01-10 09:00", true, 20, "2024-01-08 12:00", "2024-01-10"),
				mu("2024-01-10 06:00", false, 1000, "2024-01-10 05:30", "2024-01-10"),
				mu("2024-01-09 23:00", false, 50000, "2024-01-09 23:00", "2024-01-10"),
				mu("2024-01-10 02:00", false, 60000, "2024-01-10 02:00", "2024-01-11"),
				{"user_id": "a", "v": nil, "ts": at("2024-01-10 04:00"), "mts": at("2024-01-10 04:00"), "before": true, "ds": "2024-01-10"},
			},
			"data.requests": {
				l("2024-01-10 00:30", "2024-01-10"),
				l("2024-01-10 06:00", "2024-01-10"),
				l("2024-01-10 10:00", "2024-01-10"),
				l("2024-01-11 08:00", "2024-01-11"),
			},
		}, map[string]*arrow.Schema{
			"data.balances":          sch("user_id", tStr, "v", tI64, "ts", tI64, "ds", tStr),
			"data.balance_mutations": sch("user_id", tStr, "v", tI64, "ts", tI64, "mts", tI64, "before", tBool, "ds", tStr),
			"data.requests":          sch("user_id", tStr, "ts", tI64, "ds", tStr),
		}
}

func balancesGroupBy() *api.GroupBy {
	q := api.NewQuery(api.Selects("user_id", "v"), "ts")
	q.MutationTimeColumn, q.ReversalColumn = "mts", "before"
	g := api.NewGroupBy("team.balances", []*api.Source{{Entities: &api.EntitySource{
		SnapshotTable: "data.balances", MutationTable: "data.balance_mutations", Query: q}}},
		[]string{"user_id"}, api.Sum("v"), api.CountOf("v"), api.NewAggregation("v", api.OpMax), api.Sum("v", api.Days(3)),
		api.NewAggregation("v", api.OpUniqueCount))
	g.Accuracy = api.Ptr(api.Temporal)
	return g
}

func TestJoinEntityMutations(t *testing.T) {
	tables, types := balancesTables()
	j := api.NewJoin("team.requests_join", api.EventsSource("data.requests", api.NewQuery(api.Selects("user_id"), "ts")),
		api.Part(balancesGroupBy(), nil))
	row := func(ts, ds string, sum, cnt, mx, sum3, uniq int64) m {
		return m{"user_id": "a", "ts": at(ts), "ds": ds, "team_balances_v_sum": sum, "team_balances_v_count": cnt,
			"team_balances_v_max": mx, "team_balances_v_sum_3d": sum3, "team_balances_v_unique_count": uniq}
	}
	rows, err := JoinBackfill(j, tables, types, []string{"2024-01-10", "2024-01-11"}, Exact)
	checkRows(t, "mutations", rows, err, []m{
		// 00:30: no mutation yet: {20@01-05, 10, 20}; 3d = [01-07 00:30, T): 20.
		row("2024-01-10 00:30", "2024-01-10", 50, 3, 20, 20, 2),
		// 06:00: m1, m2, m3 (m5 has mutation_ts = T: not yet, though its ts is before T).
		// Deletable: {20@01-05, 20, 15, 7}; MAX and UNIQUE_COUNT ignore the retraction of
		// 10: {20, 10, 20, 15, 7}; 3d = [01-07 06:00, T): 20 + 7.
		row("2024-01-10 06:00", "2024-01-10", 62, 4, 20, 27, 4),
		// 10:00: m1, m2, m3, m5, m4, m8 in mutation_ts order (m8 retracts m3's insert,
		// listed after it in the table; m4 retracts the 20 of ts 01-08 12:00, not the one
		// of 01-05): {20@01-05, 15, 1000}; MAX and UNIQUE_COUNT over
		// {20, 10, 20, 15, 7, 1000}; 3d = [01-07 10:00, T): 1000 (20 and 7 retracted).
		row("2024-01-10 10:00", "2024-01-10", 1035, 3, 1000, 1000, 5),
		// 01-11 08:00: snapshot 01-10 {5000}; m7 has mutation_ts before 01-11 00:00.
		row("2024-01-11 08:00", "2024-01-11", 5000, 1, 5000, 5000, 1),
	})

	// The GroupBy's own backfill reads the snapshot partition only.
	gbRows, err := GroupByBackfill(balancesGroupBy(), tables, types, []string{"2024-01-09"}, Exact)
	checkRows(t, "balances backfill", gbRows, err, []m{
		// T = 01-10 00:00: 9000's ts is after T; 3d = [01-07 00:00, T) starts exactly at 10's ts.
		{"user_id": "a", "v_sum": int64(50), "v_count": int64(3), "v_max": int64(20), "v_sum_3d": int64(30),
			"v_unique_count": int64(2), "ds": "2024-01-09"},
	})

	// An unmatched retraction outside every window is ignored (Chronon deletes only
	// rows in the window), here for a GroupBy with a 1-day SUM only.
	tables3, types3 := balancesTables()
	tables3["data.balance_mutations"] = append(tables3["data.balance_mutations"],
		Row{"user_id": "a", "v": int64(11), "ts": at("2024-01-01 00:00"), "mts": at("2024-01-10 00:10"), "before": true, "ds": "2024-01-10"})
	day := balancesGroupBy()
	day.MetaData = api.NewMetaData("team.balances_1d")
	day.Aggregations = []*api.Aggregation{api.Sum("v", api.Days(1))}
	rows, err = JoinBackfill(api.NewJoin("team.requests_1d", j.Left, api.Part(day, nil)), tables3, types3, []string{"2024-01-10"}, Exact)
	checkRows(t, "old retraction", rows, err, []m{
		// 1d = [01-09 T, T): the snapshot rows are older; then m3 (7) and m5 (1000).
		{"user_id": "a", "ts": at("2024-01-10 00:30"), "ds": "2024-01-10", "team_balances_1d_v_sum_1d": nil},
		{"user_id": "a", "ts": at("2024-01-10 06:00"), "ds": "2024-01-10", "team_balances_1d_v_sum_1d": int64(7)},
		{"user_id": "a", "ts": at("2024-01-10 10:00"), "ds": "2024-01-10", "team_balances_1d_v_sum_1d": int64(1000)},
	})

	// A retraction of a row that was never there is an error.
	bad := balancesTables
	tables2, types2 := bad()
	tables2["data.balance_mutations"] = append(tables2["data.balance_mutations"],
		Row{"user_id": "a", "v": int64(11), "ts": at("2024-01-07 00:00"), "mts": at("2024-01-10 00:10"), "before": true, "ds": "2024-01-10"})
	if _, err := JoinBackfill(j, tables2, types2, []string{"2024-01-10"}, Exact); err == nil || !strings.Contains(err.Error(), "retracts no earlier row") {
		t.Errorf("unmatched retraction: got %v", err)
	}
}

func TestJoinEntitiesLeft(t *testing.T) {
	users, utypes := usersTable()
	tables := Tables{
		"data.users": users["data.users"],
		"data.members": {
			{"user_id": "a", "ds": "2024-01-10"},
			{"user_id": "b", "ds": "2024-01-10"},
			{"user_id": "a", "ds": "2024-01-09"},
		},
		"data.buys": {
			{"user_id": "a", "price": int64(1), "ts": at("2024-01-10 23:59:59.999"), "ds": "2024-01-10"},
			{"user_id": "a", "price": int64(2), "ts": at("2024-01-11 00:00"), "ds": "2024-01-11"},
			{"user_id": "a", "price": int64(4), "ts": at("2024-01-09 10:00"), "ds": "2024-01-09"},
			{"user_id": "a", "price": int64(8), "ts": at("2024-01-10 10:00"), "ds": "2024-01-11"},
		},
	}
	types := map[string]*arrow.Schema{
		"data.users":   utypes["data.users"],
		"data.members": sch("user_id", tStr),
		"data.buys":    sch("user_id", tStr, "price", tI64, "ts", tI64),
	}
	buys := api.NewGroupBy("team.buys", []*api.Source{api.EventsSource("data.buys", api.NewQuery(api.Selects("user_id", "price"), "ts"))},
		[]string{"user_id"}, api.Sum("price"), api.Sum("price", api.Days(1)))
	buys.Accuracy = api.Ptr(api.Temporal) // ignored with an entities left
	j := api.NewJoin("team.members_join", api.EntitiesSource("data.members", nil), api.Part(buys, nil), api.Part(userScores(), nil))
	rows, err := JoinBackfill(j, tables, types, []string{"2024-01-10", "2024-01-09"}, Exact)
	checkRows(t, "entities left", rows, err, []m{
		// D = 01-10, T = 01-11 00:00: buys of partitions <= 01-10: 1 and 4 (8 is in 01-11);
		// 1d [01-10, 01-11): 1. users partition 01-10: 1000.
		{"user_id": "a", "ds": "2024-01-10", "team_buys_price_sum": int64(5), "team_buys_price_sum_1d": int64(1),
			"team_user_scores_score_sum": int64(1000), "team_user_scores_score_sum_1d": int64(1000)},
		{"user_id": "b", "ds": "2024-01-10", "team_buys_price_sum": nil, "team_buys_price_sum_1d": nil,
			"team_user_scores_score_sum": nil, "team_user_scores_score_sum_1d": nil},
		// D = 01-09, T = 01-10 00:00: buys 4; users partition 01-09: 7, 1d 6.
		{"user_id": "a", "ds": "2024-01-09", "team_buys_price_sum": int64(4), "team_buys_price_sum_1d": int64(4),
			"team_user_scores_score_sum": int64(7), "team_user_scores_score_sum_1d": int64(6)},
	})
}

func TestJoinKeyMappingPrefixBuckets(t *testing.T) {
	tables := Tables{
		"data.web": {
			{"user_id": "u1", "amount": int64(5), "channel": "web", "ts": at("2024-01-10 10:00"), "ds": "2024-01-10"},
			{"user_id": "u1", "amount": int64(7), "channel": "mobile", "ts": at("2024-01-10 11:00"), "ds": "2024-01-10"},
			{"user_id": "u2", "amount": int64(100), "channel": "web", "ts": at("2024-01-10 11:59"), "ds": "2024-01-10"},
			{"user_id": "u1", "amount": int64(1), "channel": nil, "ts": at("2024-01-10 09:00"), "ds": "2024-01-10"},
		},
		"data.app": {
			{"uid": "u1", "amt": int64(3), "ts": at("2024-01-10 08:00"), "ds": "2024-01-10"},
			{"uid": "u1", "amt": int64(-1), "ts": at("2024-01-10 08:30"), "ds": "2024-01-10"},
			{"uid": "u2", "amt": int64(50), "ts": at("2024-01-10 13:00"), "ds": "2024-01-10"},
		},
		"data.orders": {
			{"buyer": "u1", "seller": "u2", "ts": at("2024-01-10 12:00"), "ds": "2024-01-10"},
			{"buyer": "u2", "seller": "u3", "ts": at("2024-01-10 12:00"), "ds": "2024-01-10"},
		},
	}
	types := map[string]*arrow.Schema{
		"data.web":    sch("user_id", tStr, "amount", tI64, "channel", tStr, "ts", tI64),
		"data.app":    sch("uid", tStr, "amt", tI64, "ts", tI64),
		"data.orders": sch("buyer", tStr, "seller", tStr, "ts", tI64),
	}
	app := api.NewQuery(api.NewOrderedMap("user_id", "uid", "amount", "amt", "channel", "'app'"), "ts")
	app.Wheres = []string{"amt > 0"}
	spend := api.NewGroupBy("team.spend", []*api.Source{
		api.EventsSource("data.web", api.NewQuery(api.Selects("user_id", "amount", "channel"), "ts")),
		api.EventsSource("data.app", app),
	}, []string{"user_id"}, &api.Aggregation{InputColumn: "amount", Operation: api.OpSum, Buckets: []string{"channel"}}, api.CountOf("amount"))
	spend.Accuracy = api.Ptr(api.Temporal)
	buyer := &api.JoinPart{GroupBy: spend, KeyMapping: map[string]string{"buyer": "user_id"}, Prefix: api.Ptr("buyer")}
	seller := &api.JoinPart{GroupBy: spend, KeyMapping: map[string]string{"seller": "user_id"}, Prefix: api.Ptr("seller")}
	j := api.NewJoin("team.orders_join", api.EventsSource("data.orders", nil), buyer, seller)
	rows, err := JoinBackfill(j, tables, types, []string{"2024-01-10"}, Exact)
	checkRows(t, "key mapping", rows, err, []m{
		// buyer u1 before 12:00: web 5, mobile 7, app 3 (the -1 fails the raw where
		// amt > 0); the null-channel row counts in COUNT only: 5, 7, 1, 3.
		// seller u2: web 100 (its app row at 13:00 is after T).
		{"buyer": "u1", "seller": "u2", "ts": at("2024-01-10 12:00"), "ds": "2024-01-10",
			"buyer_team_spend_amount_sum_by_channel":  m{"web": int64(5), "mobile": int64(7), "app": int64(3)},
			"buyer_team_spend_amount_count":           int64(4),
			"seller_team_spend_amount_sum_by_channel": m{"web": int64(100)},
			"seller_team_spend_amount_count":          int64(1)},
		// buyer u2 as above; seller u3 has no events.
		{"buyer": "u2", "seller": "u3", "ts": at("2024-01-10 12:00"), "ds": "2024-01-10",
			"buyer_team_spend_amount_sum_by_channel":  m{"web": int64(100)},
			"buyer_team_spend_amount_count":           int64(1),
			"seller_team_spend_amount_sum_by_channel": nil,
			"seller_team_spend_amount_count":          nil},
	})
}

func TestJoinDerivations(t *testing.T) {
	tables, types := purchasesTables()
	const s3, s, c3 = "team_purchases_v1_price_sum_3d", "team_purchases_v1_price_sum", "team_purchases_v1_price_count_3d"
	days := []string{"2024-01-10"}

	// With "*": part columns kept except the renamed one; user_id coalesced with a
	// default for the null key.
	j := checkoutsJoin(api.Part(purchasesGroupBy(), nil))
	j.Derivations = []*api.Derivation{
		{Name: "*", Expression: "*"},
		{Name: "total", Expression: s},
		{Name: "ratio", Expression: s3 + " / " + s},
		{Name: "user_id", Expression: "'anon'"},
	}
	rows, err := JoinBackfill(j, tables, types, days, Exact)
	row := func(u any, sum3, cnt, total, ratio any) m {
		return m{"user_id": u, "ts": at("2024-01-10 12:02"), "ds": "2024-01-10", s3: sum3, c3: cnt, "total": total, "ratio": ratio}
	}
	checkRows(t, "derivations with *", rows, err, []m{
		row("a", int64(9), int64(2), int64(235), 9.0/235),
		row("b", int64(16), int64(1), int64(16), 1.0),
		row("c", nil, nil, nil, nil),
		row("anon", nil, nil, nil, nil),
	})
	if err == nil {
		if !rows[0]["total"].Aggregated {
			t.Errorf("a rename-only derivation keeps the aggregated cell")
		}
		if rows[0]["ratio"].Aggregated {
			t.Errorf("a computed derivation is an exact value")
		}
	}

	// Without "*": left columns and derived columns only; a derivation over an
	// absent part sees nulls.
	// A derivation named like a part column is coalesce(column, expression), typed
	// as the coalesce (bigint here, though -1 alone is an int).
	j.Derivations = []*api.Derivation{{Name: "cnt", Expression: "coalesce(" + c3 + ", 0)"}, {Name: s3, Expression: "-1"}}
	rows, err = JoinBackfill(j, tables, types, days, Exact)
	row2 := func(u any, cnt, sum3 int64) m {
		return m{"user_id": u, "ts": at("2024-01-10 12:02"), "ds": "2024-01-10", "cnt": cnt, s3: sum3}
	}
	checkRows(t, "derivations without *", rows, err, []m{
		row2("a", 2, 9), row2("b", 1, 16), row2("c", 0, -1), row2(nil, 0, -1),
	})
	if err == nil && !rows[0][s3].Aggregated {
		t.Errorf("coalesce over a non-null part column keeps its cell")
	}
}

func TestCheckRow(t *testing.T) {
	tables, types := purchasesTables()
	rows, err := JoinBackfill(checkoutsJoin(api.Part(purchasesGroupBy(), nil)), tables, types, []string{"2024-01-10"}, Exact)
	if err != nil {
		t.Fatal(err)
	}
	good := m{"user_id": "a", "ts": at("2024-01-10 12:02"), "ds": "2024-01-10",
		"team_purchases_v1_price_sum_3d": int64(9), "team_purchases_v1_price_sum": int64(235), "team_purchases_v1_price_count_3d": int64(2)}
	if err := CheckRow(rows[0], good, CheckOptions{}); err != nil {
		t.Fatalf("good row: %v", err)
	}
	edit := func(f func(m)) m {
		g := m{}
		for k, v := range good {
			g[k] = v
		}
		f(g)
		return g
	}
	for _, c := range []struct {
		name string
		got  m
		want []string // substrings of the error
	}{
		{"wrong sum (off by one event)", edit(func(g m) { g["team_purchases_v1_price_sum_3d"] = int64(11) }),
			[]string{`column "team_purchases_v1_price_sum_3d"`, "got 11"}},
		{"missing column", edit(func(g m) { delete(g, "team_purchases_v1_price_sum") }),
			[]string{`column "team_purchases_v1_price_sum": missing`}},
		{"extra column", edit(func(g m) { g["extra"] = int64(1) }), []string{`column "extra": not expected`}},
		{"wrong type of a left column", edit(func(g m) { g["ts"] = int32(at("2024-01-10 12:02") % 1000) }), []string{`column "ts"`}},
		{"wrong key", edit(func(g m) { g["user_id"] = "b" }), []string{`column "user_id"`, `want "a"`}},
		{"two faults", edit(func(g m) { g["ds"] = "2024-01-11"; g["team_purchases_v1_price_count_3d"] = nil }),
			[]string{`column "ds"`, `column "team_purchases_v1_price_count_3d"`}},
		{"typed nil", edit(func(g m) { g["user_id"] = []any(nil) }), []string{`column "user_id"`}},
	} {
		err := CheckRow(rows[0], c.got, CheckOptions{})
		if err == nil {
			t.Errorf("%s: CheckRow accepted the row", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not mention %q", c.name, err, w)
			}
		}
	}

	// Exact float cells accept a relative error within FloatTol.
	want := ExpectedRow{"x": {Value: 0.1 + 0.2}, "n": {Value: nil}}
	if err := CheckRow(want, m{"x": 0.3, "n": nil}, CheckOptions{}); err != nil {
		t.Errorf("float within tolerance: %v", err)
	}
	if err := CheckRow(want, m{"x": 0.31, "n": nil}, CheckOptions{}); err == nil {
		t.Errorf("float beyond tolerance accepted")
	}
	if err := CheckRow(want, m{"x": float32(0.3), "n": nil}, CheckOptions{}); err == nil {
		t.Errorf("float32 for a float64 cell accepted")
	}
}

func TestBackfillErrors(t *testing.T) {
	users, utypes := usersTable()
	tables, types := purchasesTables()
	for k, v := range users {
		tables[k] = v
	}
	for k, v := range utypes {
		types[k] = v
	}
	// Several rows of one key in a no-aggregation entity part.
	dup := api.NewGroupBy("team.dup", []*api.Source{api.EntitiesSource("data.users", api.NewQuery(api.Selects("user_id", "tier"), ""))},
		[]string{"user_id"})
	visits := api.EventsSource("data.checkouts", api.NewQuery(api.Selects("user_id"), "ts"))
	j := api.NewJoin("team.j", visits, api.Part(dup, nil))
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"duplicate passthrough rows", func() error {
			_, err := JoinBackfill(j, tables, types, []string{"2024-01-10"}, Exact)
			return err
		}, "3 rows of key"},
		{"events without aggregations in a join", func() error {
			g := api.NewGroupBy("team.raw", []*api.Source{api.EventsSource("data.purchases", api.NewQuery(api.Selects("user_id", "price"), "ts"))},
				[]string{"user_id"})
			_, err := JoinBackfill(api.NewJoin("team.j2", visits, api.Part(g, nil)), tables, types, []string{"2024-01-10"}, Exact)
			return err
		}, "without aggregations"},
		{"skew keys", func() error {
			j := checkoutsJoin(api.Part(purchasesGroupBy(), nil))
			j.SkewKeys = map[string][]string{"user_id": {"'a'"}}
			_, err := JoinBackfill(j, tables, types, []string{"2024-01-10"}, Exact)
			return err
		}, "skew keys"},
		{"missing schema", func() error {
			_, err := JoinBackfill(checkoutsJoin(api.Part(purchasesGroupBy(), nil)), tables, map[string]*arrow.Schema{}, []string{"2024-01-10"}, Exact)
			return err
		}, "no schema"},
		{"bad day", func() error {
			_, err := GroupByBackfill(purchasesGroupBy(), tables, types, []string{"2024/01/10"}, Exact)
			return err
		}, "YYYY-MM-DD"},
		{"unmapped key", func() error {
			jp := &api.JoinPart{GroupBy: purchasesGroupBy(), KeyMapping: map[string]string{"buyer": "user_id"}}
			_, err := JoinBackfill(checkoutsJoin(jp), tables, types, []string{"2024-01-10"}, Exact)
			return err
		}, `left column "buyer"`},
		{"windowed entity aggregation without ts", func() error {
			g := api.NewGroupBy("team.nots", []*api.Source{api.EntitiesSource("data.users", api.NewQuery(api.Selects("user_id", "score"), ""))},
				[]string{"user_id"}, api.Sum("score", api.Days(1)))
			types2 := map[string]*arrow.Schema{"data.users": sch("user_id", tStr, "score", tI64, "tier", tStr)}
			_, err := GroupByBackfill(g, tables, types2, []string{"2024-01-09"}, Exact)
			return err
		}, "need a ts"},
	}
	for _, c := range cases {
		err := c.run()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error mentioning %q", c.name, err, c.want)
		}
	}
}
