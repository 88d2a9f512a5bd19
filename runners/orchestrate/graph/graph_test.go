// SPDX-License-Identifier: Apache-2.0

package graph

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/core/api"
)

// quickstart returns the quickstart's definitions: purchases (SNAPSHOT
// events, 30 days), returns (TEMPORAL: it has a topic), users (entities),
// the training set v1 (offline) and v2 (online).
func quickstart() Definitions {
	ns := func(md *api.MetaData) *api.MetaData { md.OutputNamespace = "default"; return md }
	gb := func(name string, src *api.Source, aggs ...*api.Aggregation) *api.GroupBy {
		g := api.NewGroupBy(name, []*api.Source{src}, []string{"user_id"}, aggs...)
		ns(g.MetaData).Online = true
		return g
	}
	returnsSrc := api.EventsSource("data.returns", api.NewQuery(api.Selects("user_id", "refund_amt"), "ts"))
	returnsSrc.Events.Topic = "events.returns"
	purchases := gb("quickstart.purchases.v1", api.EventsSource("data.purchases", api.NewQuery(api.Selects("user_id", "purchase_price"), "ts")),
		api.Sum("purchase_price", api.Days(3), api.Days(14), api.Days(30)), api.LastK("purchase_price", 10))
	returns := gb("quickstart.returns.v1", returnsSrc, api.Sum("refund_amt", api.Days(3), api.Days(30)))
	users := gb("quickstart.users.v1", api.EntitiesSource("data.users", api.NewQuery(api.Selects("user_id", "email_verified"), "")))
	left := api.EventsSource("data.checkouts", api.NewQuery(api.Selects("user_id"), "ts"))
	v1 := api.NewJoin("quickstart.training_set.v1", left, api.Part(purchases, nil), api.Part(returns, nil), api.Part(users, nil))
	ns(v1.MetaData)
	v2 := api.NewJoin("quickstart.training_set.v2", left, api.Part(purchases, nil), api.Part(returns, nil))
	ns(v2.MetaData).Online = true
	return Definitions{Joins: []*api.Join{v1, v2}, GroupBys: []*api.GroupBy{purchases, returns, users}}
}

// readsAt renders a node's reads for day ds as "table[first..last]/need".
func readsAt(n *Node, ds string) []string {
	var out []string
	for _, r := range n.Reads {
		first, last, ok := r.Partitions(ds)
		if !ok {
			out = append(out, r.Table+"[]/"+string(r.Need))
			continue
		}
		out = append(out, fmt.Sprintf("%s[%s..%s]/%s", r.Table, first, last, r.Need))
	}
	return out
}

// stepWant is a step's expected dependencies and reads (see readsAt).
type stepWant struct {
	id    string
	deps  []string
	reads []string
}

func checkSteps(t *testing.T, g *Graph, ds string, tests []stepWant) {
	t.Helper()
	for _, tc := range tests {
		n := g.Node(tc.id)
		if n == nil {
			t.Errorf("no step %s", tc.id)
			continue
		}
		if !slices.Equal(n.Deps, tc.deps) {
			t.Errorf("%s deps %v, want %v", tc.id, n.Deps, tc.deps)
		}
		if got := readsAt(n, ds); !slices.Equal(got, tc.reads) {
			t.Errorf("%s reads %v,\nwant %v", tc.id, got, tc.reads)
		}
	}
}

