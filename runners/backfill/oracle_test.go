// SPDX-License-Identifier: Apache-2.0

package backfill_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
	"github.com/chronon-go/chronon/runners/beamrun"
	"github.com/chronon-go/chronon/testing/oracle"
	"github.com/chronon-go/chronon/testing/testkit"
)

const day = int64(24 * 3600 * 1000)

// world is a random warehouse: its tables as oracle rows and as written.
type world struct {
	root   string
	wh     warehouse.Warehouse
	tables oracle.Tables
	types  map[string]*arrow.Schema
	days   []string // output days
}

var (
	tInt    = arrow.PrimitiveTypes.Int64
	tFloat  = arrow.PrimitiveTypes.Float64
	tString = arrow.BinaryTypes.String
	tBool   = arrow.FixedWidthTypes.Boolean
)

func schemaOf(cols ...any) *arrow.Schema { return testkit.Schema(cols...) }

// put writes rows (with "ds") to a table, one partition per ds.
func (w *world) put(t *testing.T, table string, schema *arrow.Schema, rows []oracle.Row) {
	t.Helper()
	w.tables[table] = rows
	w.types[table] = schema
	testkit.PutRows(t, w.wh, table, schema, rows)
}

func ds(d int64) string { return batch.DSOfMillis(d * day) }

// newWorld generates tables over days base-10 .. base+nDays-1: events with
// ms timestamps clustered near day and window edges, entity snapshots, and
// mutations that update and delete snapshot rows.
func newWorld(t *testing.T, rng *rand.Rand, nDays int) *world {
	return newWorldAt(t, t.TempDir(), rng, nDays)
}

