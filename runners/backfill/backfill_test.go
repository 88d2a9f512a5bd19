// SPDX-License-Identifier: Apache-2.0

package backfill_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/chronon-go/chronon/core/api"
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
			for _, g := range []*api.GroupBy{purchasesGB("test.purchases", api.Temporal), usersAgg(), usersPassthrough()} {
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
				check(t, g.MetaData.Name, want, got, func(r map[string]any) string { return fmt.Sprint(r["ds"], "/", r["user"], "/", r["score"]) })
			}
		})
	}
}
