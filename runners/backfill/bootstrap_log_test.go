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

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/fetcher/logsink"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
	"github.com/chronon-go/chronon/runners/backfill"
	"github.com/chronon-go/chronon/runners/logflatten"
	"github.com/chronon-go/chronon/runners/metadata"
	"github.com/chronon-go/chronon/testing/oracle"
	"github.com/chronon-go/chronon/transforms"
)

// servedJoinOn is bootJoin over data.late_checkouts, served online with
// every request logged and the row id lid (and a request field ctx)
// passed as contextual fields, as the walkthrough's "Set up log-based
// data refresh for an online model" defines it.
func servedJoinOn(name string, parts ...*api.BootstrapPart) *api.Join {
	j := bootJoin(name, parts...)
	j.Left = api.EventsSource("data.late_checkouts", api.NewQuery(api.Selects("lid", "buyer"), "ts"))
	j.MetaData.Online = true
	j.MetaData.SamplePercent = 100
	for _, jp := range j.JoinParts {
		jp.GroupBy.MetaData.OutputNamespace = "out" // uploads need one
	}
	ctx := &api.TDataType{Kind: api.StructKind, Params: []*api.DataField{
		{Name: "lid", DataType: &api.TDataType{Kind: api.LongKind}},
		{Name: "ctx", DataType: &api.TDataType{Kind: api.StringKind}}}}
	j.OnlineExternalParts = []*api.ExternalPart{{Source: &api.ExternalSource{MetaData: &api.MetaData{Name: "contextual"}, KeySchema: ctx, ValueSchema: ctx}}}
	return j
}

// loggedWorld is a world whose join v2 (servedJoinOn) was served on the
// day after its last uploaded day, and whose fetch logs were flattened
// into logged. The rows loggedLid selects were served: those oldSchema
// selects before the scores part was added to v2 (their logging schema
// lacks its column), and those retried selects twice, an earlier request
// first. The scores and purchases changed after serving, so a recomputed
// cell differs from a logged one.
type loggedWorld struct {
	*world
	v2     *api.Join
	logged string
}

func loggedLid(l int64) bool { return l%3 != 0 }
func oldSchema(l int64) bool { return l%4 == 0 }
func retried(l int64) bool   { return l%5 == 1 }

