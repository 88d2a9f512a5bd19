// SPDX-License-Identifier: Apache-2.0

package backfill_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	core "github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/online"
	"github.com/chronon-go/chronon/plugins/warehouse/blob"
	"github.com/chronon-go/chronon/plugins/warehouse/blob/blobtest"
	"github.com/chronon-go/chronon/runners/backfill"
	"github.com/chronon-go/chronon/testing/oracle"
)

func modeOf(tail string) oracle.TailMode {
	if tail == "hop" {
		return oracle.Hop
	}
	return oracle.Exact
}

func TestJoinOracle(t *testing.T) {
	for seed := uint64(1); seed <= 6; seed++ {
		for _, tail := range []string{"exact", "hop"} {
			t.Run(fmt.Sprintf("seed%d/%s", seed, tail), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 7))
				w := newWorld(t, rng, 4)
				for _, j := range []*api.Join{eventsJoin(), entitiesJoin()} {
					runJoin(t, w, j, tail, "direct")
				}
			})
		}
	}
}

func runJoin(t *testing.T, w *world, j *api.Join, tail, runnerName string) {
	t.Helper()
	ctx := context.Background()
	res, err := backfill.Join(ctx, w.wh, j, backfill.Options{Root: w.root, WindowTail: tail, Runner: runner(runnerName), Shards: 3})
	if err != nil {
		t.Fatalf("%s: %v", j.MetaData.Name, err)
	}
	want, err := oracle.JoinBackfill(j, w.tables, w.types, res.Computed, modeOf(tail))
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	got := output(t, w.wh, j.MetaData.OutputTable())
	key := lidKey
	if j.Left.DataModel() == api.EntitiesModel {
		key = func(r map[string]any) string { return fmt.Sprint(r["ds"], "/", r["user"]) }
	}
	check(t, j.MetaData.Name, want, got, key)
}

func TestGroupByOracle(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 11))
			w := newWorld(t, rng, 3)
			for _, g := range []*api.GroupBy{purchasesGB("test.purchases", api.Temporal), usersAgg(), usersPassthrough(), twoKeys()} {
				ctx := context.Background()
				res, err := backfill.GroupBy(ctx, w.wh, g, backfill.Options{Root: w.root, Start: w.days[0], Runner: runner("direct"), Shards: 2})
				if err != nil {
					t.Fatalf("%s: %v", g.MetaData.Name, err)
				}
				want, err := oracle.GroupByBackfill(g, w.tables, w.types, res.Computed, oracle.Exact)
				if err != nil {
					t.Fatalf("oracle: %v", err)
				}
				got := output(t, w.wh, g.MetaData.OutputTable())
				check(t, g.MetaData.Name, want, got, func(r map[string]any) string {
					return fmt.Sprint(r["ds"], "/", r["user"], "/", r["category"], "/", r["score"])
				})
			}
		})
	}
}

// TestPrism runs the same backfills on prism, the portable runner that
// executes the graph as Dataflow and Flink do, and checks that its output
// equals the direct runner's row for row (and the oracle).
func TestPrism(t *testing.T) {
	if testing.Short() {
		t.Skip("prism runs take a few seconds")
	}
	outputs := map[string][]string{}
	for _, r := range []string{"direct", "prism"} {
		w := newWorld(t, rand.New(rand.NewPCG(3, 7)), 3)
		for _, j := range []*api.Join{eventsJoin(), entitiesJoin()} {
			runJoin(t, w, j, "exact", r)
			outputs[r] = append(outputs[r], tableRows(t, w, j.MetaData.OutputTable())...)
		}
	}
	if !slices.Equal(outputs["direct"], outputs["prism"]) {
		t.Fatalf("prism output differs from direct:\ndirect: %v\nprism:  %v", outputs["direct"], outputs["prism"])
	}
}

// tableRows renders the tables' rows as "table: col=value;..." strings,
// sorted within each table, for comparing two runs.
func tableRows(t *testing.T, w *world, tables ...string) []string {
	t.Helper()
	var out []string
	for _, table := range tables {
		for _, r := range rowStrings(output(t, w.wh, table)) {
			out = append(out, table+": "+r)
		}
	}
	return out
}