// newWorldAt is newWorld with the warehouse at root (a path or gs:// URI).
func newWorldAt(t *testing.T, root string, rng *rand.Rand, nDays int) *world {
	wh, err := parquet.Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	w := &world{root: root, wh: wh, tables: oracle.Tables{}, types: map[string]*arrow.Schema{}}
	base := int64(20000)
	users := []string{"a", "b", "c", "d", "e"}
	user := func() any {
		if rng.IntN(20) == 0 {
			return nil
		}
		return users[rng.IntN(len(users))]
	}
	// A timestamp: often right at a day or hour boundary (+/- 1 ms).
	ts := func(d int64) int64 {
		t0 := d * day
		switch rng.IntN(4) {
		case 0:
			return t0 + int64(rng.IntN(3)) - 1 + day*int64(rng.IntN(2))
		case 1:
			return t0 + int64(rng.IntN(24))*3600*1000 + int64(rng.IntN(3)) - 1
		}
		return t0 + rng.Int64N(day)
	}
	fix := func(r oracle.Row) oracle.Row {
		// The partition is the UTC day of ts.
		r["ds"] = batch.DSOfMillis(r["ts"].(int64))
		return r
	}
	var purchases []oracle.Row
	for d := base - 10; d < base+int64(nDays); d++ {
		for i := rng.IntN(12); i > 0; i-- {
			var price any = rng.Int64N(100) - 10
			if rng.IntN(15) == 0 {
				price = nil
			}
			var store any = int32(rng.IntN(4))
			if rng.IntN(10) == 0 {
				store = nil
			}
			purchases = append(purchases, fix(oracle.Row{"user": user(), "price": price, "store": store,
				"rate": float64(rng.IntN(1000)) / 8, "category": []string{"x", "y", "z"}[rng.IntN(3)], "ts": ts(d)}))
		}
	}
	sort.SliceStable(purchases, func(i, j int) bool { return purchases[i]["ds"].(string) < purchases[j]["ds"].(string) })
	w.put(t, "data.purchases", schemaOf("user", tString, "price", tInt, "rate", tFloat, "category", tString, "store", arrow.PrimitiveTypes.Int32, "ts", tInt), purchases)

	var left []oracle.Row
	lid := int64(0)
	for d := base; d < base+int64(nDays); d++ {
		w.days = append(w.days, ds(d))
		for i := 3 + rng.IntN(8); i > 0; i-- {
			lid++
			var store any = rng.Int64N(5)
			if rng.IntN(10) == 0 {
				store = nil
			}
			left = append(left, oracle.Row{"lid": lid, "buyer": user(), "store_id": store, "ts": ts(d), "ds": ds(d)})
		}
	}
	w.put(t, "data.checkouts", schemaOf("lid", tInt, "buyer", tString, "store_id", tInt, "ts", tInt), left)

	var snaps, muts, entLeft []oracle.Row
	for d := base - 2; d < base+int64(nDays); d++ {
		// Every day has at least one left row.
		entLeft = append(entLeft, oracle.Row{"user": "e", "ds": ds(d)})
		for _, u := range users {
			if rng.IntN(4) == 0 {
				continue
			}
			score, sts := rng.Int64N(50), d*day+rng.Int64N(day)
			snaps = append(snaps, oracle.Row{"user": u, "score": score, "ts": sts, "ds": ds(d)})
			if u != "e" && rng.IntN(2) == 0 {
				entLeft = append(entLeft, oracle.Row{"user": u, "ds": ds(d)})
			}
			// Mutations of the next day: an update of this row, or an insert.
			mts := (d+1)*day + rng.Int64N(day)
			switch rng.IntN(3) {
			case 0:
				muts = append(muts,
					oracle.Row{"user": u, "score": score, "ts": sts, "mutation_ts": mts, "is_before": true, "ds": ds(d + 1)},
					oracle.Row{"user": u, "score": score + 7, "ts": mts, "mutation_ts": mts, "is_before": false, "ds": ds(d + 1)})
			case 1:
				muts = append(muts, oracle.Row{"user": u, "score": rng.Int64N(50), "ts": mts, "mutation_ts": mts, "is_before": false, "ds": ds(d + 1)})
			}
		}
	}
	sort.SliceStable(muts, func(i, j int) bool { return muts[i]["ds"].(string) < muts[j]["ds"].(string) })
	w.put(t, "data.users", schemaOf("user", tString, "score", tInt, "ts", tInt), snaps)
	w.put(t, "data.user_mutations", schemaOf("user", tString, "score", tInt, "ts", tInt, "mutation_ts", tInt, "is_before", tBool), muts)
	w.put(t, "data.user_days", schemaOf("user", tString), entLeft)
	return w
}

// output reads a table's rows as maps.
func output(t *testing.T, wh warehouse.Warehouse, table string) []map[string]any {
	t.Helper()
	return testkit.TableRows(t, wh, table)
}

func runner(name string) beamrun.Options { return beamrun.Options{Runner: name} }

func check(t *testing.T, what string, want []oracle.ExpectedRow, got []map[string]any, key func(map[string]any) string) {
	t.Helper()
	idx := map[string]map[string]any{}
	for _, g := range got {
		k := key(g)
		if _, dup := idx[k]; dup {
			t.Fatalf("%s: duplicate output row %s", what, k)
		}
		idx[k] = g
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d output rows, oracle has %d", what, len(got), len(want))
	}
	bad := 0
	for _, w := range want {
		vals := map[string]any{}
		for c, cell := range w {
			if !cell.Aggregated {
				vals[c] = cell.Value
			}
		}
		k := key(vals)
		g, ok := idx[k]
		if !ok {
			t.Errorf("%s: row %s missing", what, k)
			bad++
			continue
		}
		if err := oracle.CheckRow(w, g, oracle.CheckOptions{}); err != nil {
			t.Errorf("%s: row %s: %v", what, k, err)
			bad++
		}
		if bad > 5 {
			t.Fatalf("%s: too many mismatches", what)
		}
	}
}

func lidKey(r map[string]any) string { return fmt.Sprint(r["ds"], "/", r["lid"]) }
