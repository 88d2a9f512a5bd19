// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/apache/arrow-go/v18/arrow"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/online"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
)

const (
	odmDay       = "2023-11-30"
	odmLogged    = "default.quickstart_training_set_v2_logged"
	odmV3        = "default.quickstart_training_set_v3"
	odmSkewedCol = "quickstart_purchases_v1_purchase_price_sum_30d"
)

// TestODMCycle runs examples/quickstart/odm.sh (serve and log with
// streaming, flatten, consistency, a bootstrapped v3, labels) and checks
// the acceptance on what it leaves:
//
//   - consistency on the quickstart reports 0 mismatches;
//   - v3's columns of the served checkouts equal the logged (served)
//     values row for row, and the join parts they cover were not computed
//     for those rows: only the new feature (users) was, for every row;
//   - the checkouts not served are backfilled in full (equal to v1's rows);
//   - the labels land in label_ds 2023-11-30 with the refunds of the
//     checkout's user that day, summed here from returns.csv;
//
// then skews one KV batch value (one feature of one user) and serves and
// checks again: consistency reports mismatches for that feature only, on
// that user's rows, and v3 recomputed bootstraps the skewed served values.
func TestODMCycle(t *testing.T) {
	work := filepath.Join(t.TempDir(), "odm")
	cmd := exec.Command("bash", filepath.Join(srcRoot(), "examples", "quickstart", "odm.sh"))
	cmd.Env = append(cmd.Environ(), "CHRONON="+chronon, "CHRONON_SRC="+srcRoot(), "END_DATE="+odmDay, "ODM_DIR="+work,
		"ODM_PUBSUB_PORT="+strconv.Itoa(freePort(t)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("odm.sh: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "0 of 20 features inconsistent") {
		t.Errorf("consistency of the served values should find 0 of 20 features inconsistent:\n%s", out)
	}

	logged := byKey(t, jsonRows(t, work, odmLogged), "return_id")
	v3 := byKey(t, jsonRows(t, work, odmV3), "return_id")
	if len(logged) != 150 || len(v3) != 200 {
		t.Fatalf("%d logged rows and %d v3 rows, want 150 and 200", len(logged), len(v3))
	}
	// Bootstrapped cells hold the served values, column for column.
	compared := 0
	for id, lr := range logged {
		for col, v := range lr {
			if _, ok := v3[id][col]; !ok || !strings.HasPrefix(col, "quickstart_") {
				continue // keys, schema_hash, exceptions
			}
			compared++
			if !reflect.DeepEqual(v3[id][col], v) {
				t.Errorf("checkout %s: v3 %s = %v, logged %v", id, col, v3[id][col], v)
			}
		}
	}
	if compared != 150*20 {
		t.Errorf("compared %d bootstrapped cells, want 150 rows x 20 features", compared)
	}
	// Covered (row, part) cells were not computed; the new part was.
	for table, want := range map[string]int{
		odmV3 + "_quickstart_purchases_v1": 50, odmV3 + "_quickstart_returns_v1": 50, odmV3 + "_quickstart_users_v1": 200,
	} {
		if n := len(jsonRows(t, work, table)); n != want {
			t.Errorf("%s computed %d rows, want %d", table, n, want)
		}
	}
	// v1 has the same parts without bootstrap: the checkouts not served
	// equal it in every column, the served ones in the new feature's.
	mustRun(t, work, "backfill", "--conf", "quickstart.training_set.v1")
	v1 := byKey(t, jsonRows(t, work, "default.quickstart_training_set_v1"), "user_id", "ts")
	for id, r := range v3 {
		want := v1[fmt.Sprint(r["user_id"], "/", r["ts"])]
		if want == nil {
			t.Fatalf("checkout %s has no v1 row", id)
		}
		for col, v := range want {
			if _, served := logged[id]; served && !strings.HasPrefix(col, "quickstart_users_v1") {
				continue
			}
			if !reflect.DeepEqual(r[col], v) {
				t.Errorf("checkout %s (served %t): v3 %s = %v, v1 %v", id, logged[id] != nil, col, r[col], v)
			}
		}
	}

	checkLabels(t, work, v3)
	checkSkew(t, work, logged)
	checkRunConsistency(t, work)
}

// checkRunConsistency: with consistency_check (every logged row sampled),
// chronon run's consistency step for v2 recomputes the day's report, which
// still finds the feature checkSkew skewed.
func checkRunConsistency(t *testing.T, work string) {
	t.Helper()
	defs := filepath.Join(work, "joins", "quickstart", "training_set.yaml")
	src, err := os.ReadFile(defs)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, defs, strings.Replace(string(src), "  sample_percent: 100\n", "  sample_percent: 100\n  consistency_check: true\n  consistency_sample_percent: 100\n", 1))
	mustRun(t, work, "compile")
	if err := os.RemoveAll(filepath.Join(warehouseDir(work), "default", "quickstart_training_set_v2_consistency")); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, work, "run", "--ds", odmDay, "--conf", "quickstart.training_set.v2", "--no-wait")
	got := summary(t, out)
	if w := "1 (2023-11-30) done"; got["consistency:quickstart.training_set.v2"] != w || !strings.Contains(out, "1 of 20 features inconsistent") {
		t.Errorf("consistency step: %q, want %q, and 1 of 20 features inconsistent:\n%s", got["consistency:quickstart.training_set.v2"], w, out)
	}
	if n := len(jsonRows(t, work, "default.quickstart_training_set_v2_consistency")); n != 20 {
		t.Errorf("the run's consistency report has %d features, want 20", n)
	}
}