func rowStrings(rows []map[string]any) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		keys := slices.Sorted(maps.Keys(r))
		var b strings.Builder
		for _, k := range keys {
			fmt.Fprintf(&b, "%s=%v;", k, r[k])
		}
		out[i] = b.String()
	}
	slices.Sort(out)
	return out
}

// TestPartTablesReused adds a join part to a backfilled join: the join is
// recomputed, but the parts it already had are read back from their tables.
// The purchases table is rewritten in between with other prices, so a part
// recomputed from it would disagree with the oracle over the original rows.
func TestPartTablesReused(t *testing.T) {
	w := newWorld(t, rand.New(rand.NewPCG(5, 7)), 3)
	runJoin(t, w, eventsJoin(), "exact", "direct")

	changed := map[string]bool{}
	var rewritten []oracle.Row
	for _, r := range w.tables["data.purchases"] {
		c := oracle.Row{}
		for k, v := range r {
			c[k] = v
		}
		if p, ok := c["price"].(int64); ok {
			c["price"] = p + 1000
			changed[fmt.Sprint(c["ds"])] = true
		}
		rewritten = append(rewritten, c)
	}
	original := w.tables["data.purchases"]
	w.put(t, "data.purchases", w.types["data.purchases"], rewritten)
	w.tables["data.purchases"] = original // what the reused parts were computed from

	j := eventsJoin()
	extra := api.Part(usersAgg(), map[string]string{"buyer": "user"})
	extra.Prefix = api.Ptr("again")
	j.JoinParts = append(j.JoinParts, extra)
	runJoin(t, w, j, "exact", "direct")
}

