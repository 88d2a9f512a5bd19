// SPDX-License-Identifier: Apache-2.0

package consistency_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/expr"
	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/fetcher/logsink"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
	"github.com/chronon-go/chronon/runners/backfill"
	"github.com/chronon-go/chronon/runners/beamrun"
	"github.com/chronon-go/chronon/runners/consistency"
	"github.com/chronon-go/chronon/runners/logflatten"
	"github.com/chronon-go/chronon/runners/metadata"
	"github.com/chronon-go/chronon/testing/testkit"
)

// The world: three days of purchases and returns up to the uploaded day
// D, a users snapshot of D, and requests served on D+1 from D's upload.
const (
	hour     = int64(3600 * 1000)
	day      = 24 * hour
	batchEnd = int64(1727827200000) // 2024-10-02 00:00 UTC
	uploadDS = "2024-10-01"
	servedDS = "2024-10-02"
	joinName = "test/consistency_join"
)

var users = []string{"u1", "u2", "u3", "u4", "u5"}

// purchases is a SNAPSHOT GroupBy (no topic, accuracy unset), as the
// quickstart's purchases.v1.
func purchases() *api.GroupBy {
	g := api.NewGroupBy("test.purchases", []*api.Source{api.EventsSource("data.purchases",
		api.NewQuery(api.Selects("user", "price"), "ts"))}, []string{"user"},
		api.Sum("price", api.Days(1), api.Days(7)), api.CountOf("price", api.Days(7)), api.LastK("price", 3))
	g.MetaData.Online = true
	g.MetaData.OutputNamespace = "test"
	return g
}

// returns is TEMPORAL (point-in-time), as the quickstart's returns.v1.
func returns() *api.GroupBy {
	g := api.NewGroupBy("test.returns", []*api.Source{api.EventsSource("data.returns",
		api.NewQuery(api.Selects("user", "refund"), "ts"))}, []string{"user"},
		api.Sum("refund", api.Days(1)), api.Avg("refund", api.Days(7)), api.CountOf("refund"))
	g.Accuracy = api.Ptr(api.Temporal)
	g.MetaData.Online = true
	g.MetaData.OutputNamespace = "test"
	return g
}

// usersGB is an entity GroupBy without aggregations, as users.v1.
func usersGB() *api.GroupBy {
	g := api.NewGroupBy("test.users", []*api.Source{api.EntitiesSource("data.users",
		api.NewQuery(api.Selects("user", "tier", "score"), ""))}, []string{"user"})
	g.MetaData.Online = true
	g.MetaData.OutputNamespace = "test"
	return g
}

// theJoin joins the three on the request key "user_id", logs every
// request, and derives a column from the returns part (not from purchases,
// the GroupBy the skew test skews).
func theJoin() *api.Join {
	left := api.EventsSource("data.checkouts", api.NewQuery(api.Selects("user_id"), "ts"))
	m := map[string]string{"user_id": "user"}
	j := api.NewJoin("test.consistency_join", left, api.Part(purchases(), m), api.Part(returns(), m), api.Part(usersGB(), m))
	j.MetaData.Online = true
	j.MetaData.OutputNamespace = "test"
	j.MetaData.SamplePercent = 100
	j.Derivations = []*api.Derivation{
		{Name: "*", Expression: "*"},
		{Name: "refund_x2", Expression: "2 * test_returns_refund_sum_1d"},
	}
	return j
}

// world is a warehouse with the source tables.
type world struct {
	root string
	wh   warehouse.Warehouse
}

// newWorld writes the source tables. skew adds a purchase of u1 an hour
// before the batch end: an upload from such a world serves skewed
// purchases features for u1 and only u1.
func newWorld(t *testing.T, skew bool) *world {
	t.Helper()
	root := t.TempDir()
	wh, err := parquet.Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	w := &world{root: root, wh: wh}
	var buys, rets []map[string]any
	// Deterministic events over days D-2..D, some right at day edges.
	for i := range 60 {
		u := users[i%len(users)]
		ts := batchEnd - 3*day + int64(i)*(3*day/60) + int64(i%3) - 1
		buys = append(buys, map[string]any{"user": u, "price": int64(10 + i), "ts": ts, "ds": batch.DSOfMillis(ts)})
		if i%4 != 3 { // u4 and others get fewer returns
			rets = append(rets, map[string]any{"user": u, "refund": int64(3 * i), "ts": ts + 7*hour, "ds": batch.DSOfMillis(ts + 7*hour)})
		}
	}
	if skew {
		ts := batchEnd - hour
		buys = append(buys, map[string]any{"user": "u1", "price": int64(1000), "ts": ts, "ds": batch.DSOfMillis(ts)})
	}
	var rows []map[string]any
	for _, r := range rets {
		if r["ts"].(int64) < batchEnd { // nothing after the batch end: no streaming here
			rows = append(rows, r)
		}
	}
	var snap []map[string]any
	for i, u := range users[:4] { // u5 has no snapshot row
		snap = append(snap, map[string]any{"user": u, "tier": fmt.Sprint("tier", i%2), "score": float64(i) / 3, "ds": uploadDS})
	}
	str, i64, f64 := arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64
	put(t, wh, "data.purchases", fields("user", str, "price", i64, "ts", i64), buys)
	put(t, wh, "data.returns", fields("user", str, "refund", i64, "ts", i64), rows)
	put(t, wh, "data.users", fields("user", str, "tier", str, "score", f64), snap)
	return w
}