// checkLabels: every v3 row has a label of label_ds 2023-11-30, the sum of
// its user's refunds on that day (null without any).
func checkLabels(t *testing.T, work string, v3 map[string]map[string]any) {
	t.Helper()
	start := int64(1701302400000) // 2023-11-30 00:00 UTC
	refunds := map[string]int64{}
	for _, r := range readCSV(t, filepath.Join(work, "data", "returns.csv")) {
		if ts := atoi(t, r["ts"]); ts >= start && ts < start+24*3600*1000 {
			refunds[r["user_id"]] += atoi(t, r["refund_amt"])
		}
	}
	labels := byKey(t, jsonRows(t, work, odmV3+"_labels"), "return_id")
	if len(labels) != len(v3) {
		t.Errorf("%d label rows, want one per checkout (%d)", len(labels), len(v3))
	}
	withRefunds := 0
	for id, l := range labels {
		var want any
		if sum, ok := refunds[fmt.Sprint(l["user_id"])]; ok {
			want, withRefunds = float64(sum), withRefunds+1
		}
		if l["label_ds"] != odmDay || !reflect.DeepEqual(l["quickstart_returns_label_v1_refund_amt_sum_1d"], want) {
			t.Errorf("checkout %s: label %v of label_ds %v, want %v of %s", id, l["quickstart_returns_label_v1_refund_amt_sum_1d"], l["label_ds"], want, odmDay)
		}
	}
	if withRefunds == 0 {
		t.Error("no checkout's user refunded anything that day: the label check is vacuous")
	}
}

