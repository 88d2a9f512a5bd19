// SPDX-License-Identifier: Apache-2.0

package labeljoin_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/runners/beamrun"
	"github.com/chronon-go/chronon/testing/oracle"
)

// handWorld writes a tiny warehouse whose labels are worked out by hand in
// the tests: checkouts on 01-02 (a at 10:00, b) and 01-03 (a), user
// snapshots of 01-02..01-04 and purchases of a and b around those days.
func handWorld(t *testing.T, runner string) *env {
	e := newEnv(t, runner)
	h := int64(3600 * 1000)
	d := func(s string) int64 {
		ms, err := batch.MillisOfDS(s)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	e.table(t, "data.checkouts", schemaOf("lid", tInt, "buyer", tString, "ts", tInt), []oracle.Row{
		{"lid": int64(1), "buyer": "a", "ts": d("2023-01-02") + 10*h, "ds": "2023-01-02"},
		{"lid": int64(2), "buyer": "b", "ts": d("2023-01-02") + 11*h, "ds": "2023-01-02"},
		{"lid": int64(3), "buyer": "a", "ts": d("2023-01-02") + 12*h, "ds": "2023-01-02"},
		{"lid": int64(4), "buyer": "a", "ts": d("2023-01-03") + 1*h, "ds": "2023-01-03"},
	})
	e.table(t, "data.users", schemaOf("user", tString, "score", tInt), []oracle.Row{
		{"user": "a", "score": int64(1), "ds": "2023-01-02"},
		{"user": "a", "score": int64(5), "ds": "2023-01-03"},
		{"user": "b", "score": int64(7), "ds": "2023-01-03"},
		{"user": "a", "score": int64(9), "ds": "2023-01-04"},
	})
	e.table(t, "data.purchases", schemaOf("user", tString, "price", tInt, "ts", tInt), []oracle.Row{
		{"user": "a", "price": int64(50), "ts": d("2023-01-01") + 5*h, "ds": "2023-01-01"},
		{"user": "a", "price": int64(3), "ts": d("2023-01-02") + 9*h, "ds": "2023-01-02"},
		{"user": "a", "price": int64(4), "ts": d("2023-01-04") - 1, "ds": "2023-01-03"},
		{"user": "a", "price": int64(100), "ts": d("2023-01-04"), "ds": "2023-01-04"},
	})
	// The join's features, as a backfill would have written them.
	e.table(t, "out.test_model", schemaOf("lid", tInt, "buyer", tString, "ts", tInt, "test_spend_price_sum_3d", tInt), []oracle.Row{
		{"lid": int64(1), "buyer": "a", "ts": int64(0), "test_spend_price_sum_3d": int64(50), "ds": "2023-01-02"},
		{"lid": int64(2), "buyer": "b", "ts": int64(0), "test_spend_price_sum_3d": nil, "ds": "2023-01-02"},
		{"lid": int64(3), "buyer": "a", "ts": int64(0), "test_spend_price_sum_3d": int64(53), "ds": "2023-01-02"},
		{"lid": int64(4), "buyer": "a", "ts": int64(0), "test_spend_price_sum_3d": int64(53), "ds": "2023-01-03"},
	})
	return e
}

// labelRows lists a table's rows as "buyer ds label_ds value" strings.
func labelRows(t *testing.T, e *env, table, col string) []string {
	var out []string
	for _, r := range e.rows(t, table) {
		out = append(out, fmt.Sprint(r["lid"], " ", r["buyer"], " ", r["ds"], " ", r[api.LabelPartitionCol], " ", r[col]))
	}
	slices.Sort(out)
	return out
}

// TestHandEntityLabels: the snapshot of label_ds L labels the left days
// L-(start-1)..L-(end-1), one row per buyer and day; a second version
// adds rows, and the latest view keeps the newest per ds.
func TestHandEntityLabels(t *testing.T) { handEntityLabels(t, beamrun.Direct) }

func handEntityLabels(t *testing.T, runner string) {
	e := handWorld(t, runner)
	j := labelJoin(&api.LabelPart{Labels: []*api.JoinPart{userLabel("score")}, LeftStartOffset: 2, LeftEndOffset: 1})
	res := e.run(t, j, "2023-01-03", "2023-01-04")
	if got := res.Versions[1].Days; !reflect.DeepEqual(got, []string{"2023-01-03"}) {
		t.Errorf("label_ds 2023-01-04 refreshed left days %v, want [2023-01-03] (01-04 has no left partition)", got)
	}
	want := []string{
		"<nil> a 2023-01-02 2023-01-03 5", // L=01-03 reads snapshot 01-03, not 01-02's score 1
		"<nil> a 2023-01-03 2023-01-03 5",
		"<nil> a 2023-01-03 2023-01-04 9",
		"<nil> b 2023-01-02 2023-01-03 7",
	}
	if got := labelRows(t, e, "out.test_model_labels", "test_user_label_score"); !reflect.DeepEqual(got, want) {
		t.Errorf("label table:\n got %q\nwant %q", got, want)
	}
	wantAll := []string{
		"1 a 2023-01-02 2023-01-03 5", "2 b 2023-01-02 2023-01-03 7", "3 a 2023-01-02 2023-01-03 5",
		"4 a 2023-01-03 2023-01-03 5", "4 a 2023-01-03 2023-01-04 9",
	}
	if got := labelRows(t, e, "out.test_model_labeled", "label_test_user_label_score"); !reflect.DeepEqual(got, wantAll) {
		t.Errorf("_labeled:\n got %q\nwant %q", got, wantAll)
	}
	wantLatest := []string{
		"1 a 2023-01-02 2023-01-03 5", "2 b 2023-01-02 2023-01-03 7", "3 a 2023-01-02 2023-01-03 5",
		"4 a 2023-01-03 2023-01-04 9",
	}
	if got := labelRows(t, e, "out.test_model_labeled_latest", "label_test_user_label_score"); !reflect.DeepEqual(got, wantLatest) {
		t.Errorf("_labeled_latest:\n got %q\nwant %q", got, wantLatest)
	}
	// Features travel along; the label columns are renamed label_*.
	for _, r := range e.rows(t, "out.test_model_labeled_latest") {
		if r["lid"] == int64(3) && r["test_spend_price_sum_3d"] != int64(53) {
			t.Errorf("_labeled_latest row 3 has feature %v, want 53", r["test_spend_price_sum_3d"])
		}
	}

	// A rerun finds both versions up to date.
	for _, v := range e.run(t, j, "2023-01-03", "2023-01-04").Versions {
		if v.Computed {
			t.Errorf("rerun recomputed label_ds %s", v.LabelDS)
		}
	}
	// A changed label definition recomputes (only) the versions asked for,
	// replacing their rows and keeping the other version's.
	j2 := labelJoin(&api.LabelPart{Labels: []*api.JoinPart{userLabel("score * 10")}, LeftStartOffset: 2, LeftEndOffset: 1})
	if v := e.run(t, j2, "2023-01-04", "2023-01-04").Versions[0]; !v.Computed {
		t.Fatalf("changed definition: label_ds %s not recomputed", v.LabelDS)
	}
	want[2] = "<nil> a 2023-01-03 2023-01-04 90"
	if got := labelRows(t, e, "out.test_model_labels", "test_user_label_score"); !reflect.DeepEqual(got, want) {
		t.Errorf("label table after the change:\n got %q\nwant %q", got, want)
	}
	wantLatest[3] = "4 a 2023-01-03 2023-01-04 90"
	if got := labelRows(t, e, "out.test_model_labeled_latest", "label_test_user_label_score"); !reflect.DeepEqual(got, wantLatest) {
		t.Errorf("_labeled_latest after the change:\n got %q\nwant %q", got, wantLatest)
	}
}

// TestHandAggregatedLabel: a 2-day SUM label for label_ds L covers the left
// day L-1 and aggregates the events of days L-1 and L (from the left day's
// midnight, before the left ts included, to L+1 00:00 excluded).
func TestHandAggregatedLabel(t *testing.T) { handAggregatedLabel(t, beamrun.Direct) }

func handAggregatedLabel(t *testing.T, runner string) {
	e := handWorld(t, runner)
	j := labelJoin(&api.LabelPart{Labels: []*api.JoinPart{spendLabel(2)}, LeftStartOffset: 2, LeftEndOffset: 2})
	res := e.run(t, j, "2023-01-03", "2023-01-04")
	if v := res.Versions[0]; v.LeftStart != "2023-01-02" || v.LeftEnd != "2023-01-02" {
		t.Errorf("label_ds 2023-01-03 refreshes %s..%s, want 2023-01-02..2023-01-02", v.LeftStart, v.LeftEnd)
	}
	want := []string{
		"<nil> a 2023-01-02 2023-01-03 7",   // 3 (01-02 09:00, before the left ts) + 4 (01-03 23:59:59.999)
		"<nil> a 2023-01-03 2023-01-04 104", // 4 + 100 (01-04 00:00)
		"<nil> b 2023-01-02 2023-01-03 <nil>",
	}
	if got := labelRows(t, e, "out.test_model_labels", "test_spend_label_price_sum_2d"); !reflect.DeepEqual(got, want) {
		t.Errorf("label table:\n got %q\nwant %q", got, want)
	}
}

// TestLabelJoinRejects checks Chronon's rules on label parts.
func TestLabelJoinRejects(t *testing.T) {
	e := handWorld(t, beamrun.Direct)
	for name, lp := range map[string]*api.LabelPart{
		"window != offsets": {Labels: []*api.JoinPart{spendLabel(2)}, LeftStartOffset: 3, LeftEndOffset: 2},
		"events without aggregations": {Labels: []*api.JoinPart{{GroupBy: api.NewGroupBy("test.raw",
			[]*api.Source{api.EventsSource("data.purchases", api.NewQuery(api.Selects("user", "price"), "ts"))}, []string{"user"}),
			KeyMapping: map[string]string{"buyer": "user"}}}, LeftStartOffset: 1, LeftEndOffset: 1},
	} {
		_, err := runErr(e, labelJoin(lp), "2023-01-03", "2023-01-03")
		if err == nil {
			t.Errorf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	// A label snapshot that has not landed is an error, not null labels.
	j := labelJoin(&api.LabelPart{Labels: []*api.JoinPart{userLabel("score")}, LeftStartOffset: 1, LeftEndOffset: 1})
	if _, err := runErr(e, j, "2023-01-02", "2023-01-02"); err != nil {
		t.Errorf("snapshot 2023-01-02 exists: %v", err)
	}
	e.table(t, "data.users_late", schemaOf("user", tString, "score", tInt), []oracle.Row{{"user": "a", "score": int64(1), "ds": "2023-01-02"}})
	j.LabelPart.Labels[0].GroupBy.Sources[0].Entities.SnapshotTable = "data.users_late"
	if _, err := runErr(e, j, "2023-01-03", "2023-01-03"); err == nil {
		t.Errorf("missing snapshot 2023-01-03 of data.users_late: no error")
	}
}

// TestOracleLabels checks label versions on random data against the
// oracle's GroupBy backfill of label_ds (Chronon computes a label as the
// label GroupBy's snapshot of label_ds joined on the keys), for an
// entities label with a range of left days and an aggregated events label.
func TestOracleLabels(t *testing.T) { oracleLabels(t, beamrun.Direct) }

// TestLabelPrism runs the label join tests on prism, the portable runner
// that executes the graph as Dataflow and Flink do, with the same checks.
func TestLabelPrism(t *testing.T) {
	if testing.Short() {
		t.Skip("prism runs take a few seconds")
	}
	t.Run("HandEntityLabels", func(t *testing.T) { handEntityLabels(t, beamrun.Prism) })
	t.Run("HandAggregatedLabel", func(t *testing.T) { handAggregatedLabel(t, beamrun.Prism) })
	t.Run("OracleLabels", func(t *testing.T) { oracleLabels(t, beamrun.Prism) })
}

func oracleLabels(t *testing.T, runner string) {
	rng := rand.New(rand.NewPCG(7, 11))
	e := newEnv(t, runner)
	base := int64(19500)
	users := []string{"a", "b", "c", "d"}
	user := func() any {
		if rng.IntN(15) == 0 {
			return nil
		}
		return users[rng.IntN(len(users))]
	}
	var left, snaps, buys []oracle.Row
	lid := int64(0)
	for d := base - 5; d < base+12; d++ {
		if d >= base && d < base+8 {
			for i := 2 + rng.IntN(6); i > 0; i-- {
				lid++
				left = append(left, oracle.Row{"lid": lid, "buyer": user(), "ts": d*dayMs + rng.Int64N(dayMs), "ds": ds(d)})
			}
		}
		for _, u := range users {
			if u == "a" || rng.IntN(5) > 0 { // every day has a snapshot
				snaps = append(snaps, oracle.Row{"user": u, "score": rng.Int64N(100), "ds": ds(d)})
			}
		}
		for i := rng.IntN(8); i > 0; i-- {
			ts := d*dayMs + rng.Int64N(dayMs)
			if rng.IntN(4) == 0 {
				ts = d*dayMs + int64(rng.IntN(3)) - 1 // at midnight, +/- 1 ms
			}
			var price any = rng.Int64N(50)
			if rng.IntN(10) == 0 {
				price = nil
			}
			buys = append(buys, oracle.Row{"user": user(), "price": price, "ts": ts, "ds": batch.DSOfMillis(ts)})
		}
	}
	slices.SortStableFunc(buys, func(a, b oracle.Row) int { return strings.Compare(a["ds"].(string), b["ds"].(string)) })
	e.table(t, "data.checkouts", schemaOf("lid", tInt, "buyer", tString, "ts", tInt), left)
	e.table(t, "data.users", schemaOf("user", tString, "score", tInt), snaps)
	e.table(t, "data.purchases", schemaOf("user", tString, "price", tInt, "ts", tInt), buys)

	for _, c := range []struct {
		name       string
		part       *api.JoinPart
		start, end int32
	}{
		{"entities", userLabel("score"), 4, 2},
		{"aggregated", spendLabel(3), 3, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := labelJoin(&api.LabelPart{Labels: []*api.JoinPart{c.part}, LeftStartOffset: c.start, LeftEndOffset: c.end})
			j.MetaData.Name += "_" + c.name // its own label table
			first, last := base+3, base+8
			res := e.run(t, j, ds(first), ds(last))
			got := byKey(t, e.rows(t, res.Table))
			n := 0
			for li, v := range res.Versions {
				L := first + int64(li)
				want, err := oracle.GroupByBackfill(c.part.GroupBy, e.tables, e.types, []string{ds(L)}, oracle.Exact)
				if err != nil {
					t.Fatal(err)
				}
				labels := map[string]oracle.ExpectedRow{}
				for _, w := range want {
					labels[fmt.Sprint(w["user"].Value)] = w
				}
				col := c.part.FullPrefix() + "_" + c.part.GroupBy.ValueColumns()[0]
				for d := L - int64(c.start-1); d <= L-int64(c.end-1); d++ {
					seen := map[string]bool{}
					for _, l := range left {
						if l["ds"] != ds(d) || seen[fmt.Sprint(l["buyer"])] {
							continue
						}
						seen[fmt.Sprint(l["buyer"])] = true
						n++
						k := fmt.Sprint(l["buyer"], "/", ds(d), "/", v.LabelDS)
						g, ok := got[k]
						if !ok {
							t.Errorf("label row %s missing", k)
							continue
						}
						exp := oracle.ExpectedRow{"buyer": {Value: l["buyer"]}, "ds": {Value: ds(d)}, api.LabelPartitionCol: {Value: v.LabelDS}}
						if w, ok := labels[fmt.Sprint(l["buyer"])]; ok && l["buyer"] != nil {
							exp[col] = w[c.part.GroupBy.ValueColumns()[0]]
						} else {
							exp[col] = oracle.Cell{}
						}
						if err := oracle.CheckRow(exp, g, oracle.CheckOptions{}); err != nil {
							t.Errorf("label row %s: %v", k, err)
						}
					}
				}
			}
			t.Logf("%d label rows checked over %d versions", n, len(res.Versions))
			if len(got) != n {
				t.Errorf("label table has %d rows, the oracle %d", len(got), n)
			}
		})
	}
}
