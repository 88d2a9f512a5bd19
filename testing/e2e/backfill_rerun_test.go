// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBackfillRerunAndDefinitionChange runs the quickstart training set
// (and a group-by's daily snapshots) twice: the second run computes
// nothing and leaves the table as it was. Then it widens a window in the
// YAML (3d -> 4d), recompiles, and checks that the next run recomputes the
// partition, with the new column in place of the old one and every other
// value unchanged.
func TestBackfillRerunAndDefinitionChange(t *testing.T) {
	dir := quickstartDir(t, nil)
	const (
		join  = "quickstart.training_set.v1"
		table = "default.quickstart_training_set_v1"
		gb    = "quickstart.purchases.v1"
		gbOut = "default.quickstart_purchases_v1"
	)
	manifestPath := filepath.Join(warehouseDir(dir), "default", "quickstart_training_set_v1", "_chronon.json")
	readManifest := func() []byte {
		t.Helper()
		data, err := os.ReadFile(manifestPath)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	expect := func(out, want string) {
		t.Helper()
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	expect(mustRun(t, dir, "backfill", "--conf", join), join+": computed 1 partitions of "+table+" (200 rows)")
	first := tableRows(t, dir, table)
	if len(first) != 200 {
		t.Fatalf("%s has %d rows, want 200 (one per checkout)", table, len(first))
	}
	manifest := readManifest()

	// The same backfill again computes nothing and writes nothing.
	expect(mustRun(t, dir, "backfill", "--conf", join), join+": computed 0 partitions of "+table+" (0 rows)")
	// By path too: the same definition, so the same plan.
	expect(mustRun(t, dir, "backfill", "--conf", "production/joins/quickstart/training_set.v1"), "computed 0 partitions")
	if again := readManifest(); string(again) != string(manifest) {
		t.Errorf("a run that computed nothing rewrote the manifest:\n%s\nwas\n%s", again, manifest)
	}
	if again := tableRows(t, dir, table); !slices.Equal(again, first) {
		t.Errorf("rows changed by a run that computed nothing:\n%s", diffRows(again, first))
	}
	expect(mustRun(t, dir, "groupby-backfill", "--conf", gb), gb+": computed 30 partitions of "+gbOut)
	expect(mustRun(t, dir, "groupby-backfill", "--conf", gb), gb+": computed 0 partitions of "+gbOut+" (0 rows)")

	// Widen the SUM's 3d window to 4d (COUNT and AVERAGE keep theirs).
	yaml := filepath.Join(dir, "group_bys", "quickstart", "purchases.yaml")
	src, err := os.ReadFile(yaml)
	if err != nil {
		t.Fatal(err)
	}
	const old = "operation: sum\n      windows: [3d, 14d, 30d]"
	if !strings.Contains(string(src), old) {
		t.Fatalf("%s no longer has %q; update the test", yaml, old)
	}
	writeFile(t, yaml, strings.Replace(string(src), old, "operation: sum\n      windows: [4d, 14d, 30d]", 1))
	mustRun(t, dir, "compile")

	expect(mustRun(t, dir, "backfill", "--conf", join), join+": computed 1 partitions of "+table+" (200 rows)")
	changed := tableRows(t, dir, table)
	if len(changed) != 200 {
		t.Fatalf("after the change %s has %d rows, want 200", table, len(changed))
	}
	const (
		sum3 = "quickstart_purchases_v1_purchase_price_sum_3d"
		sum4 = "quickstart_purchases_v1_purchase_price_sum_4d"
	)
	var row map[string]any
	if err := json.Unmarshal([]byte(changed[0]), &row); err != nil {
		t.Fatal(err)
	}
	if _, ok := row[sum4]; !ok {
		t.Errorf("no column %s after the change: %s", sum4, changed[0])
	}
	if _, ok := row["quickstart_purchases_v1_purchase_price_count_3d"]; !ok {
		t.Errorf("the unchanged count_3d column is gone: %s", changed[0])
	}
	// Every other value is what the first run computed.
	if a, b := without(t, first, sum3, sum4), without(t, changed, sum3, sum4); !slices.Equal(a, b) {
		t.Errorf("columns the change does not touch differ:\n%s", diffRows(b, a))
	}
	// The table whose semantic hash changed is replaced, as Chronon drops
	// it: the removed window's column is gone.
	if v, ok := row[sum3]; ok {
		t.Errorf("the recomputed table keeps the removed column %s (value %v); row: %s", sum3, v, changed[0])
	}
	// Row by row, the 4-day sum is at least the 3-day one, and somewhere
	// more (or the change recomputed nothing).
	sums3, sums4 := column(t, first, sum3, sum4), column(t, changed, sum3, sum4)
	more := 0
	for key, s4 := range sums4 {
		s3, ok := sums3[key]
		switch {
		case !ok:
			t.Errorf("no row before the change for %s", key)
		case s4 < s3:
			t.Errorf("%s = %v < %s = %v for %s", sum4, s4, sum3, s3, key)
		case s4 > s3:
			more++
		}
	}
	if more == 0 {
		t.Errorf("%s equals %s on every row: nothing was recomputed", sum4, sum3)
	}
	if string(readManifest()) == string(manifest) {
		t.Error("manifest (and its semantic hash) unchanged after the window change")
	}
	expect(mustRun(t, dir, "backfill", "--conf", join), join+": computed 0 partitions")
	// The group-by's snapshots are stale too.
	expect(mustRun(t, dir, "groupby-backfill", "--conf", gb), gb+": computed 30 partitions of "+gbOut)
	tables := mustRun(t, dir, "tables")
	for tbl, parts := range map[string]string{table: "1", gbOut: "30"} {
		if f := tableLine(tables, tbl); len(f) < 2 || f[1] != parts {
			t.Errorf("tables: %s should have %s partitions:\n%s", tbl, parts, tables)
		}
	}
}

// without returns JSON rows without columns cols, re-encoded and sorted.
func without(t *testing.T, rows []string, cols ...string) []string {
	t.Helper()
	out := make([]string, len(rows))
	for i, r := range rows {
		var m map[string]any
		if err := json.Unmarshal([]byte(r), &m); err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			delete(m, c)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	slices.Sort(out)
	return out
}

// column maps each JSON row, keyed by its other columns (without all of
// cols), to its value of the one of cols it has (null counts as 0).
func column(t *testing.T, rows []string, cols ...string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, r := range rows {
		var m map[string]any
		if err := json.Unmarshal([]byte(r), &m); err != nil {
			t.Fatal(err)
		}
		var v float64
		for _, c := range cols {
			if f, ok := m[c].(float64); ok {
				v = f
			}
			delete(m, c)
		}
		key, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		out[string(key)] = v
	}
	return out
}