// checkSkew replaces one feature in one served user's batch value by
// another user's, serves the same checkouts again, and checks that
// consistency flags that feature only, on that user's rows.
func checkSkew(t *testing.T, work string, logged map[string]map[string]any) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(work, ".chronon", "kv.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ds := "QUICKSTART_PURCHASES_V1_BATCH"
	get := func(key []byte) kv.Entry {
		res, err := store.MultiGet(ctx, []kv.GetRequest{{Dataset: ds, Key: key}})
		if err != nil || res[0].Err != nil || len(res[0].Values) != 1 {
			t.Fatalf("read %s %q: %v %v", ds, key, err, res)
		}
		return res[0].Values[0]
	}
	info, err := online.ParseServingInfo(get([]byte(api.ServingInfoKey)).Value)
	if err != nil {
		t.Fatal(err)
	}
	gb, err := backfill.CompileGroupBy(info.GroupBy, info.Selected, agg.ExactTails)
	if err != nil {
		t.Fatal(err)
	}
	// purchases.v1 is SNAPSHOT: its batch values are finalized rows.
	col := slices.IndexFunc(gb.Output, func(f arrow.Field) bool { return "quickstart_purchases_v1_"+f.Name == odmSkewedCol })
	var types []arrow.DataType
	for _, f := range gb.Output {
		types = append(types, f.Type)
	}
	userKey := func(u string) []byte {
		k, err := online.AppendKey(nil, []any{u})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	// The skewed user: the first served checkout's; the donor: the first
	// other served user whose logged value of the feature differs.
	var ids []string
	for id := range logged {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	skewed, donor := fmt.Sprint(logged[ids[0]]["user_id"]), ""
	for _, id := range ids {
		r := logged[id]
		if u := fmt.Sprint(r["user_id"]); u != skewed && r[odmSkewedCol] != nil && !reflect.DeepEqual(r[odmSkewedCol], logged[ids[0]][odmSkewedCol]) {
			donor = u
			break
		}
	}
	if col < 0 || donor == "" {
		t.Fatalf("column %s at %d, donor %q", odmSkewedCol, col, donor)
	}
	target, from := get(userKey(skewed)), get(userKey(donor))
	tv, err := online.DecodeRow(target.Value, types)
	if err != nil {
		t.Fatal(err)
	}
	fv, err := online.DecodeRow(from.Value, types)
	if err != nil {
		t.Fatal(err)
	}
	tv[col] = fv[col]
	if target.Value, err = online.AppendRow(nil, types, tv); err != nil {
		t.Fatal(err)
	}
	if err := store.MultiPut(ctx, ds, []kv.Entry{target}); err != nil {
		t.Fatal(err)
	}
	store.Close()

	// Serve the same checkouts again into fresh logs, flatten, compare.
	wh := warehouseDir(work)
	for _, table := range []string{"chronon/chronon_log_table", "default/quickstart_training_set_v2_logged"} {
		if err := os.RemoveAll(filepath.Join(wh, table)); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, work, "fetch", "--name", "quickstart/training_set.v2", "--requests", "requests.jsonl", "--log")
	mustRun(t, work, "log-flatten", "--conf", "quickstart.training_set.v2", "--end-ds", odmDay)
	mustRun(t, work, "consistency", "--conf", "quickstart.training_set.v2", "--ds", odmDay)
	changed := 0
	relogged := byKey(t, jsonRows(t, work, odmLogged), "return_id")
	for id, r := range relogged {
		if !reflect.DeepEqual(r[odmSkewedCol], logged[id][odmSkewedCol]) {
			changed++
			if u := fmt.Sprint(r["user_id"]); u != skewed {
				t.Errorf("checkout %s of user %s served a changed %s", id, u, odmSkewedCol)
			}
		}
	}
	if changed == 0 {
		t.Fatalf("the skew changed no served value of %s", odmSkewedCol)
	}
	for _, f := range jsonRows(t, work, "default.quickstart_training_set_v2_consistency") {
		want := 0.0
		if f["feature"] == odmSkewedCol {
			want = float64(changed)
		}
		if f["mismatch"] != want || f["missing"] != 0.0 || f["extra"] != 0.0 {
			t.Errorf("consistency of %v: %v mismatches, %v missing, %v extra; want %v, 0, 0", f["feature"], f["mismatch"], f["missing"], f["extra"], want)
		}
	}

	// v3 recomputed from the new logs takes the skewed values the model
	// was served, not values recomputed offline.
	v3Tables, _ := filepath.Glob(filepath.Join(wh, "default", "quickstart_training_set_v3*"))
	for _, dir := range v3Tables {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
	}
	mustRun(t, work, "backfill", "--conf", "quickstart.training_set.v3", "--start-ds", odmDay, "--end-ds", odmDay)
	skewedRows := 0
	for id, r := range byKey(t, jsonRows(t, work, odmV3), "return_id") {
		served, ok := relogged[id]
		if !ok {
			continue
		}
		if !reflect.DeepEqual(r[odmSkewedCol], served[odmSkewedCol]) {
			t.Errorf("checkout %s: v3 %s = %v, served %v", id, odmSkewedCol, r[odmSkewedCol], served[odmSkewedCol])
		}
		if !reflect.DeepEqual(r[odmSkewedCol], logged[id][odmSkewedCol]) {
			skewedRows++
		}
	}
	if skewedRows != changed {
		t.Errorf("v3 holds %d skewed served values, want %d", skewedRows, changed)
	}
}

// jsonRows returns a table's rows decoded from chronon show --format json.
func jsonRows(t *testing.T, dir, table string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range tableRows(t, dir, table) {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s: %v: %s", table, err, line)
		}
		out = append(out, r)
	}
	return out
}

// byKey indexes rows by the values of cols (joined with "/"); a key seen
// twice fails the test.
func byKey(t *testing.T, rows []map[string]any, cols ...string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, r := range rows {
		var parts []string
		for _, c := range cols {
			parts = append(parts, fmt.Sprint(r[c]))
		}
		k := strings.Join(parts, "/")
		if out[k] != nil {
			t.Fatalf("two rows with %v = %s", cols, k)
		}
		out[k] = r
	}
	return out
}
