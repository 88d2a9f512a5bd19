// SPDX-License-Identifier: Apache-2.0

package plan

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

func output(t *testing.T, p *Plan, table string) *Output {
	t.Helper()
	for _, o := range p.Outputs {
		if o.Table == table {
			return o
		}
	}
	t.Fatalf("no output %s in plan:\n%s", table, p)
	return nil
}

func input(t *testing.T, p *Plan, table string, role Role) *Input {
	t.Helper()
	for _, in := range p.Inputs {
		if in.Table == table && in.Role == role {
			return in
		}
	}
	t.Fatalf("no %s input %s in plan:\n%s", role, table, p)
	return nil
}

func checkDays(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	w := expand(t, want...)
	if len(got) == 0 && len(w) == 0 {
		return
	}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("%s: got %s, want %s", what, FormatPartitions(got, 0), FormatPartitions(w, 0))
	}
}

const (
	mainTable      = "default.quickstart_training_set_v1"
	purchasesPart  = "default.quickstart_training_set_v1_quickstart_purchases_v1"
	returnsPart    = "default.quickstart_training_set_v1_quickstart_returns_v1"
	usersPart      = "default.quickstart_training_set_v1_quickstart_users_v1"
	purchasesTable = "data.purchases"
)

func TestPlanQuickstart(t *testing.T) {
	r := quickstart(t)
	j := r.Joins["quickstart.training_set.v1"]
	w := quickstartWarehouse(t)
	p, err := PlanJoin(j, w.describe, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Start != "2023-11-30" || p.End != "2023-11-30" || p.Kind != api.KindJoin {
		t.Errorf("range %s..%s kind %s", p.Start, p.End, p.Kind)
	}
	checkDays(t, "compute", p.Compute, "2023-11-30")
	if len(p.Outputs) != 4 || p.Outputs[0].Table != mainTable || p.Outputs[0].SemanticHash != JoinTableHash(j, "") {
		t.Errorf("outputs %+v", p.Outputs[0])
	}
	for _, o := range p.Outputs[1:] {
		checkDays(t, o.Table, o.Compute, "2023-11-30")
	}
	if got := output(t, p, purchasesPart).SemanticHash; got != JoinPartTableHash(j, j.JoinParts[0], "") {
		t.Errorf("part hash %s", got)
	}
	// SNAPSHOT purchases (unbounded LAST_K) read up to D-1, TEMPORAL returns
	// up to D, the users snapshot of D-1.
	want := map[string][]string{
		"data.checkouts": expand(t, "2023-11-30"),
		"data.purchases": expand(t, "2023-11-01..2023-11-29"),
		"data.returns":   expand(t, "2023-11-01..2023-11-30"),
		"data.users":     expand(t, "2023-11-29"),
	}
	if !reflect.DeepEqual(p.Required, want) {
		t.Errorf("required %v\nwant %v", p.Required, want)
	}
	if p.Err() != nil || len(p.Warnings) > 0 {
		t.Errorf("missing %v warnings %v", p.Missing, p.Warnings)
	}
	s := p.String()
	for _, line := range []string{
		"join quickstart.training_set.v1\nrange: 2023-11-30..2023-11-30\n",
		"output default.quickstart_training_set_v1\n  new table\n  compute 1 partition: 2023-11-30\n  schema:\n",
		"    quickstart_purchases_v1_purchase_price_last10       list<int64>\n",
		"    user_id                                             string\n",
		"  default.quickstart_training_set_v1_quickstart_users_v1 (quickstart.users.v1)\n",
		"  data.checkouts (left): 1 partition: 2023-11-30\n",
		"  data.purchases (events, read by quickstart.purchases.v1): 29 partitions: 2023-11-01..2023-11-29\n",
		"  data.users (snapshot, read by quickstart.users.v1): 1 partition: 2023-11-29\n",
	} {
		if !strings.Contains(s, line) {
			t.Errorf("render lacks %q:\n%s", line, s)
		}
	}
	if strings.Contains(s, "warnings:") || strings.Contains(s, "errors:") {
		t.Errorf("render has warnings or errors:\n%s", s)
	}
}

func TestPlanMissingPartitionsOnly(t *testing.T) {
	r := quickstart(t)
	j := r.Joins["quickstart.training_set.v1"]
	w := quickstartWarehouse(t)
	s := quickstartSchemas()
	w.add(t, "data.checkouts", s["data.checkouts"], "", "2023-11-27..2023-11-30")
	w.add(t, "data.users", s["data.users"], "", "2023-11-20..2023-11-29")
	w.add(t, mainTable, nil, JoinTableHash(j, ""), "2023-11-28..2023-11-29")
	w.add(t, purchasesPart, nil, JoinPartTableHash(j, j.JoinParts[0], ""), "2023-11-27")
	w.add(t, usersPart, nil, JoinPartTableHash(j, j.JoinParts[2], ""), "2023-11-01..2023-11-30")

	p, err := PlanJoin(j, w.describe, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkDays(t, "main", p.Compute, "2023-11-27", "2023-11-30")
	// Parts are computed for the main table's missing days they lack.
	checkDays(t, "purchases part", output(t, p, purchasesPart).Compute, "2023-11-30")
	checkDays(t, "returns part", output(t, p, returnsPart).Compute, "2023-11-27", "2023-11-30")
	checkDays(t, "users part", output(t, p, usersPart).Compute)
	for _, o := range p.Outputs {
		if o.Stale {
			t.Errorf("%s is stale", o.Table)
		}
	}
	checkDays(t, "left", p.Required["data.checkouts"], "2023-11-27", "2023-11-30")
	checkDays(t, "purchases", p.Required["data.purchases"], "2023-11-01..2023-11-29")
	checkDays(t, "returns", p.Required["data.returns"], "2023-11-01..2023-11-30")
	if _, ok := p.Required["data.users"]; ok {
		t.Errorf("users read although its part table is complete: %v", p.Required["data.users"])
	}
	if p.Err() != nil {
		t.Error(p.Err())
	}

	// Everything present: nothing to compute, nothing read.
	w.add(t, mainTable, nil, JoinTableHash(j, ""), "2023-11-27..2023-11-30")
	p, err = PlanJoin(j, w.describe, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Compute) != 0 || len(p.Inputs) != 0 || len(p.Required) != 0 {
		t.Errorf("up-to-date join plans work:\n%s", p)
	}
	if !strings.Contains(p.String(), "up to date: nothing to compute") {
		t.Errorf("render:\n%s", p)
	}
}

// withPurchases returns a copy of j whose purchases part aggregates
// differently (a 7-day window instead of 3 days).
func withPurchases(j *api.Join) *api.Join {
	c := *j
	c.JoinParts = append([]*api.JoinPart(nil), j.JoinParts...)
	gb := *j.JoinParts[0].GroupBy
	gb.Aggregations = append([]*api.Aggregation{api.Sum("purchase_price", api.Days(7))}, gb.Aggregations[1:]...)
	jp := *j.JoinParts[0]
	jp.GroupBy = &gb
	c.JoinParts[0] = &jp
	return &c
}

func TestPlanSemanticHashChange(t *testing.T) {
	r := quickstart(t)
	j := r.Joins["quickstart.training_set.v1"]
	old := withPurchases(j)
	base := func() fakeWarehouse {
		w := quickstartWarehouse(t)
		s := quickstartSchemas()
		w.add(t, "data.checkouts", s["data.checkouts"], "", "2023-11-29..2023-11-30")
		w.add(t, "data.users", s["data.users"], "", "2023-11-28..2023-11-29")
		return w
	}

	t.Run("one part changed", func(t *testing.T) {
		w := base()
		w.add(t, mainTable, nil, JoinTableHash(old, ""), "2023-11-29..2023-11-30")
		w.add(t, purchasesPart, nil, JoinPartTableHash(old, old.JoinParts[0], ""), "2023-11-29..2023-11-30")
		w.add(t, returnsPart, nil, JoinPartTableHash(old, old.JoinParts[1], ""), "2023-11-30")
		w.add(t, usersPart, nil, JoinPartTableHash(old, old.JoinParts[2], ""), "2023-11-29..2023-11-30")
		p, err := PlanJoin(j, w.describe, Options{})
		if err != nil {
			t.Fatal(err)
		}
		main := output(t, p, mainTable)
		if !main.Stale || !reflect.DeepEqual(main.Changed, []string{purchasesPart}) {
			t.Errorf("main stale %v changed %v", main.Stale, main.Changed)
		}
		checkDays(t, "main", p.Compute, "2023-11-29..2023-11-30")
		pp := output(t, p, purchasesPart)
		if !pp.Stale {
			t.Error("purchases part not stale")
		}
		checkDays(t, "purchases part", pp.Compute, "2023-11-29..2023-11-30")
		// Unchanged parts keep their partitions.
		checkDays(t, "returns part", output(t, p, returnsPart).Compute, "2023-11-29")
		checkDays(t, "users part", output(t, p, usersPart).Compute)
		if output(t, p, returnsPart).Stale || output(t, p, usersPart).Stale {
			t.Error("unchanged part is stale")
		}
		if s := p.String(); !strings.Contains(s, "semantic hash changed ("+purchasesPart+"): the table is dropped and recomputed") {
			t.Errorf("render:\n%s", s)
		}
	})

	t.Run("window tail mode", func(t *testing.T) {
		w := base()
		w.add(t, mainTable, nil, JoinTableHash(j, ""), "2023-11-29..2023-11-30")
		for _, jp := range j.JoinParts {
			w.add(t, j.PartOutputTable(jp), nil, JoinPartTableHash(j, jp, ""), "2023-11-29..2023-11-30")
		}
		p, err := PlanJoin(j, w.describe, Options{WindowTail: "exact"})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Compute) != 0 {
			t.Errorf("exact is the default, yet it recomputes %v", p.Compute)
		}
		p, err = PlanJoin(j, w.describe, Options{WindowTail: "hop"})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Outputs {
			if !o.Stale {
				t.Errorf("%s not stale after window_tail changed", o.Table)
			}
			checkDays(t, o.Table, o.Compute, "2023-11-29..2023-11-30")
		}
		if _, err := PlanJoin(j, w.describe, Options{WindowTail: "round"}); err == nil || !strings.Contains(err.Error(), `window_tail "round" is not supported`) {
			t.Errorf("bad window tail: %v", err)
		}
	})

	t.Run("left changed", func(t *testing.T) {
		w := base()
		oldLeft := *j
		oldLeft.Left = api.EventsSource("data.checkouts", &api.Query{Selects: api.Selects("user_id"), TimeColumn: "ts", Wheres: []string{"user_id IS NOT NULL"}})
		w.add(t, mainTable, nil, JoinTableHash(&oldLeft, ""), "2023-11-29..2023-11-30")
		for _, jp := range oldLeft.JoinParts {
			w.add(t, oldLeft.PartOutputTable(jp), nil, JoinPartTableHash(&oldLeft, jp, ""), "2023-11-29..2023-11-30")
		}
		p, err := PlanJoin(j, w.describe, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Outputs {
			if !o.Stale {
				t.Errorf("%s not stale after the left changed", o.Table)
			}
		}
		if got := output(t, p, mainTable).Changed; !reflect.DeepEqual(got, []string{api.LeftSourceHashKey}) {
			t.Errorf("changed %v", got)
		}
	})

	t.Run("group by", func(t *testing.T) {
		g := r.GroupBys["quickstart.purchases.v1"]
		w := quickstartWarehouse(t)
		w.add(t, "default.quickstart_purchases_v1", nil, "0ldHash000", "2023-11-01..2023-11-30")
		p, err := PlanGroupBy(g, w.describe, Options{Start: "2023-11-28", End: "2023-11-30"})
		if err != nil {
			t.Fatal(err)
		}
		o := p.Outputs[0]
		if !o.Stale || o.StoredHash != "0ldHash000" || o.SemanticHash != g.SemanticHash("exact") || o.Changed != nil {
			t.Errorf("output %+v", o)
		}
		checkDays(t, "compute", p.Compute, "2023-11-28..2023-11-30")
		w.add(t, "default.quickstart_purchases_v1", nil, g.SemanticHash("exact"), "2023-11-01..2023-11-29")
		p, err = PlanGroupBy(g, w.describe, Options{Start: "2023-11-28", End: "2023-11-30"})
		if err != nil {
			t.Fatal(err)
		}
		checkDays(t, "compute", p.Compute, "2023-11-30")
	})

	t.Run("no stored hash", func(t *testing.T) {
		w := base()
		w.add(t, mainTable, nil, "", "2023-11-29")
		p, err := PlanJoin(j, w.describe, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkDays(t, "main", p.Compute, "2023-11-30")
		if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], mainTable+" has no semantic hash") {
			t.Errorf("warnings %q", p.Warnings)
		}
	})
}

func TestOutputPartitions(t *testing.T) {
	days := []string{"2023-11-01", "2023-11-02", "2023-11-03"}
	info := &warehouse.TableInfo{SemanticHash: "h1", Partitions: []warehouse.Partition{{DS: "2023-11-02"}, {DS: "2023-12-01"}}}
	for _, tc := range []struct {
		name  string
		info  *warehouse.TableInfo
		hash  string
		want  []string
		stale bool
	}{
		{"absent", nil, "h1", days, false},
		{"missing only", info, "h1", []string{"2023-11-01", "2023-11-03"}, false},
		{"hash changed", info, "h2", days, true},
		{"no stored hash", &warehouse.TableInfo{Partitions: info.Partitions}, "h2", []string{"2023-11-01", "2023-11-03"}, false},
		{"same JSON map", &warehouse.TableInfo{SemanticHash: `{"b":"2", "a":"1"}`, Partitions: info.Partitions}, `{"a":"1","b":"2"}`,
			[]string{"2023-11-01", "2023-11-03"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, stale := OutputPartitions(tc.info, days, tc.hash)
			if !reflect.DeepEqual(got, tc.want) || stale != tc.stale {
				t.Errorf("got %v stale %v, want %v stale %v", got, stale, tc.want, tc.stale)
			}
		})
	}
}

func TestPlanEntitySnapshots(t *testing.T) {
	r := quickstart(t)
	s := quickstartSchemas()

	t.Run("events left reads D-1", func(t *testing.T) {
		w := quickstartWarehouse(t)
		w.add(t, "data.users", s["data.users"], "", "2023-11-28", "2023-11-30")
		p, err := PlanJoin(r.Joins["quickstart.training_set.v1"], w.describe, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkDays(t, "users", p.Required["data.users"], "2023-11-29")
		if len(p.Missing) != 1 {
			t.Fatalf("missing %v", p.Missing)
		}
		const want = "missing partition data.users/ds=2023-11-29 (snapshot read by quickstart.users.v1)"
		if got := p.Missing[0].Error(); got != want {
			t.Errorf("error %q\nwant  %q", got, want)
		}
		var me *MissingError
		err = p.Err()
		if !errors.Is(err, ErrMissingPartition) || !errors.As(err, &me) || me.Table != "data.users" || me.Role != RoleSnapshot {
			t.Errorf("Err() = %v", err)
		}
		if !strings.HasPrefix(err.Error(), "quickstart.training_set.v1: missing partition data.users/ds=2023-11-29") {
			t.Errorf("Err() = %v", err)
		}
		if !strings.Contains(p.String(), "\nerrors:\n  - "+want+"\n") {
			t.Errorf("render:\n%s", p)
		}
	})

	t.Run("entities left reads D", func(t *testing.T) {
		w := quickstartWarehouse(t)
		w.add(t, "data.users", s["data.users"], "", "2023-11-28..2023-11-29")
		left := api.EntitiesSource("data.users", api.NewQuery(api.Selects("user_id"), ""))
		j := api.NewJoin("team.users_join.v1", left,
			api.Part(r.GroupBys["quickstart.users.v1"], nil), api.Part(r.GroupBys["quickstart.purchases.v1"], nil))
		p, err := PlanJoin(j, w.describe, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkDays(t, "compute", p.Compute, "2023-11-28..2023-11-29")
		checkDays(t, "left", input(t, p, "data.users", RoleLeft).Partitions, "2023-11-28..2023-11-29")
		checkDays(t, "snapshot", input(t, p, "data.users", RoleSnapshot).Partitions, "2023-11-28..2023-11-29")
		// An events GroupBy joined to an entities left: as of the end of D.
		checkDays(t, "purchases", p.Required["data.purchases"], "2023-11-01..2023-11-29")
		if p.Err() != nil {
			t.Error(p.Err())
		}
	})

	t.Run("group by backfill reads D", func(t *testing.T) {
		w := quickstartWarehouse(t)
		w.add(t, "data.users", s["data.users"], "", "2023-11-27..2023-11-28")
		p, err := PlanGroupBy(r.GroupBys["quickstart.users.v1"], w.describe, Options{End: "2023-11-29"})
		if err != nil {
			t.Fatal(err)
		}
		checkDays(t, "compute", p.Compute, "2023-11-27..2023-11-29")
		checkDays(t, "users", p.Required["data.users"], "2023-11-27..2023-11-29")
		if len(p.Missing) != 1 || p.Missing[0].Error() != "missing partition data.users/ds=2023-11-29 (snapshot read by quickstart.users.v1)" {
			t.Errorf("missing %v", p.Missing)
		}
	})

	t.Run("mutations", func(t *testing.T) {
		w := quickstartWarehouse(t)
		w.add(t, "data.users", s["data.users"], "", "2023-11-29")
		w.add(t, "data.user_mutations", s["data.users"], "", "2023-11-01")
		users := *r.GroupBys["quickstart.users.v1"]
		users.Accuracy = api.Ptr(api.Temporal)
		src := *users.Sources[0].Entities
		src.MutationTable = "data.user_mutations"
		users.Sources = []*api.Source{{Entities: &src}}
		j := api.NewJoin("team.j.v1", checkoutsLeft(), api.Part(&users, nil))
		p, err := PlanJoin(j, w.describe, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkDays(t, "snapshot", p.Required["data.users"], "2023-11-29")
		checkDays(t, "mutations", input(t, p, "data.user_mutations", RoleMutations).Partitions, "2023-11-30")
		if p.Err() != nil || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "data.user_mutations: 1 of the 1 partitions read by quickstart.users.v1 are missing (2023-11-30)") {
			t.Errorf("missing %v warnings %q", p.Missing, p.Warnings)
		}
	})
}

func TestPlanEventGaps(t *testing.T) {
	r := quickstart(t)
	j := r.Joins["quickstart.training_set.v1"]
	s := quickstartSchemas()
	gappy := func() fakeWarehouse {
		w := quickstartWarehouse(t)
		w.add(t, purchasesTable, s[purchasesTable], "", "2023-11-01..2023-11-14", "2023-11-16..2023-11-19", "2023-11-21..2023-11-30")
		return w
	}

	p, err := PlanJoin(j, gappy().describe, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Err() != nil {
		t.Errorf("gaps in an event table are not errors: %v", p.Err())
	}
	checkDays(t, "absent", input(t, p, purchasesTable, RoleEvents).Absent, "2023-11-15", "2023-11-20")
	const want = "data.purchases: 2 of the 29 partitions read by quickstart.purchases.v1 are missing (2023-11-15, 2023-11-20); " +
		"each is read as a day without events (--strict-inputs makes this an error)"
	if len(p.Warnings) != 1 || p.Warnings[0] != want {
		t.Errorf("warnings %q\nwant %q", p.Warnings, want)
	}

	p, err = PlanJoin(j, gappy().describe, Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 0 || len(p.Missing) != 1 {
		t.Fatalf("strict: warnings %q missing %v", p.Warnings, p.Missing)
	}
	if got := p.Missing[0].Error(); got != "missing 2 partitions of data.purchases: 2023-11-15, 2023-11-20 (events read by quickstart.purchases.v1)" {
		t.Errorf("strict error %q", got)
	}

	// Days before the table begins are simply empty.
	w := quickstartWarehouse(t)
	w.add(t, purchasesTable, s[purchasesTable], "", "2023-11-10..2023-11-30")
	p, err = PlanJoin(j, w.describe, Options{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	checkDays(t, "purchases", p.Required[purchasesTable], "2023-11-10..2023-11-29")
	if p.Err() != nil || len(p.Warnings) != 0 {
		t.Errorf("missing %v warnings %q", p.Missing, p.Warnings)
	}
}

// windowed returns a GroupBy over data.purchases with one windowed SUM.
func windowed(w api.Window, acc *api.Accuracy) *api.GroupBy {
	g := purchasesGroupBy(api.Selects("user_id", "purchase_price"), api.Sum("purchase_price", w))
	g.Accuracy = acc
	return g
}

func TestPlanEventWindows(t *testing.T) {
	snapshot, temporal := api.Ptr(api.Snapshot), api.Ptr(api.Temporal)
	usersLeft := api.EntitiesSource("data.users", api.NewQuery(api.Selects("user_id"), ""))
	withStart := windowed(api.Days(3), temporal)
	withStart.Sources[0].Events.Query.StartPartition = "2023-11-29"
	withEnd := windowed(api.Days(3), temporal)
	withEnd.Sources[0].Events.Query.EndPartition = "2023-11-28"
	twoWindows := purchasesGroupBy(api.Selects("user_id", "purchase_price"),
		api.Sum("purchase_price", api.Days(3), api.Days(10)), api.CountOf("purchase_price", api.Hours(5)))
	cumulative := windowed(api.Days(3), temporal)
	cumulative.Sources[0].Events.IsCumulative = true

	for _, tc := range []struct {
		name    string
		g       *api.GroupBy
		left    *api.Source // nil: a GroupBy backfill
		opts    Options
		compute []string
		want    []string
		role    Role
	}{
		// An events left on day D: SNAPSHOT sees [D-W, D 00:00), TEMPORAL
		// [T-W, T) for T within D.
		{name: "snapshot 3d", g: windowed(api.Days(3), snapshot), left: checkoutsLeft(), want: []string{"2023-11-27..2023-11-29"}},
		{name: "temporal 3d", g: windowed(api.Days(3), temporal), left: checkoutsLeft(), want: []string{"2023-11-27..2023-11-30"}},
		{name: "temporal 1h", g: windowed(api.Hours(1), temporal), left: checkoutsLeft(), want: []string{"2023-11-29..2023-11-30"}},
		{name: "temporal 25h", g: windowed(api.Hours(25), temporal), left: checkoutsLeft(), want: []string{"2023-11-28..2023-11-30"}},
		{name: "longest window", g: twoWindows, left: checkoutsLeft(), want: []string{"2023-11-20..2023-11-29"}},
		// An entities left, or a GroupBy backfill: values as of the end of D.
		{name: "entities left 3d", g: windowed(api.Days(3), temporal), left: usersLeft,
			opts: Options{Start: "2023-11-29", End: "2023-11-29"}, want: []string{"2023-11-27..2023-11-29"}},
		{name: "backfill 3d", g: windowed(api.Days(3), nil), opts: Options{Start: "2023-11-30", End: "2023-11-30"},
			want: []string{"2023-11-28..2023-11-30"}},
		{name: "backfill disjoint days", g: windowed(api.Days(3), nil), opts: Options{Start: "2023-11-20", End: "2023-11-30"},
			compute: []string{"2023-11-20", "2023-11-30"}, want: []string{"2023-11-18..2023-11-20", "2023-11-28..2023-11-30"}},
		{name: "unbounded backfill", g: purchasesGroupBy(api.Selects("user_id", "purchase_price"), api.Sum("purchase_price")),
			opts: Options{Start: "2023-11-05", End: "2023-11-06"}, want: []string{"2023-11-01..2023-11-06"}},
		{name: "startPartition", g: withStart, left: checkoutsLeft(), want: []string{"2023-11-29..2023-11-30"}},
		{name: "endPartition", g: withEnd, left: checkoutsLeft(), want: []string{"2023-11-27..2023-11-28"}},
		{name: "cumulative", g: cumulative, left: checkoutsLeft(), want: []string{"2023-11-30"}, role: RoleCumulative},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := quickstartWarehouse(t)
			w.add(t, "data.users", quickstartSchemas()["data.users"], "", "2023-11-29")
			var p *Plan
			var err error
			if tc.left == nil {
				if tc.compute != nil {
					w.add(t, tc.g.MetaData.OutputTable(), nil, tc.g.SemanticHash("exact"), "2023-11-21..2023-11-29")
				}
				p, err = PlanGroupBy(tc.g, w.describe, tc.opts)
			} else {
				p, err = PlanJoin(api.NewJoin("team.j.v1", tc.left, api.Part(tc.g, nil)), w.describe, tc.opts)
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.compute != nil {
				checkDays(t, "compute", p.Compute, tc.compute...)
			}
			role := tc.role
			if role == "" {
				role = RoleEvents
			}
			checkDays(t, "events", input(t, p, purchasesTable, role).Partitions, tc.want...)
			if p.Err() != nil || len(p.Warnings) > 0 {
				t.Errorf("missing %v warnings %q", p.Missing, p.Warnings)
			}
		})
	}
}

func TestPlanRange(t *testing.T) {
	r := quickstart(t)
	j := r.Joins["quickstart.training_set.v1"]
	s := quickstartSchemas()

	t.Run("missing left partitions", func(t *testing.T) {
		w := quickstartWarehouse(t)
		w.add(t, "data.users", s["data.users"], "", "2023-11-26..2023-11-29")
		p, err := PlanJoin(j, w.describe, Options{Start: "2023-11-27", End: "2023-11-30"})
		if err != nil {
			t.Fatal(err)
		}
		checkDays(t, "compute", p.Compute, "2023-11-27..2023-11-30")
		const want = "missing 3 partitions of data.checkouts: 2023-11-27..2023-11-29 (left read by quickstart.training_set.v1)"
		if len(p.Missing) != 1 || p.Missing[0].Error() != want {
			t.Errorf("missing %v\nwant %s", p.Missing, want)
		}
	})

	t.Run("left query bounds", func(t *testing.T) {
		w := quickstartWarehouse(t)
		w.add(t, "data.checkouts", s["data.checkouts"], "", "2023-11-01..2023-11-30")
		w.add(t, "data.users", s["data.users"], "", "2023-10-01..2023-11-30")
		c := *j
		c.Left = api.EventsSource("data.checkouts", &api.Query{Selects: api.Selects("user_id"), TimeColumn: "ts",
			StartPartition: "2023-11-10", EndPartition: "2023-11-20"})
		for _, tc := range []struct {
			opts       Options
			start, end string
		}{
			{Options{}, "2023-11-10", "2023-11-20"},
			{Options{Start: "2023-11-01", End: "2023-11-30"}, "2023-11-10", "2023-11-20"},
			{Options{Start: "2023-11-15"}, "2023-11-15", "2023-11-20"},
			{Options{Start: "2023-11-21", End: "2023-11-25"}, "", ""},
		} {
			p, err := PlanJoin(&c, w.describe, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if p.Start != tc.start || p.End != tc.end {
				t.Errorf("%+v: range %s..%s, want %s..%s", tc.opts, p.Start, p.End, tc.start, tc.end)
			}
			if tc.start == "" && (len(p.Compute) != 0 || len(p.Warnings) != 1 || !strings.Contains(p.String(), "range: empty")) {
				t.Errorf("empty range: %s", p)
			}
		}
	})

	t.Run("group by defaults", func(t *testing.T) {
		w := quickstartWarehouse(t)
		g := *r.GroupBys["quickstart.returns.v1"]
		p, err := PlanGroupBy(&g, w.describe, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Start != "2023-11-01" || p.End != "2023-11-30" || p.Kind != api.KindGroupBy {
			t.Errorf("range %s..%s", p.Start, p.End)
		}
		g.BackfillStartDate = "2023-11-25"
		if p, err = PlanGroupBy(&g, w.describe, Options{}); err != nil || p.Start != "2023-11-25" {
			t.Errorf("backfillStartDate: %v %v", p, err)
		}
	})

	for _, tc := range []struct {
		name string
		opts Options
		drop string
		want string
	}{
		{"bad start", Options{Start: "2023-11-31"}, "", `plan: start: bad partition date "2023-11-31"`},
		{"start after end", Options{Start: "2023-11-30", End: "2023-11-01"}, "", "quickstart.training_set.v1: start 2023-11-30 is after end 2023-11-01"},
		{"no left partitions", Options{}, "data.checkouts",
			"quickstart.training_set.v1: no start partition: left table data.checkouts has no partitions; give a start"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := quickstartWarehouse(t)
			if tc.drop != "" {
				w.add(t, tc.drop, s[tc.drop], "")
			}
			_, err := PlanJoin(j, w.describe, tc.opts)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error %v, want %s", err, tc.want)
			}
		})
	}

	t.Run("describe failure", func(t *testing.T) {
		boom := errors.New("boom")
		w := quickstartWarehouse(t)
		describe := func(table string) (*warehouse.TableInfo, error) {
			if table == mainTable {
				return nil, boom
			}
			return w.describe(table)
		}
		if _, err := PlanJoin(j, describe, Options{}); !errors.Is(err, boom) || !strings.Contains(err.Error(), "describe "+mainTable) {
			t.Errorf("error %v", err)
		}
	})
}

func TestPlanJoinSourceInput(t *testing.T) {
	r := quickstart(t)
	parent := r.Joins["quickstart.training_set.v2"]
	g := api.NewGroupBy("team.chained.v1", []*api.Source{{JoinSource: &api.JoinSource{
		Join:  parent,
		Query: api.NewQuery(api.Selects("user_id", "quickstart_purchases_v1_purchase_price_sum_3d"), "ts"),
	}}}, []string{"user_id"}, api.NewAggregation("quickstart_purchases_v1_purchase_price_sum_3d", api.OpMax, api.Days(2)))
	w := quickstartWarehouse(t)
	p, err := PlanGroupBy(g, w.describe, Options{Start: "2023-11-30", End: "2023-11-30"})
	if err != nil {
		t.Fatal(err)
	}
	in := input(t, p, parent.MetaData.OutputTable(), RoleEvents)
	// The join's output is not computed yet: it will start where its left
	// table (checkouts, 2023-11-30 only) starts.
	checkDays(t, "join output", in.Partitions, "2023-11-30")
	checkDays(t, "absent", in.Absent, "2023-11-30")
	if in.Note != "output of join quickstart.training_set.v2" || len(p.Warnings) != 1 ||
		!strings.Contains(p.Warnings[0], "; output of join quickstart.training_set.v2)") {
		t.Errorf("note %q warnings %q", in.Note, p.Warnings)
	}
}

func TestFormatPartitions(t *testing.T) {
	for _, tc := range []struct {
		in    []string
		limit int
		want  string
	}{
		{nil, 0, ""},
		{[]string{"2023-11-01"}, 0, "2023-11-01"},
		{expand(t, "2023-11-28..2023-12-02", "2023-12-04", "2023-12-06..2023-12-07"), 0, "2023-11-28..2023-12-02, 2023-12-04, 2023-12-06..2023-12-07"},
		{expand(t, "2023-11-01", "2023-11-03", "2023-11-05"), 2, "2023-11-01, 2023-11-03, … (1 more ranges)"},
	} {
		if got := FormatPartitions(tc.in, tc.limit); got != tc.want {
			t.Errorf("FormatPartitions(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