func newLoggedWorld(t *testing.T, seed uint64) *loggedWorld {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 17))
	w := newWorld(t, rng, 3)
	last := int64(20000 + 2) // the uploaded day
	batchEnd := (last + 1) * day
	var left []oracle.Row
	for i := int64(1); i <= 30; i++ {
		var buyer any = []string{"a", "b", "c", "d", "e", "nobody"}[rng.IntN(6)]
		if rng.IntN(15) == 0 {
			buyer = nil
		}
		left = append(left, oracle.Row{"lid": i, "buyer": buyer, "ts": batchEnd + 1 + rng.Int64N(day-1), "ds": ds(last + 1)})
	}
	w.put(t, "data.late_checkouts", schemaOf("lid", tInt, "buyer", tString, "ts", tInt), left)

	v2 := servedJoinOn("test.boot_served")
	old := servedJoinOn("test.boot_served")
	old.JoinParts = old.JoinParts[:1]
	store, err := sqlite.Open(t.TempDir()+"/kv.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, jp := range v2.JoinParts {
		if _, err := backfill.Upload(ctx, w.wh, jp.GroupBy, ds(last), store, backfill.Options{Root: w.root, Runner: runner("direct"), Shards: 2}); err != nil {
			t.Fatal(err)
		}
	}
	served := 0
	for i, j := range []*api.Join{old, v2} {
		if _, err := metadata.Upload(ctx, store, []any{j}, batchEnd+int64(i)); err != nil {
			t.Fatal(err)
		}
		var reqs []fetcher.Request
		for _, l := range left {
			lid, ts := l["lid"].(int64), l["ts"].(int64)
			if !loggedLid(lid) || oldSchema(lid) != (j == old) {
				continue
			}
			req := func(at int64, ctxVal string) fetcher.Request {
				return fetcher.Request{Name: api.NameToFilePath(j.MetaData.Name), Keys: map[string]any{"buyer": l["buyer"], "lid": lid, "ctx": ctxVal}, AtMillis: at}
			}
			if retried(lid) {
				reqs = append(reqs, req(batchEnd+(ts-batchEnd)/2, fmt.Sprint("early", lid)))
			}
			reqs = append(reqs, req(ts, fmt.Sprint("ctx", lid)))
		}
		f := fetcher.New(store, fetcher.Options{LogSink: logsink.NewWarehouse(w.wh, "chronon"), LogBatchSize: 7})
		for i, r := range f.FetchJoin(ctx, reqs) {
			failed := slices.ContainsFunc(slices.Collect(maps.Keys(r.Values)), func(k string) bool { return strings.HasSuffix(k, "_exception") })
			if r.Err != nil || failed {
				t.Fatalf("request %d: %v %v", i, r.Err, r.Values)
			}
		}
		if err := f.Close(ctx); err != nil {
			t.Fatal(err)
		}
		served += len(reqs)
	}
	res, err := logflatten.Run(ctx, w.wh, v2, logflatten.Options{Root: w.root, End: ds(last + 1), Runner: runner("direct")})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != int64(served) || res.Malformed != 0 || res.Schemas != 2 {
		t.Fatalf("flattened %d rows (%d malformed) of %d schemas, want %d of 2", res.Rows, res.Malformed, res.Schemas, served)
	}

	// What the backfill computes changes after serving: new scores in the
	// uploaded snapshot, and purchases on the served day before every
	// request.
	w.bumpScores(t)
	purchases := append([]oracle.Row(nil), w.tables["data.purchases"]...)
	for _, u := range []string{"a", "b", "c", "d", "e"} {
		purchases = append(purchases, oracle.Row{"user": u, "price": int64(500), "rate": 1.0, "category": "x", "store": nil, "ts": batchEnd, "ds": ds(last + 1)})
	}
	w.put(t, "data.purchases", w.types["data.purchases"], purchases)
	return &loggedWorld{world: w, v2: v2, logged: res.Table}
}

// logSource reads the flattened log table as a bootstrap part: a row
// fills the keys and values of its logging schema (the table property
// the flattener stores per schema hash), and of a row id logged twice a
// day the latest request counts (walkthrough "Set up log-based data
// refresh": "ROW_NUMBER() OVER (PARTITION BY event_id, ds ORDER BY ts
// DESC) AS rank ... WHERE rank = 1").
func (lw *loggedWorld) logSource(t *testing.T) bootSource {
	t.Helper()
	info, err := lw.wh.Describe(context.Background(), lw.logged)
	if err != nil {
		t.Fatal(err)
	}
	src := bootSource{}
	for _, r := range output(t, lw.wh, lw.logged) {
		h := r[fetchlog.ColSchemaHash].(string)
		s, err := fetchlog.ParseSchema(info.Properties[transforms.SchemaProperty+h])
		if err != nil {
			t.Fatalf("schema %s: %v", h, err)
		}
		cells := map[string]any{"ts": r["ts"]}
		for _, f := range append(s.Keys, s.Values...) {
			cells[f.Name] = r[f.Name]
		}
		if prev, dup := src[lidKey(r)]; !dup || prev["ts"].(int64) < r["ts"].(int64) {
			src[lidKey(r)] = cells
		}
	}
	return src
}

// expectContextual adds the contextual values to the expected rows: lid
// from the left, ctx from the bootstrap (the log's key).
func expectContextual(rows []oracle.ExpectedRow, srcs ...bootSource) {
	for _, r := range rows {
		v, _ := coalesced(rowKey(r), "ctx", srcs)
		r["ext_contextual_lid"] = r["lid"]
		r["ext_contextual_ctx"] = oracle.Cell{Value: v}
	}
}