// TestJoinSource backfills a GroupBy over a join's output (a JoinSource):
// the launcher backfills the join first, and the GroupBy's values equal
// the oracle's over the join's output read as an events table.
func TestJoinSource(t *testing.T) {
	w := newWorld(t, rand.New(rand.NewPCG(9, 7)), 3)
	parent := eventsJoin()
	q := api.NewQuery(api.Selects("buyer", "test_purchases_price_sum_1d"), "ts")
	chained := api.NewGroupBy("test.chained", []*api.Source{{JoinSource: &api.JoinSource{Join: parent, Query: q}}}, []string{"buyer"},
		api.Sum("test_purchases_price_sum_1d", api.Days(2)), api.CountOf("test_purchases_price_sum_1d"))
	chained.MetaData.OutputNamespace = "out"
	ctx := context.Background()
	res, err := backfill.GroupBy(ctx, w.wh, chained, backfill.Options{Root: w.root, Start: w.days[0], Runner: runner("direct"), Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Computed) != len(w.days) {
		t.Fatalf("computed %v, want %v", res.Computed, w.days)
	}
	// The oracle reads the join's output as a plain events table.
	table := parent.MetaData.OutputTable()
	info, err := w.wh.Describe(ctx, table)
	if err != nil {
		t.Fatalf("the join source was not backfilled: %v", err)
	}
	var rows []oracle.Row
	for _, r := range output(t, w.wh, table) {
		rows = append(rows, oracle.Row(r))
	}
	w.tables[table] = rows
	w.types[table] = info.Schema
	plain := api.NewGroupBy("test.chained", []*api.Source{api.EventsSource(table, q)}, []string{"buyer"},
		api.Sum("test_purchases_price_sum_1d", api.Days(2)), api.CountOf("test_purchases_price_sum_1d"))
	want, err := oracle.GroupByBackfill(plain, w.tables, w.types, res.Computed, oracle.Exact)
	if err != nil {
		t.Fatal(err)
	}
	got := output(t, w.wh, chained.MetaData.OutputTable())
	check(t, "test.chained", want, got, func(r map[string]any) string { return fmt.Sprint(r["ds"], "/", r["buyer"]) })
}

// TestGCSWarehouse backfills a join whose warehouse (and so the workers'
// scratch) is on gs://, against Google Cloud Storage's emulator, on prism
// as Dataflow would run it.
func TestGCSWarehouse(t *testing.T) {
	gcs := blobtest.Emulator(t)
	root := gcs.NewBucket(t) + "/warehouse"
	w := newWorldAt(t, root, rand.New(rand.NewPCG(4, 7)), 3)
	runJoin(t, w, eventsJoin(), "exact", "prism")
	entries, err := w.wh.Tables(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(entries, "out.test_events_join") {
		t.Fatalf("tables %v lack the output", entries)
	}
	store, err := blob.Open(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if left, _ := store.ListAll(context.Background(), ".scratch"); len(left) > 0 {
		t.Errorf("scratch left behind: %v", left)
	}
}

// TestCumulativeEvents joins a cumulative events table, whose every
// partition holds all events up to its day: only its latest partition is
// read, so each event counts once, as in the plain table the oracle reads.
func TestCumulativeEvents(t *testing.T) {
	w := newWorld(t, rand.New(rand.NewPCG(12, 7)), 3)
	var cum []oracle.Row
	days := map[string]bool{}
	for _, r := range w.tables["data.purchases"] {
		days[r["ds"].(string)] = true
	}
	for _, d := range slices.Sorted(maps.Keys(days)) {
		for _, r := range w.tables["data.purchases"] {
			if r["ds"].(string) <= d {
				c := maps.Clone(r)
				c["ds"] = d
				cum = append(cum, c)
			}
		}
	}
	w.put(t, "data.purchases_cum", w.types["data.purchases"], cum)
	w.tables["data.purchases_cum"] = w.tables["data.purchases"] // what the oracle reads: each event once

	j := eventsJoin()
	cumulative := purchasesGB("test.purchases", api.Temporal)
	cumulative.Sources[0].Events.Table = "data.purchases_cum"
	cumulative.Sources[0].Events.IsCumulative = true
	j.JoinParts = []*api.JoinPart{api.Part(cumulative, map[string]string{"buyer": "user"})}
	j.Derivations = nil
	runJoin(t, w, j, "exact", "direct")
}

// TestUploadServesExactValues uploads a TEMPORAL GroupBy for the last day
// and decodes every key's batch value at times in the two days after the
// batch end: each column equals the oracle over the events before the batch
// end (exact tails, every operation).
func TestUploadServesExactValues(t *testing.T) {
	w := newWorld(t, rand.New(rand.NewPCG(21, 7)), 3)
	g := purchasesGB("test.purchases", api.Temporal)
	ds := w.days[len(w.days)-1]
	ctx := context.Background()
	res, err := backfill.Upload(ctx, w.wh, g, ds, nil, backfill.Options{Root: w.root, Runner: runner("direct"), Shards: 3})
	if err != nil {
		t.Fatal(err)
	}
	rows := output(t, w.wh, res.Table)
	if int64(len(rows)) != res.Keys || len(rows) == 0 {
		t.Fatalf("%d upload rows, %d keys", len(rows), res.Keys)
	}
	u, err := core.CompileUpload(g, func(string) (*arrow.Schema, error) { return w.types["data.purchases"], nil }, "exact", ds)
	if err != nil {
		t.Fatal(err)
	}
	spec := u.Part.GroupBy.Spec
	events := map[string][]oracle.Event{}
	for _, r := range w.tables["data.purchases"] {
		if r["user"] != nil && r["ts"].(int64) < res.BatchEnd {
			events[r["user"].(string)] = append(events[r["user"].(string)], oracle.Event{Ts: r["ts"].(int64), Values: r})
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, row := range rows {
		var user string
		for u := range events {
			if k, _ := online.AppendKey(nil, []any{u}); string(k) == string(row[core.KeyBytesColumn].([]byte)) {
				user = u
			}
		}
		if user == "" {
			t.Fatalf("upload key %q matches no user", row[core.KeyBytesColumn])
		}
		bv, err := spec.DecodeBatchValue(row[core.ValueBytesColumn].([]byte))
		if err != nil {
			t.Fatal(err)
		}
		for _, T := range []int64{res.BatchEnd, res.BatchEnd + rng.Int64N(2*day), res.BatchEnd + 2*day - 1} {
			got, err := spec.Fetch(bv, nil, T)
			if err != nil {
				t.Fatal(err)
			}
			parts := g.AggregationParts()
			for c, part := range parts {
				in := w.types["data.purchases"].Field(w.types["data.purchases"].FieldIndices(part.InputColumn)[0]).Type
				if err := oracle.Check(part, in, events[user], T, oracle.Exact, got[c], oracle.CheckOptions{}); err != nil {
					t.Errorf("user %s at batch end + %d ms: %s: %v", user, T-res.BatchEnd, part.OutputColumnName(), err)
				}
			}
		}
	}
}
