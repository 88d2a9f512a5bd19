// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// at parses a UTC time "2024-01-10 12:02:00.000" (or without millis or
// seconds, or a bare day) to epoch milliseconds.
func at(s string) int64 {
	for _, layout := range []string{"2006-01-02 15:04:05.000", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixMilli()
		}
	}
	panic("bad time " + s)
}

// sch builds a schema from (name, type) pairs.
func sch(kv ...any) *arrow.Schema {
	var fields []arrow.Field
	for i := 0; i < len(kv); i += 2 {
		fields = append(fields, arrow.Field{Name: kv[i].(string), Type: kv[i+1].(arrow.DataType), Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

// checkRows compares the oracle's rows with hand-computed values: the
// exact answer of every cell (Cell.Want) must equal the hand value, Go type
// included, and CheckRow must accept the hand-computed row.
func checkRows(t *testing.T, name string, got []ExpectedRow, err error, want []m) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if len(got) != len(want) {
		var b strings.Builder
		for _, r := range got {
			v, _ := r.Values()
			b.WriteString(show(map[string]any(v)) + "\n")
		}
		t.Fatalf("%s: %d rows, want %d; got:\n%s", name, len(got), len(want), b.String())
	}
	for i := range want {
		vals, err := got[i].Values()
		if err != nil {
			t.Errorf("%s row %d: %v", name, i, err)
			continue
		}
		cols := map[string]bool{}
		for c := range vals {
			cols[c] = true
		}
		for c := range want[i] {
			cols[c] = true
		}
		names := make([]string, 0, len(cols))
		for c := range cols {
			names = append(names, c)
		}
		sort.Strings(names)
		for _, c := range names {
			g, gok := vals[c]
			w, wok := want[i][c]
			if !gok || !wok || !equalValues(g, w) {
				t.Errorf("%s row %d column %s: oracle %s (present %v), hand %s (present %v)", name, i, c, show(g), gok, show(w), wok)
			}
		}
		if err := CheckRow(got[i], want[i], CheckOptions{}); err != nil {
			t.Errorf("%s row %d: CheckRow rejects the hand-computed row: %v", name, i, err)
		}
	}
}

// views is an events table with inconsistent ds/ts on purpose:
//
//	v1 a  1  01-09 00:00:00.000  ds 01-09
//	v2 a  2  01-08 23:59:59.999  ds 01-08
//	v3 a  4  01-09 23:59:59.999  ds 01-09
//	v4 a  8  01-10 00:00:00.000  ds 01-10
//	v5 a 16  01-09 20:00         ds 01-10 (partition after its ts day)
//	v6 a 32  01-10 01:00         ds 01-09 (partition before its ts day)
//	y  null  01-07 10:00         ds 01-07 (only a null input)
//	w  3     01-05 10:00         ds 01-05
//	z  9     01-10 05:00         ds 01-10
//	-  null key                  ds 01-09 (dropped)
func viewsTable() (Tables, map[string]*arrow.Schema) {
	r := func(u any, n any, ts, ds string) Row {
		return Row{"user_id": u, "n": n, "ts": at(ts), "ds": ds}
	}
	return Tables{"data.views": {
			r("a", int64(1), "2024-01-09 00:00:00.000", "2024-01-09"),
			r("a", int64(2), "2024-01-08 23:59:59.999", "2024-01-08"),
			r("a", int64(4), "2024-01-09 23:59:59.999", "2024-01-09"),
			r("a", int64(8), "2024-01-10 00:00:00.000", "2024-01-10"),
			r("a", int64(16), "2024-01-09 20:00", "2024-01-10"),
			r("a", int64(32), "2024-01-10 01:00", "2024-01-09"),
			r("y", nil, "2024-01-07 10:00", "2024-01-07"),
			r("w", int64(3), "2024-01-05 10:00", "2024-01-05"),
			r("z", int64(9), "2024-01-10 05:00", "2024-01-10"),
			r(nil, int64(1000), "2024-01-09 05:00", "2024-01-09"),
		}}, map[string]*arrow.Schema{
			"data.views": sch("user_id", tStr, "n", tI64, "ts", tI64, "ds", tStr),
		}
}

// viewsGroupBy is a SNAPSHOT GroupBy over data.views: SUM(n) over 1 day
// and unbounded, and the derivations *, n_total = coalesce(n_sum, 0),
// n_all = n_sum (a rename: n_sum itself is no longer output).
func viewsGroupBy() *api.GroupBy {
	g := api.NewGroupBy("team.views",
		[]*api.Source{api.EventsSource("data.views", api.NewQuery(api.Selects("user_id", "n"), "ts"))},
		[]string{"user_id"}, api.Sum("n", api.Days(1), api.Window{}))
	g.Derivations = []*api.Derivation{{Name: "*", Expression: "*"}, {Name: "n_total", Expression: "coalesce(n_sum, 0)"},
		{Name: "n_all", Expression: "n_sum"}}
	return g
}

func TestGroupByBackfillEvents(t *testing.T) {
	tables, types := viewsTable()
	for _, mode := range []TailMode{Exact, Hop} { // midnight query times: both modes agree
		rows, err := GroupByBackfill(viewsGroupBy(), tables, types, []string{"2024-01-09", "2024-01-10"}, mode)
		checkRows(t, "views "+mode.String(), rows, err, []m{
			// 2024-01-09: T = 01-10 00:00, partitions <= 01-09: v1, v2, v3, v6.
			// 1d = [01-09 00:00, 01-10 00:00): v1 + v3 = 5; unbounded (ts < T): 1+2+4 = 7
			// (v6 has ts >= T). y: all outputs null -> dropped. z: no partition <= 01-09.
			{"user_id": "a", "n_sum_1d": int64(5), "n_all": int64(7), "n_total": int64(7), "ds": "2024-01-09"},
			{"user_id": "w", "n_sum_1d": nil, "n_all": int64(3), "n_total": int64(3), "ds": "2024-01-09"},
			// 2024-01-10: T = 01-11 00:00, every partition: 1d = [01-10, 01-11): v4 + v6 = 40;
			// unbounded 1+2+4+8+16+32 = 63.
			{"user_id": "a", "n_sum_1d": int64(40), "n_all": int64(63), "n_total": int64(63), "ds": "2024-01-10"},
			{"user_id": "w", "n_sum_1d": nil, "n_all": int64(3), "n_total": int64(3), "ds": "2024-01-10"},
			{"user_id": "z", "n_sum_1d": int64(9), "n_all": int64(9), "n_total": int64(9), "ds": "2024-01-10"},
		})
		if err == nil {
			c := rows[0]["n_sum_1d"]
			if !c.Aggregated || c.T != at("2024-01-10") || c.Mode != mode || len(c.Events) != 4 {
				t.Errorf("views: n_sum_1d cell: aggregated %v, T %d, mode %v, %d events; want T = 01-10 00:00 over 4 events",
					c.Aggregated, c.T, c.Mode, len(c.Events))
			}
			if c := rows[0]["n_total"]; c.Aggregated {
				t.Errorf("views: derived n_total must be an exact value")
			}
			if c := rows[0]["n_all"]; !c.Aggregated {
				t.Errorf("views: the rename n_all must keep the aggregated cell")
			}
		}
	}
}

func TestGroupByBackfillPartitionsAndWheres(t *testing.T) {
	tables, types := viewsTable()
	q := api.NewQuery(api.NewOrderedMap("user_id", "user_id", "n10", "n * 10"), "ts")
	q.Wheres = []string{"n > 1"} // the raw column n, not the select n10
	q.StartPartition, q.EndPartition = "2024-01-06", "2024-01-09"
	g := api.NewGroupBy("team.views_ranged", []*api.Source{api.EventsSource("data.views", q)}, []string{"user_id"},
		api.Sum("n10"))
	rows, err := GroupByBackfill(g, tables, types, []string{"2024-01-10"}, Exact)
	checkRows(t, "ranged", rows, err, []m{
		// partitions 01-06..01-09 with n > 1: v2 (2), v3 (4), v6 (32) -> 20+40+320;
		// v1 fails the where, v4 and v5 are in 01-10, w in 01-05, y's n is null.
		{"user_id": "a", "n10_sum": int64(380), "ds": "2024-01-10"},
	})

	q2 := api.NewQuery(api.NewOrderedMap("user_id", "user_id", "n10", "n * 10"), "ts")
	q2.Wheres = []string{"n10 > 1"}
	g2 := api.NewGroupBy("team.bad", []*api.Source{api.EventsSource("data.views", q2)}, []string{"user_id"}, api.Sum("n10"))
	if _, err := GroupByBackfill(g2, tables, types, []string{"2024-01-10"}, Exact); err == nil || !strings.Contains(err.Error(), "n10") {
		t.Errorf("a where on a select alias must fail (wheres read raw columns), got %v", err)
	}
}

func TestGroupByBackfillSnapshotTimeFromDs(t *testing.T) {
	// data.clicks has no ts column: SNAPSHOT events get ts = end of ds - 1 ms.
	tables := Tables{"data.clicks": {
		{"user_id": "a", "c": int64(1), "ds": "2024-01-09"},   // ts 01-09 23:59:59.999
		{"user_id": "a", "c": int64(10), "ds": "2024-01-08"},  // ts 01-08 23:59:59.999
		{"user_id": "a", "c": int64(100), "ds": "2024-01-07"}, // ts 01-07 23:59:59.999
	}}
	types := map[string]*arrow.Schema{"data.clicks": sch("user_id", tStr, "c", tI64)}
	g := api.NewGroupBy("team.clicks", []*api.Source{api.EventsSource("data.clicks", api.NewQuery(api.Selects("user_id", "c"), ""))},
		[]string{"user_id"}, api.Sum("c", api.Days(1), api.Days(2)), &api.Aggregation{InputColumn: "c", Operation: api.OpLast})
	rows, err := GroupByBackfill(g, tables, types, []string{"2024-01-09"}, Exact)
	checkRows(t, "clicks", rows, err, []m{
		// T = 01-10 00:00: 1d = [01-09, 01-10) holds 1; 2d = [01-08, 01-10) holds 1 + 10;
		// LAST by ts: the 01-09 row.
		{"user_id": "a", "c_sum_1d": int64(1), "c_sum_2d": int64(11), "c_last": int64(1), "ds": "2024-01-09"},
	})
	// Mixed with a source that has a ts: LAST orders by ts, and the ds-based ts is the
	// last millisecond of the day.
	tables["data.clicks_rt"] = []Row{{"user_id": "a", "c": int64(5), "ts": at("2024-01-09 23:59:59.998"), "ds": "2024-01-09"}}
	types["data.clicks_rt"] = sch("user_id", tStr, "c", tI64, "ts", tI64)
	mixed := api.NewGroupBy("team.clicks_mixed", []*api.Source{
		api.EventsSource("data.clicks_rt", api.NewQuery(api.Selects("user_id", "c"), "ts")),
		api.EventsSource("data.clicks", api.NewQuery(api.Selects("user_id", "c"), "")),
	}, []string{"user_id"}, &api.Aggregation{InputColumn: "c", Operation: api.OpLast})
	rows, err = GroupByBackfill(mixed, tables, types, []string{"2024-01-09"}, Exact)
	checkRows(t, "clicks mixed", rows, err, []m{
		{"user_id": "a", "c_last": int64(1), "ds": "2024-01-09"}, // 01-09 23:59:59.999 beats .998
	})
	// A TEMPORAL events source needs a time.
	g.Accuracy = api.Ptr(api.Temporal)
	if _, err := GroupByBackfill(g, tables, types, []string{"2024-01-09"}, Exact); err == nil {
		t.Errorf("a TEMPORAL events source without time must be an error")
	}
}

// usersTable is an entity snapshot table:
//
//	ds 01-08: a score 100  ts 01-08 10:00 tier old
//	ds 01-09: a score 1    ts 01-05 10:00 tier gold
//	          a score 2    ts 01-09 10:00 tier gold2
//	          a score 4    ts 01-09 23:59:59.999 tier gold3
//	          c score 5    ts 01-01 00:00 tier tin
//	ds 01-10: a score 1000 ts 01-10 01:00 tier new
func usersTable() (Tables, map[string]*arrow.Schema) {
	r := func(u, tier string, score int64, ts, ds string) Row {
		return Row{"user_id": u, "score": score, "tier": tier, "ts": at(ts), "ds": ds}
	}
	return Tables{"data.users": {
			r("a", "old", 100, "2024-01-08 10:00", "2024-01-08"),
			r("a", "gold", 1, "2024-01-05 10:00", "2024-01-09"),
			r("a", "gold2", 2, "2024-01-09 10:00", "2024-01-09"),
			r("a", "gold3", 4, "2024-01-09 23:59:59.999", "2024-01-09"),
			r("c", "tin", 5, "2024-01-01 00:00", "2024-01-09"),
			r("a", "new", 1000, "2024-01-10 01:00", "2024-01-10"),
		}}, map[string]*arrow.Schema{
			"data.users": sch("user_id", tStr, "score", tI64, "tier", tStr, "ts", tI64, "ds", tStr),
		}
}

func userScores() *api.GroupBy {
	return api.NewGroupBy("team.user_scores",
		[]*api.Source{api.EntitiesSource("data.users", api.NewQuery(api.Selects("user_id", "score"), "ts"))},
		[]string{"user_id"}, api.Sum("score", api.Window{}, api.Days(1)))
}

// userTier passes tier through, for rows with score < 2 (one per key and
// partition).
func userTier() *api.GroupBy {
	q := api.NewQuery(api.Selects("user_id", "tier"), "")
	q.Wheres = []string{"score < 2 OR score >= 5"}
	return api.NewGroupBy("team.user_tier", []*api.Source{api.EntitiesSource("data.users", q)}, []string{"user_id"})
}

func TestGroupByBackfillEntities(t *testing.T) {
	tables, types := usersTable()
	rows, err := GroupByBackfill(userScores(), tables, types, []string{"2024-01-09"}, Exact)
	checkRows(t, "scores", rows, err, []m{
		// partition 01-09 only, T = 01-10 00:00: 1+2+4; 1d [01-09, 01-10): 2+4.
		{"user_id": "a", "score_sum": int64(7), "score_sum_1d": int64(6), "ds": "2024-01-09"},
		// c's only row is outside the 1d window: kept with a null (entities have no all-null filter).
		{"user_id": "c", "score_sum": int64(5), "score_sum_1d": nil, "ds": "2024-01-09"},
	})
	rows, err = GroupByBackfill(userTier(), tables, types, []string{"2024-01-09", "2024-01-10"}, Exact)
	checkRows(t, "tier passthrough", rows, err, []m{
		{"user_id": "a", "tier": "gold", "ds": "2024-01-09"},
		{"user_id": "c", "tier": "tin", "ds": "2024-01-09"},
		{"user_id": "a", "tier": "new", "ds": "2024-01-10"},
	})
}

func TestGroupByBackfillEventsPassthrough(t *testing.T) {
	tables, types := viewsTable()
	g := api.NewGroupBy("team.views_raw", []*api.Source{api.EventsSource("data.views", api.NewQuery(api.Selects("user_id", "n"), "ts"))},
		[]string{"user_id"})
	rows, err := GroupByBackfill(g, tables, types, []string{"2024-01-09"}, Exact)
	checkRows(t, "views passthrough", rows, err, []m{
		// the rows of partition 01-09 in table order; the null-key row is dropped.
		{"user_id": "a", "n": int64(1), "ds": "2024-01-09"},
		{"user_id": "a", "n": int64(4), "ds": "2024-01-09"},
		{"user_id": "a", "n": int64(32), "ds": "2024-01-09"},
	})
}

func TestGroupByBackfillNullKeys(t *testing.T) {
	tables := Tables{"data.pairs": {
		{"k1": "x", "k2": nil, "v": int64(1), "ds": "2024-01-09"},
		{"k1": nil, "k2": nil, "v": int64(2), "ds": "2024-01-09"}, // all keys null: dropped
		{"k1": "x", "k2": "y", "v": int64(4), "ds": "2024-01-09"},
		{"k1": "x", "k2": nil, "v": int64(8), "ds": "2024-01-09"},
	}}
	types := map[string]*arrow.Schema{"data.pairs": sch("k1", tStr, "k2", tStr, "v", tI64)}
	g := api.NewGroupBy("team.pairs", []*api.Source{api.EntitiesSource("data.pairs", api.NewQuery(api.Selects("k1", "k2", "v"), ""))},
		[]string{"k1", "k2"}, api.Sum("v"))
	rows, err := GroupByBackfill(g, tables, types, []string{"2024-01-09"}, Exact)
	checkRows(t, "pairs", rows, err, []m{
		// Chronon keeps a row if any key is non-null; (x, null) is a group of its own.
		{"k1": "x", "k2": nil, "v_sum": int64(9), "ds": "2024-01-09"},
		{"k1": "x", "k2": "y", "v_sum": int64(4), "ds": "2024-01-09"},
	})
}

func TestGroupByBackfillMultipleSources(t *testing.T) {
	tables := Tables{
		"data.web": {
			{"user_id": "a", "amount": int64(5), "ts": at("2024-01-09 10:00"), "ds": "2024-01-09"},
		},
		"data.app": {
			{"uid": "a", "amt": int64(3), "ts": at("2024-01-09 11:00"), "ds": "2024-01-09"},
			{"uid": "a", "amt": int64(-1), "ts": at("2024-01-09 11:00"), "ds": "2024-01-09"},
		},
	}
	types := map[string]*arrow.Schema{
		"data.web": sch("user_id", tStr, "amount", tI64, "ts", tI64),
		"data.app": sch("uid", tStr, "amt", tI64, "ts", tI64),
	}
	app := api.NewQuery(api.NewOrderedMap("user_id", "uid", "amount", "amt"), "ts")
	app.Wheres = []string{"amt > 0"}
	g := api.NewGroupBy("team.spend", []*api.Source{
		api.EventsSource("data.web", api.NewQuery(api.Selects("user_id", "amount"), "ts")),
		api.EventsSource("data.app", app),
	}, []string{"user_id"}, api.Sum("amount"), api.CountOf("amount"))
	rows, err := GroupByBackfill(g, tables, types, []string{"2024-01-09"}, Exact)
	checkRows(t, "spend", rows, err, []m{
		{"user_id": "a", "amount_sum": int64(8), "amount_count": int64(2), "ds": "2024-01-09"},
	})
}