// servedDiffers fails unless some logged value of each of cols differs
// from what the backfill computes now, so that the test tells them apart.
func servedDiffers(t *testing.T, rows []oracle.ExpectedRow, log bootSource, cols ...string) {
	t.Helper()
	for _, c := range cols {
		n := 0
		for _, r := range rows {
			if cells, ok := log[rowKey(r)]; ok && fmt.Sprint(cells[c]) != fmt.Sprint(exact(t, r[c])) {
				n++
			}
		}
		if n == 0 {
			t.Fatalf("every logged %s equals the recomputed one", c)
		}
	}
}

// FAQ "How to set up log-based training data generation properly?":
// "Log-based training data generation is the idea to leverage this
// workflow and the bootstrap functionality to stitch log data and
// backfill data together", with "row ids" passed "as a contextual
// feature"; and walkthrough step "Set bootstrap_from_log to True": "for
// features that are already logged, Chronon will run the bootstrap to
// pull values from logs and skip backfill." A new version of the join
// (Chronon's LogBootstrapTest: v1 -> v2, here v2 -> v3) adds a group-by:
// it is computed for every row, the logged group-bys only for the rows
// not logged, and logged rows keep the served values. The contextual field
// ctx is only on the log (FAQ "How does bootstrap for external parts
// work?": "These values can then be included in the join table through
// bootstrap_from_log"). Rows logged before the scores part was added
// (an older logging schema, whose null score means "not logged", not
// NULL) compute it; a row id served twice takes its latest log row.
func TestBootstrapFAQ_LogNewFeature(t *testing.T) {
	for seed := uint64(1); seed <= 2; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			lw := newLoggedWorld(t, seed)
			log := lw.logSource(t)
			v3 := servedJoinOn("test.boot_v3", &api.BootstrapPart{Table: lw.logged})
			v3.JoinParts = append(v3.JoinParts, api.Part(usersAgg(), map[string]string{"buyer": "user"}))
			rows := runBoot(t, lw.world, v3)
			servedDiffers(t, rows, log, colScore, colSum, colCount)
			uncovered := bootExpect(v3, rows, log)
			if len(uncovered["test_user_agg"]) != len(rows) {
				t.Fatal("the new group-by must be computed for every row")
			}
			notVacuous(t, rows, uncovered, partScore)
			notVacuous(t, rows, uncovered, partPurchases)
			expectContextual(rows, log)
			checkBoot(t, lw.world, v3, rows, uncovered)
		})
	}
}

// FAQ "What happens if there are multiple bootstrap parts that contain the
// same field?": "Also, note that the log table always has the lowest
// priority (when bootstrap_from_log is enabled)" (bootstrap_from_log
// appends the log table to the parts), and walkthrough "Overwrite
// incorrect logged feature values": "providing a custom backfill table"
// registered "as a bootstrap part in the join". The table's values win
// over the log's, its nulls fall through to the log, and a row the table
// covers partly is covered by table and log together.
func TestBootstrapFAQ_LogLowestPriority(t *testing.T) {
	for seed := uint64(1); seed <= 2; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			lw := newLoggedWorld(t, seed)
			log := lw.logSource(t)
			fix := putBootTable(t, lw.world, "data.boot_fix", "data.late_checkouts", schemaOf("lid", tInt, colScore, tInt, colSum, tInt),
				func(l int64) bool { return l%2 == 0 }, func(l int64, c string) any {
					if l%4 == 0 && c == colScore {
						return nil
					}
					return distinct(1, l, c)
				})
			v3 := servedJoinOn("test.boot_v3", &api.BootstrapPart{Table: "data.boot_fix"}, &api.BootstrapPart{Table: lw.logged})
			rows := runBoot(t, lw.world, v3)
			uncovered := bootExpect(v3, rows, fix, log)
			notVacuous(t, rows, uncovered, partScore)
			notVacuous(t, rows, uncovered, partPurchases)
			expectContextual(rows, fix, log)
			checkBoot(t, lw.world, v3, rows, uncovered)
		})
	}
}
