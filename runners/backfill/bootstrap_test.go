// SPDX-License-Identifier: Apache-2.0

package backfill_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/runners/backfill"
	"github.com/chronon-go/chronon/testing/oracle"
)

// Output columns of bootJoin.
const (
	colSum   = "test_boot_purchases_price_sum_1d"
	colCount = "test_boot_purchases_price_count_1d"
	colScore = "test_user_score_score"
)

// bootJoin joins checkouts (row id lid) with a temporal purchases part of
// two columns and the users' scores, bootstrapped from parts in order.
func bootJoin(name string, parts ...*api.BootstrapPart) *api.Join {
	left := api.EventsSource("data.checkouts", api.NewQuery(api.Selects("lid", "buyer"), "ts"))
	m := map[string]string{"buyer": "user"}
	g := api.NewGroupBy("test.boot_purchases", []*api.Source{api.EventsSource("data.purchases", purchasesQuery())}, []string{"user"},
		api.Sum("price", api.Days(1)), api.CountOf("price", api.Days(1)))
	g.Accuracy = api.Ptr(api.Temporal)
	j := api.NewJoin(name, left, api.Part(g, m), api.Part(usersPassthrough(), m))
	j.MetaData.OutputNamespace = "out"
	j.RowIDs = []string{"lid"}
	j.BootstrapParts = parts
	return j
}

// bootRows builds a bootstrap table's rows for the left rows keep selects:
// lid, ds and the columns vals gives (a nil value is a null cell).
func bootRows(w *world, keep func(lid int64) bool, vals func(lid int64) map[string]any) []oracle.Row {
	var out []oracle.Row
	for _, l := range w.tables["data.checkouts"] {
		lid := l["lid"].(int64)
		if !keep(lid) {
			continue
		}
		r := oracle.Row{"lid": lid, "ds": l["ds"]}
		for k, v := range vals(lid) {
			r[k] = v
		}
		out = append(out, r)
	}
	return out
}

// TestBootstrapCoverage checks, against the oracle of the plain join, the
// FAQ's coverage rules on random data: a subset of rows, a subset of a
// join part's columns (the part is computed and fills only the columns the
// bootstrap leaves null), two parts sharing a column (the higher one wins
// unless null), and that covered (row, join part) cells are not computed:
// the part tables hold only the uncovered rows.
func TestBootstrapCoverage(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { bootstrapCoverage(t, seed, "direct") })
	}
}

// TestBootstrapPrism runs TestBootstrapCoverage's checks on prism, the
// portable runner that executes the graph as Dataflow and Flink do, and
// checks that every table the join writes (output, part tables,
// _bootstrap) equals the direct runner's row for row.
func TestBootstrapPrism(t *testing.T) {
	if testing.Short() {
		t.Skip("prism runs take a few seconds")
	}
	rows := map[string][]string{}
	for _, r := range []string{"direct", "prism"} {
		rows[r] = bootstrapCoverage(t, 1, r)
	}
	if !slices.Equal(rows["direct"], rows["prism"]) {
		t.Fatalf("prism tables differ from direct:\ndirect: %v\nprism:  %v", rows["direct"], rows["prism"])
	}
}

// bootstrapCoverage is one seed of TestBootstrapCoverage on the named
// runner; it returns the rows of the tables the join wrote (tableRows).
func bootstrapCoverage(t *testing.T, seed uint64, runnerName string) []string {
	w := newWorld(t, rand.New(rand.NewPCG(seed, 5)), 3)
	inA := func(l int64) bool { return l%2 == 0 }
	inB := func(l int64) bool { return l%3 == 0 }
	w.put(t, "data.boot_a", schemaOf("lid", tInt, colSum, tInt, colScore, tInt), bootRows(w, inA, func(l int64) map[string]any {
		var sum any = 1000 + l
		if l%4 == 0 {
			sum = nil // a null falls through to the next source
		}
		return map[string]any{colSum: sum, colScore: 500 + l}
	}))
	w.put(t, "data.boot_b", schemaOf("lid", tInt, colSum, tInt, colCount, tInt), bootRows(w, inB, func(l int64) map[string]any {
		return map[string]any{colSum: 2000 + l, colCount: 3000 + l}
	}))
	j := bootJoin("test.boot_join", &api.BootstrapPart{Table: "data.boot_a"}, &api.BootstrapPart{Table: "data.boot_b"})
	ctx := context.Background()
	res, err := backfill.Join(ctx, w.wh, j, backfill.Options{Root: w.root, Runner: runner(runnerName), Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	plain := bootJoin("test.boot_join", nil...)
	want, err := oracle.JoinBackfill(plain, w.tables, w.types, res.Computed, oracle.Exact)
	if err != nil {
		t.Fatal(err)
	}
	uncoveredPurchases, uncoveredScores := 0, 0
	for _, r := range want {
		l := r["lid"].Value.(int64)
		if inA(l) && l%4 != 0 {
			r[colSum] = oracle.Cell{Value: 1000 + l}
		} else if inB(l) {
			r[colSum] = oracle.Cell{Value: 2000 + l}
		}
		if inB(l) {
			r[colCount] = oracle.Cell{Value: 3000 + l}
		} else {
			uncoveredPurchases++
		}
		if inA(l) {
			r[colScore] = oracle.Cell{Value: 500 + l}
		} else {
			uncoveredScores++
		}
	}
	check(t, j.MetaData.Name, want, output(t, w.wh, j.MetaData.OutputTable()), lidKey)
	bootTable := j.MetaData.TableWithSuffix(api.SuffixBootstrap)
	tables := []string{j.MetaData.OutputTable(), bootTable}
	for _, c := range []struct {
		part string
		n    int
	}{{"test_boot_purchases", uncoveredPurchases}, {"test_user_score", uncoveredScores}} {
		table := j.MetaData.OutputTable() + "_" + c.part
		tables = append(tables, table)
		if got := len(output(t, w.wh, table)); got != c.n {
			t.Errorf("%s: %d rows computed, want only the %d uncovered ones", table, got, c.n)
		}
	}
	boot := output(t, w.wh, bootTable)
	if len(boot) != len(want) {
		t.Fatalf("_bootstrap: %d rows, want %d", len(boot), len(want))
	}
	for _, r := range boot {
		l := r["lid"].(int64)
		if hs, _ := r["matched_hashes"].([]any); len(hs) != btoi(inA(l))+btoi(inB(l)) {
			t.Fatalf("_bootstrap row %d: matched_hashes %v", l, r["matched_hashes"])
		}
	}
	return tableRows(t, w, tables...)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