func TestBuildQuickstart(t *testing.T) {
	g, err := Build(quickstart(), Options{Exists: func(string) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	const ds = "2023-12-01"
	tests := []stepWant{
		{"backfill:quickstart.training_set.v1", nil, []string{
			"data.checkouts[2023-12-01..2023-12-01]/all",
			"data.purchases[..2023-11-30]/last",         // SNAPSHOT: as of D 00:00; last_k reads all history
			"data.returns[2023-11-01..2023-12-01]/last", // TEMPORAL: within D
			"data.users[2023-11-30..2023-11-30]/all",    // the snapshot before D
		}},
		{"upload:quickstart.purchases.v1", nil, []string{"data.purchases[..2023-12-01]/last"}},
		{"upload:quickstart.returns.v1", nil, []string{"data.returns[2023-11-02..2023-12-01]/last"}},
		{"upload:quickstart.users.v1", nil, []string{"data.users[2023-12-01..2023-12-01]/all"}},
		{"kv-retention:quickstart.users.v1", []string{"upload:quickstart.users.v1"}, nil},
		{"log-flatten:quickstart.training_set.v2", nil, []string{"chronon.chronon_log_table[2023-12-01..2023-12-01]/none"}},
		{"log-retention:quickstart.training_set.v2", []string{"log-flatten:quickstart.training_set.v2"},
			[]string{"default.quickstart_training_set_v2_logged[2023-12-01..2023-12-01]/none"}},
		{"metadata-upload:quickstart", nil, nil},
		{"log-retention:chronon.chronon_log_table", nil, []string{"chronon.chronon_log_table[2023-12-01..2023-12-01]/none"}},
	}
	checkSteps(t, g, ds, tests)
	var ids []string
	for _, n := range g.Nodes {
		ids = append(ids, n.ID)
	}
	if len(ids) != 12 {
		t.Errorf("%d steps, want 12 (2 backfills, 3 uploads, 3 kv retentions, log flatten and retention of v2, metadata, log table retention): %v", len(ids), ids)
	}
	if n := g.Node("metadata-upload:quickstart"); n == nil || len(n.Defs) != 4 {
		t.Errorf("the metadata upload should carry the 3 online group-bys and v2, has %v", n)
	}
	if got := g.Teams(); !slices.Equal(got, []string{"chronon", "quickstart"}) {
		t.Errorf("teams %v", got)
	}
}

// chained returns a staging query feeding a join's left, and a join (v2)
// whose part reads another join's (v1) output through a JoinSource.
func chained() Definitions {
	sq := &api.StagingQuery{MetaData: api.NewMetaData("team.drivers.v1"),
		Query:          "SELECT user_id, ts, ds FROM data.checkouts c JOIN `data.users` u USING (user_id) WHERE ds BETWEEN '{{ start_date }}' AND '{{ end_date }}'",
		StartPartition: "2023-11-01"}
	sq.MetaData.OutputNamespace = "default"
	spend := api.NewGroupBy("team.spend.v1", []*api.Source{api.EventsSource("data.purchases", api.NewQuery(api.Selects("user_id", "price"), "ts"))},
		[]string{"user_id"}, api.Sum("price", api.Days(7)))
	spend.MetaData.OutputNamespace = "default"
	v1 := api.NewJoin("team.enriched.v1", api.EventsSource("default.team_drivers_v1", api.NewQuery(api.Selects("user_id"), "ts")), api.Part(spend, nil))
	v1.MetaData.OutputNamespace = "default"
	v1.MetaData.Dependencies = []string{`{"name": "wait_for_flags", "spec": "data.flags/ds={{ macros.ds_add(ds, -2) }}"}`}
	chainedGB := api.NewGroupBy("team.chained.v1", []*api.Source{{JoinSource: &api.JoinSource{Join: v1, Query: api.NewQuery(api.Selects("user_id"), "ts")}}},
		[]string{"user_id"}, api.Sum("team_spend_v1_price_sum_7d", api.Days(2)))
	chainedGB.MetaData.OutputNamespace = "default"
	chainedGB.BackfillStartDate = "2023-11-15"
	v2 := api.NewJoin("team.top.v1", api.EventsSource("data.checkouts", api.NewQuery(api.Selects("user_id"), "ts")), api.Part(chainedGB, nil))
	v2.MetaData.OutputNamespace = "default"
	v2.MetaData.OfflineSchedule = "@weekly"
	return Definitions{Joins: []*api.Join{v2}, StagingQueries: []*api.StagingQuery{sq}}
}

func TestBuildChained(t *testing.T) {
	g, err := Build(chained(), Options{Exists: func(t string) bool { return strings.HasPrefix(t, "data.") }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []stepWant{
		{"staging-query:team.drivers.v1", nil, []string{
			"data.checkouts[2023-12-01..2023-12-01]/last", "data.users[2023-12-01..2023-12-01]/last"}},
		// Embedded in v2's part: the JoinSource's join and group-by are
		// steps too.
		{"backfill:team.enriched.v1", []string{"staging-query:team.drivers.v1"}, []string{
			"default.team_drivers_v1[2023-12-01..2023-12-01]/all",
			"data.purchases[2023-11-24..2023-11-30]/last",
			"data.flags[2023-11-29..2023-11-29]/all"}},
		{"groupby-backfill:team.chained.v1", []string{"backfill:team.enriched.v1"}, []string{
			"default.team_enriched_v1[2023-11-30..2023-12-01]/last"}},
		{"backfill:team.top.v1", []string{"backfill:team.enriched.v1"}, []string{
			"data.checkouts[2023-12-01..2023-12-01]/all",
			"default.team_enriched_v1[2023-11-29..2023-11-30]/last"}},
	}
	checkSteps(t, g, "2023-12-01", tests)
	// Topological order: each step after its deps.
	pos := map[string]int{}
	for i, n := range g.Nodes {
		pos[n.ID] = i
	}
	for _, n := range g.Nodes {
		for _, d := range n.Deps {
			if pos[d] > pos[n.ID] {
				t.Errorf("%s comes before its dependency %s", n.ID, d)
			}
		}
	}
	top := g.Node("backfill:team.top.v1")
	if top.Due("2023-12-01") || !top.Due("2023-12-03") {
		t.Errorf("@weekly should be due on Sunday 2023-12-03 only")
	}
	// The staging query's start partition clamps its reads' range.
	r := Read{Table: "x.y", From: -40, To: 0, Start: "2023-11-15", Need: NeedAll}
	if got := r.Waits("2023-11-16"); !slices.Equal(got, []string{"2023-11-15", "2023-11-16"}) {
		t.Errorf("Waits clamped to the start partition: %v", got)
	}
	if _, _, ok := r.Partitions("2023-11-14"); ok {
		t.Errorf("a day before the start partition reads nothing")
	}
}

func TestBuildErrors(t *testing.T) {
	exists := func(t string) bool { return strings.HasPrefix(t, "data.") }
	tests := []struct {
		name   string
		defs   func() Definitions
		wants  []string
		exists func(string) bool
	}{
		{"cycle through a JoinSource", func() Definitions {
			// a's left is b's output; b's part reads a through a JoinSource.
			a := api.NewJoin("team.a.v1", api.EventsSource("default.team_b_v1", api.NewQuery(api.Selects("user_id"), "ts")),
				api.Part(quickstart().GroupBys[0], nil))
			a.MetaData.OutputNamespace = "default"
			viaA := api.NewGroupBy("team.via_a.v1", []*api.Source{{JoinSource: &api.JoinSource{Join: a}}}, []string{"user_id"}, api.Sum("x", api.Days(1)))
			viaA.MetaData.OutputNamespace = "default"
			b := api.NewJoin("team.b.v1", api.EventsSource("data.checkouts", api.NewQuery(api.Selects("user_id"), "ts")), api.Part(viaA, nil))
			b.MetaData.OutputNamespace = "default"
			return Definitions{Joins: []*api.Join{a, b}}
		}, []string{"cycle: ", "writes default.team_a_v1, read by backfill:team.b.v1", "writes default.team_b_v1, read by backfill:team.a.v1"}, exists},
		{"unknown table", func() Definitions {
			d := quickstart()
			d.Joins[0].Left = api.EventsSource("data.checkoutz", api.NewQuery(api.Selects("user_id"), "ts"))
			d.GroupBys[2].MetaData.Dependencies = []string{"data.nowhere/ds={{ yesterday_ds }}"}
			return d
		}, []string{
			"quickstart.training_set.v1 reads data.checkoutz (left, read by quickstart.training_set.v1), which no definition writes and the warehouse does not have",
			"quickstart.users.v1 reads data.nowhere (dependency, read by quickstart.users.v1)",
		}, func(t string) bool { return exists(t) && t != "data.checkoutz" && t != "data.nowhere" }},
		{"bad schedule and dependency", func() Definitions {
			d := quickstart()
			d.Joins[0].MetaData.OfflineSchedule = "0 0 * *"
			d.GroupBys[0].MetaData.Dependencies = []string{"data.x/ds={{ next_ds }}", "nodot"}
			return d
		}, []string{"quickstart.training_set.v1: offlineSchedule: schedule \"0 0 * *\"", "quickstart.purchases.v1: metaData.dependencies[0] \"data.x/ds={{ next_ds }}\""}, exists},
		{"a table written twice", func() Definitions {
			d := quickstart()
			sq := &api.StagingQuery{MetaData: api.NewMetaData("quickstart.training_set.v1"), Query: "SELECT 1"}
			sq.MetaData.OutputNamespace = "default"
			d.StagingQueries = []*api.StagingQuery{sq}
			return d
		}, []string{"table default.quickstart_training_set_v1 is written by both staging-query:quickstart.training_set.v1 and backfill:quickstart.training_set.v1"}, exists},
		{"bad label offsets", func() Definitions {
			d := quickstart()
			d.Joins[0].LabelPart = &api.LabelPart{LeftStartOffset: 1, LeftEndOffset: 7}
			return d
		}, []string{"quickstart.training_set.v1: labelPart: leftStartOffset 1 is smaller than leftEndOffset 7"}, exists},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.defs(), Options{Exists: tc.exists})
			if !errors.Is(err, ErrBadGraph) {
				t.Fatalf("Build = %v, want ErrBadGraph", err)
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestDependencyReads(t *testing.T) {
	md := api.NewMetaData("t.x.v1")
	md.Dependencies = []string{
		"data.a",
		"data.b/ds={{ ds }}",
		"data.c/ds={{ yesterday_ds }}",
		"data.d/ds={{macros.ds_add(ds, 3)}}",
		`{"name": "wait_for_e", "spec": "data.e/ds={{ ds }}/hr=00", "start": null, "end": null}`,
	}
	reads, err := dependencyReads(md)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range reads {
		got = append(got, fmt.Sprintf("%s:%d", r.Table, r.To))
	}
	want := []string{"data.a:0", "data.b:0", "data.c:-1", "data.d:3", "data.e:0"}
	if !slices.Equal(got, want) {
		t.Errorf("dependencies %v, want %v", got, want)
	}
}

// TestLabelReads: a label run for label_ds D reads the join's output on
// the left days core/backfill.LeftDays names (D counts as the first day of
// an offset) and the label source up to D.
func TestLabelReads(t *testing.T) {
	d := quickstart()
	label := api.NewGroupBy("quickstart.returns_label.v1", []*api.Source{api.EventsSource("data.returns", api.NewQuery(api.Selects("user_id", "refund_amt"), "ts"))},
		[]string{"user_id"}, api.Sum("refund_amt", api.Days(3)))
	label.MetaData.OutputNamespace = "default"
	d.Joins[0].LabelPart = &api.LabelPart{Labels: []*api.JoinPart{api.Part(label, nil)}, LeftStartOffset: 3, LeftEndOffset: 3}
	g, err := Build(d, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := g.Node("label-join:quickstart.training_set.v1")
	if n == nil {
		t.Fatal("no label-join step")
	}
	got := readsAt(n, "2023-11-30")
	want := []string{"default.quickstart_training_set_v1[2023-11-28..2023-11-28]/last", "data.returns[2023-11-28..2023-11-30]/last"}
	if !slices.Equal(got, want) {
		t.Errorf("reads %v, want %v", got, want)
	}
}
