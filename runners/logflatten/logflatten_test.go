// SPDX-License-Identifier: Apache-2.0

package logflatten_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/fetcher/fetchertest"
	"github.com/chronon-go/chronon/fetcher/logsink"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
	"github.com/chronon-go/chronon/runners/beamrun"
	"github.com/chronon-go/chronon/runners/logflatten"
	"github.com/chronon-go/chronon/testing/testkit"
)

const (
	B    = fetchertest.BatchEnd
	hour = fetchertest.Hour
	day  = fetchertest.Day
)

// served is one fetched response as a flattened row should show it.
type served struct {
	ts   int64
	keys map[string]any
	vals map[string]any
}

// fetchLogged fetches requests for buyers at times through a fetcher
// logging to the warehouse, and returns what it answered.
func fetchLogged(t *testing.T, store kv.Store, wh warehouse.Warehouse, reqs []fetcher.Request) []served {
	t.Helper()
	f := fetcher.New(store, fetcher.Options{LogSink: logsink.NewWarehouse(wh, "chronon"), LogBatchSize: 4})
	res := f.FetchJoin(context.Background(), reqs)
	if err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var out []served
	for i, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		out = append(out, served{ts: reqs[i].AtMillis, keys: reqs[i].Keys, vals: r.Values})
	}
	return out
}

// readLogged reads the flattened table as rows of column -> value (nulls
// omitted), sorted by ts (unique in these tests).
func readLogged(t *testing.T, wh warehouse.Warehouse, table string) ([]map[string]any, *arrow.Schema) {
	t.Helper()
	var rows []map[string]any
	// Render through JSON: one neutral form for every column type.
	schema := testkit.ScanRows(t, wh, table, func(rb arrow.RecordBatch, i int) {
		row := map[string]any{}
		for c, f := range rb.Schema().Fields() {
			col := rb.Column(c)
			if col.IsNull(i) {
				continue
			}
			b, err := json.Marshal(col.GetOneForMarshal(i))
			if err != nil {
				t.Fatal(err)
			}
			row[f.Name] = string(b)
		}
		rows = append(rows, row)
	})
	sort.SliceStable(rows, func(i, j int) bool { return fmt.Sprint(rows[i]["ts"]) < fmt.Sprint(rows[j]["ts"]) })
	return rows, schema
}