func fields(cols ...any) *arrow.Schema { return testkit.Schema(cols...) }

// put writes rows (with "ds") to a table, a partition per ds.
func put(t *testing.T, wh warehouse.Warehouse, table string, schema *arrow.Schema, rows []map[string]any) {
	t.Helper()
	testkit.PutRows(t, wh, table, schema, rows)
}

func direct() beamrun.Options { return beamrun.Options{Runner: "direct"} }

// requests are the served requests: every user (and an unknown one, and
// a null key) at times through the day after the upload, one request
// twice (same key and ts: pairing must count it twice).
func requests() []fetcher.Request {
	var reqs []fetcher.Request
	for i := range 24 {
		keys := map[string]any{"user_id": append(slices.Clone(users), "nobody")[i%6]}
		if i == 23 {
			keys = map[string]any{"user_id": nil}
		}
		reqs = append(reqs, fetcher.Request{Name: joinName, Keys: keys, AtMillis: batchEnd + int64(i)*(59*60*1000) + int64(i%2)})
	}
	return append(reqs, reqs[7])
}

// serveAndCheck uploads the join's GroupBys (purchases from skewed when
// it is not nil), serves requests() through the real fetcher logging to
// w's warehouse, flattens the log and runs consistency for the served
// day.
func serveAndCheck(t *testing.T, w, skewed *world) *consistency.Result {
	t.Helper()
	ctx := context.Background()
	j := theJoin()
	store, err := sqlite.Open(t.TempDir()+"/kv.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, jp := range j.JoinParts {
		src := w
		if skewed != nil && jp.GroupBy.MetaData.Name == "test.purchases" {
			src = skewed
		}
		if _, err := backfill.Upload(ctx, src.wh, jp.GroupBy, uploadDS, store, backfill.Options{Root: src.root, Runner: direct(), Shards: 2}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := metadata.Upload(ctx, store, []any{j}, batchEnd); err != nil {
		t.Fatal(err)
	}
	f := fetcher.New(store, fetcher.Options{LogSink: logsink.NewWarehouse(w.wh, "chronon"), LogBatchSize: 7})
	for i, r := range f.FetchJoin(ctx, requests()) {
		if r.Err != nil {
			t.Fatalf("request %d: %v", i, r.Err)
		}
		for k, v := range r.Values {
			if strings.HasSuffix(k, "_exception") {
				t.Fatalf("request %d: %s = %v", i, k, v)
			}
		}
	}
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// Before flattening, consistency refuses the day and says what to do.
	_, err = consistency.Run(ctx, w.wh, j, servedDS, consistency.Options{Root: w.root, Runner: direct()})
	if !errors.Is(err, consistency.ErrNotFlattened) || !strings.Contains(err.Error(), "chronon log-flatten") {
		t.Fatalf("consistency before log-flatten: %v", err)
	}
	if _, err := logflatten.Run(ctx, w.wh, j, logflatten.Options{Root: w.root, End: servedDS, Runner: direct()}); err != nil {
		t.Fatal(err)
	}
	res, err := consistency.Run(ctx, w.wh, j, servedDS, consistency.Options{Root: w.root, Runner: direct(), Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	n := int64(len(requests()))
	if res.Rows != n || res.UnpairedLogged != 0 || res.UnpairedOffline != 0 || res.Unsampled != 0 || !res.Recomputed {
		t.Fatalf("result %+v, want %d rows, all paired", res, n)
	}
	// Every value column of the join is compared; the logged-only
	// columns are the _exception entries.
	want := map[string]bool{"refund_x2": true}
	for _, jp := range j.JoinParts {
		for _, c := range jp.ValueColumns() {
			want[c] = true
		}
	}
	got := map[string]bool{}
	for _, f := range res.Features {
		got[f.Name] = true
		if f.Metrics.Total != n {
			t.Errorf("%s: total %d, want %d", f.Name, f.Metrics.Total, n)
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("compared %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	for _, c := range res.Excluded {
		if !strings.HasSuffix(c, "_exception") {
			t.Errorf("excluded %s", c)
		}
	}
	checkTable(t, w.wh, res)
	var sum strings.Builder
	if err := res.WriteSummary(&sum, batch.FormatTable); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + sum.String())
	return res
}

// checkTable reads the _consistency partition back: a row per feature
// with the result's metrics.
func checkTable(t *testing.T, wh warehouse.Warehouse, res *consistency.Result) {
	t.Helper()
	ctx := context.Background()
	sc, err := wh.Scan(ctx, res.Table, warehouse.ScanOptions{StartDS: res.DS, EndDS: res.DS})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	rows := map[string]map[string]any{}
	for {
		rec, err := sc.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range int(rec.NumRows()) {
			row := map[string]any{}
			for c, f := range rec.Schema().Fields() {
				row[f.Name] = expr.ValueAt(rec.Column(c), i)
			}
			rows[row[consistency.ColFeature].(string)] = row
		}
		rec.Release()
	}
	if len(rows) != len(res.Features) {
		t.Fatalf("%s has %d rows, want %d", res.Table, len(rows), len(res.Features))
	}
	for _, f := range res.Features {
		r := rows[f.Name]
		if r[consistency.ColMismatch] != f.Metrics.Mismatch || r[consistency.ColMissing] != f.Metrics.Missing ||
			r[consistency.ColExtra] != f.Metrics.Extra || r[consistency.ColTotal] != f.Metrics.Total || r["ds"] != res.DS {
			t.Errorf("%s row %v, metrics %+v", f.Name, r, f.Metrics)
		}
		if gb := r[consistency.ColGroupBy]; (gb == nil) != (f.GroupBy == "") {
			t.Errorf("%s: group_by %v, want %q", f.Name, gb, f.GroupBy)
		}
	}
}

// TestConsistentServing: requests served from the batch upload within
// its exact range are recomputed offline to the same values: no
// mismatch, missing or extra value for any feature.
func TestConsistentServing(t *testing.T) {
	w := newWorld(t, false)
	res := serveAndCheck(t, w, nil)
	nonNull := int64(0)
	for _, f := range res.Features {
		m := f.Metrics
		if m.Inconsistent() != 0 {
			t.Errorf("%s (%s): %+v", f.Name, f.GroupBy, m)
		}
		nonNull += m.Total - m.BothNull
		if s, ok := m.SMAPE(); ok && s != 0 {
			t.Errorf("%s: smape %v", f.Name, s)
		}
	}
	// The comparison is not vacuous: most values are present.
	if nonNull < int64(len(res.Features))*int64(len(requests()))/2 {
		t.Errorf("only %d non-null values compared", nonNull)
	}

	// A re-run reuses the comparison partition and rewrites the same
	// metrics.
	again, err := consistency.Run(context.Background(), w.wh, theJoin(), servedDS, consistency.Options{Root: w.root, Runner: direct()})
	if err != nil {
		t.Fatal(err)
	}
	if again.Recomputed || !slices.EqualFunc(again.Features, res.Features, func(a, b consistency.Feature) bool {
		return a.Name == b.Name && a.Metrics == b.Metrics
	}) {
		t.Errorf("re-run: recomputed %v, features %+v", again.Recomputed, again.Features)
	}
	checkTable(t, w.wh, again)
}

// TestSkewedValue: purchases uploaded from data with an extra purchase
// for u1 are reported as mismatches of the purchases features, on u1's
// rows only, and nothing else.
func TestSkewedValue(t *testing.T) {
	res := serveAndCheck(t, newWorld(t, false), newWorld(t, true))
	u1 := int64(0)
	for _, r := range requests() {
		if r.Keys["user_id"] == "u1" {
			u1++
		}
	}
	for _, f := range res.Features {
		m := f.Metrics
		if f.GroupBy != "test.purchases" {
			if m.Inconsistent() != 0 {
				t.Errorf("%s (%s) is not skewed: %+v", f.Name, f.GroupBy, m)
			}
			continue
		}
		// u1 has purchases either way: both sides are present.
		if m.Mismatch != u1 || m.Missing != 0 || m.Extra != 0 {
			t.Errorf("%s: %+v, want %d mismatches", f.Name, m, u1)
		}
		if s, ok := m.SMAPE(); strings.HasSuffix(f.Name, "_last3") == ok || ok && s <= 0 {
			t.Errorf("%s: smape %v %v", f.Name, s, ok)
		}
	}
}