// expected renders a served response as its flattened row: ts, ds, the
// keys and the non-null values, without the contextual part (Chronon's
// flattener drops it: it repeats the keys).
func expected(t *testing.T, s served) map[string]any {
	t.Helper()
	row := map[string]any{}
	put := func(k string, v any) {
		if v == nil || strings.HasPrefix(k, fetchlog.ContextualPrefix) {
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		row[k] = string(b)
	}
	put("ts", s.ts)
	put("ds", time.UnixMilli(s.ts).UTC().Format("2006-01-02"))
	for k, v := range s.keys {
		put(k, v)
	}
	for k, v := range s.vals {
		put(k, v)
	}
	return row
}

// TestFlattenMatchesFetches fetches with logging through the real
// fetcher, flattens the log, and compares the flattened rows with the
// responses row for row, across two schema versions of the join.
func TestFlattenMatchesFetches(t *testing.T) { flattenMatchesFetches(t, beamrun.Direct) }

// TestFlattenPrism runs the same flattening on prism, the portable runner
// that executes the graph as Dataflow and Flink do, and checks the same
// rows.
func TestFlattenPrism(t *testing.T) {
	if testing.Short() {
		t.Skip("prism runs take a few seconds")
	}
	flattenMatchesFetches(t, beamrun.Prism)
}

// flattenMatchesFetches is TestFlattenMatchesFetches on the named runner.
func flattenMatchesFetches(t *testing.T, runner string) {
	ctx := context.Background()
	store, err := sqlite.Open(t.TempDir()+"/kv.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	j := fetchertest.LoadLogged(t, store, "test")
	root := t.TempDir()
	wh, err := parquet.Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()

	req := func(buyer any, id string, at int64) fetcher.Request {
		keys := map[string]any{"request_id": id}
		if buyer != nil {
			keys["buyer"] = buyer
		}
		return fetcher.Request{Name: "t/checkout", Keys: keys, AtMillis: at}
	}
	// Version 1: day 2024-10-02, with a missing key (an exception).
	want := fetchLogged(t, store, wh, []fetcher.Request{
		req("u1", "r1", B+hour), req("u2", "r2", B+2*hour), req(nil, "r3", B+3*hour), req("u1", "r4", B+23*hour),
	})
	// Version 2 adds a derivation (a new column); its logs are on both days.
	j.Derivations = append(j.Derivations, &api.Derivation{Name: "triple_sum", Expression: "3 * p_t_purchases_price_sum_1d"})
	fetchertest.PutJoin(t, store, j, 2)
	want = append(want, fetchLogged(t, store, wh, []fetcher.Request{
		req("u1", "r5", B+4*hour), req("u1", "r6", B+day+hour),
	})...)

	sort.SliceStable(want, func(i, j int) bool { return want[i].ts < want[j].ts })
	opts := logflatten.Options{Root: root, End: "2024-10-03", Runner: beamrun.Options{Runner: runner}}
	res, err := logflatten.Run(ctx, wh, j, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Table != "test.t_checkout_logged" || !reflect.DeepEqual(res.Computed, []string{"2024-10-02", "2024-10-03"}) ||
		res.Rows != int64(len(want)) || res.Schemas != 2 || res.Malformed != 0 {
		t.Fatalf("result %+v", res)
	}
	rows, schema := readLogged(t, wh, res.Table)
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	hashes := map[string]bool{}
	for i, w := range want {
		got := rows[i]
		hashes[got["schema_hash"].(string)] = true
		delete(got, "schema_hash")
		if e := expected(t, w); !reflect.DeepEqual(got, e) {
			t.Errorf("row %d\n got %v\nwant %v", i, got, e)
		}
	}
	if len(hashes) != 2 {
		t.Errorf("rows carry %d schema hashes, want 2", len(hashes))
	}
	// Version 1 rows are null in version 2's new column, which exists.
	if schema.FieldIndices("triple_sum") == nil || rows[0]["triple_sum"] != nil {
		t.Errorf("triple_sum: schema %v, first row %v", schema, rows[0])
	}
	if schema.FieldIndices("p_t_purchases_exception") == nil || schema.FieldIndices("ext_contextual_request_id") != nil {
		t.Errorf("columns %v: want the exception column and no contextual one", schema)
	}

	// A re-run computes nothing; a malformed record on a new day is
	// skipped and counted, and the day is still flattened.
	if res, err := logflatten.Run(ctx, wh, j, opts); err != nil || len(res.Computed) != 0 {
		t.Fatalf("re-run computed %v (%v)", res, err)
	}
	sink := logsink.NewWarehouse(wh, "chronon")
	good := fetchLogged(t, store, wh, []fetcher.Request{req("u1", "r7", B+2*day+hour)})
	if err := sink.WriteLogs(ctx, []fetchlog.Record{
		{KeyBytes: []byte{9}, ValueBytes: []byte{9}, JoinName: "t/checkout", TsMillis: B + 2*day, SchemaHash: "nope"},
		{KeyBytes: []byte{9}, ValueBytes: []byte{9}, JoinName: "t/other", TsMillis: B + 2*day, SchemaHash: "nope"},
	}); err != nil {
		t.Fatal(err)
	}
	opts.End = "2024-10-04"
	res, err = logflatten.Run(ctx, wh, j, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Computed, []string{"2024-10-04"}) || res.Rows != 1 || res.Malformed != 1 ||
		len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "never published") {
		t.Errorf("result %+v", res)
	}
	rows, _ = readLogged(t, wh, res.Table)
	last := rows[len(rows)-1]
	delete(last, "schema_hash")
	if e := expected(t, good[0]); !reflect.DeepEqual(last, e) {
		t.Errorf("day 3 row %v, want %v", last, e)
	}
}

func TestNoLogs(t *testing.T) {
	wh, err := parquet.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	j := api.NewJoin("t.j", api.EventsSource("data.x", api.NewQuery(api.Selects("a"), "ts")))
	if _, err := logflatten.Run(context.Background(), wh, j, logflatten.Options{}); err == nil || !strings.Contains(err.Error(), "no fetch logs yet") {
		t.Errorf("err %v", err)
	}
}
