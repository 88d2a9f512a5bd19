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
	"github.com/chronon-go/chronon/runners/backfill"
	"github.com/chronon-go/chronon/testing/oracle"
)

// The tests of this file follow seed 002's bootstrap FAQ and walkthrough
// scenarios, one each. Each backfills a join with bootstrap parts over
// random data and checks, cell by cell, that a bootstrapped cell holds the
// bootstrap table's value and every other one the oracle's value for the
// join without bootstrap parts, and that the join part tables hold
// exactly the (row, join part) cells the bootstrap does not cover: covered
// cells are not computed.

// bootSource is a bootstrap part as a test models it: by left row (rowKey)
// the output columns the part fills for the row and their values (nil: a
// null cell).
type bootSource map[string]map[string]any

// coalesced is the value of column c for row k: that of the first source
// in priority order with a non-null value (FAQ: "if the value is NULL, then
// we take value from the lower priority source").
func coalesced(k, c string, srcs []bootSource) (any, bool) {
	for _, s := range srcs {
		if v := s[k][c]; v != nil {
			return v, true
		}
	}
	return nil, false
}

// fills reports whether some source fills column c for row k (with a
// value or a trusted null).
func fills(k, c string, srcs []bootSource) bool {
	return slices.ContainsFunc(srcs, func(s bootSource) bool {
		_, ok := s[k][c]
		return ok
	})
}

func rowKey(r oracle.ExpectedRow) string {
	return lidKey(map[string]any{"ds": r["ds"].Value, "lid": r["lid"].Value})
}

// bootExpect applies the FAQ's rules to want, the oracle's rows of j
// without bootstrap parts, for sources srcs in priority order: a join
// part is covered for a row when the sources fill all its columns (its
// cells are then the coalesced bootstrap values, nulls included, and it is
// not computed); otherwise each of its cells is the coalesced bootstrap
// value, or the computed one when every source has null or nothing. It
// returns, per join part (FullPrefix), the rows it must compute.
func bootExpect(j *api.Join, want []oracle.ExpectedRow, srcs ...bootSource) map[string][]oracle.ExpectedRow {
	uncovered := map[string][]oracle.ExpectedRow{}
	for _, row := range want {
		k := rowKey(row)
		for _, jp := range j.JoinParts {
			cols := jp.ValueColumns()
			covered := !slices.ContainsFunc(cols, func(c string) bool { return !fills(k, c, srcs) })
			for _, c := range cols {
				if v, ok := coalesced(k, c, srcs); ok || covered {
					row[c] = oracle.Cell{Value: v}
				}
			}
			if !covered {
				uncovered[jp.FullPrefix()] = append(uncovered[jp.FullPrefix()], row)
			}
		}
	}
	return uncovered
}

// putBootTable writes a bootstrap table of schema (the row id column
// holding lid, then value columns) with a row per left row of w's table
// left that keep selects, ds its partition and val giving each value
// column's cell; it returns the table as a bootSource.
func putBootTable(t *testing.T, w *world, table, left string, schema *arrow.Schema, keep func(lid int64) bool, val func(lid int64, col string) any) bootSource {
	t.Helper()
	src := bootSource{}
	var rows []oracle.Row
	id := schema.Field(0).Name
	for _, l := range w.tables[left] {
		lid := l["lid"].(int64)
		if !keep(lid) {
			continue
		}
		r := oracle.Row{id: lid, "ds": l["ds"]}
		cells := map[string]any{}
		for _, f := range schema.Fields()[1:] {
			r[f.Name] = val(lid, f.Name)
			cells[f.Name] = r[f.Name]
		}
		rows = append(rows, r)
		src[lidKey(map[string]any{"ds": l["ds"], "lid": lid})] = cells
	}
	w.put(t, table, schema, rows)
	return src
}

// distinct is a bootstrap value of column c (one of bootJoin's) for left
// row lid from table n, unlike any computed value.
func distinct(n int, lid int64, c string) any {
	return int64(100000*n) + 1000*int64(slices.Index([]string{colSum, colCount, colScore}, c)+1) + lid
}

// runBoot backfills j and returns the oracle's rows of j without its
// bootstrap parts, external parts and derivations (tests derive
// themselves).
func runBoot(t *testing.T, w *world, j *api.Join) []oracle.ExpectedRow {
	t.Helper()
	res, err := backfill.Join(context.Background(), w.wh, j, backfill.Options{Root: w.root, Runner: runner("direct"), Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	plain := *j
	plain.BootstrapParts, plain.OnlineExternalParts, plain.Derivations = nil, nil, nil
	want, err := oracle.JoinBackfill(&plain, w.tables, w.types, res.Computed, oracle.Exact)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("no left rows")
	}
	return want
}

// checkBoot compares j's output with want and each join part's table with
// the rows it must compute (by left keys, ts and ds, duplicates counted).
func checkBoot(t *testing.T, w *world, j *api.Join, want []oracle.ExpectedRow, uncovered map[string][]oracle.ExpectedRow) {
	t.Helper()
	check(t, j.MetaData.Name, want, output(t, w.wh, j.MetaData.OutputTable()), lidKey)
	for _, jp := range j.JoinParts {
		keys := append(slices.Sorted(func(yield func(string) bool) {
			for l := range jp.LeftToRight() {
				if !yield(l) {
					return
				}
			}
		}), "ts", "ds")
		key := func(cell func(string) any) string {
			var s []any
			for _, k := range keys {
				s = append(s, cell(k))
			}
			return fmt.Sprint(s...)
		}
		var exp, got []string
		for _, r := range uncovered[jp.FullPrefix()] {
			exp = append(exp, key(func(c string) any { return r[c].Value }))
		}
		table := j.PartOutputTable(jp)
		for _, r := range output(t, w.wh, table) {
			got = append(got, key(func(c string) any { return r[c] }))
		}
		slices.Sort(exp)
		slices.Sort(got)
		if !slices.Equal(exp, got) {
			t.Errorf("%s computed %d rows, want the %d uncovered ones (%d covered rows computed or uncovered ones missing)",
				table, len(got), len(exp), len(got)-len(exp))
		}
		t.Logf("%s: %d of %d rows computed", table, len(got), len(want))
	}
}

// notVacuous fails unless some but not all of the rows are uncovered for
// part (prefix).
func notVacuous(t *testing.T, want []oracle.ExpectedRow, uncovered map[string][]oracle.ExpectedRow, part string) {
	t.Helper()
	if n := len(uncovered[part]); n == 0 || n == len(want) {
		t.Fatalf("%s: %d of %d rows uncovered: the test data covers all or none", part, n, len(want))
	}
}

// checkFAQ backfills j and checks it against bootExpect's rules for srcs;
// each of partial must be covered for some rows but not all.
func checkFAQ(t *testing.T, w *world, j *api.Join, partial []string, srcs ...bootSource) {
	t.Helper()
	want := runBoot(t, w, j)
	uncovered := bootExpect(j, want, srcs...)
	for _, p := range partial {
		notVacuous(t, want, uncovered, p)
	}
	checkBoot(t, w, j, want, uncovered)
}

// bumpScores adds 100 to every score of data.users: a backfill from now
// on computes other scores than before.
func (w *world) bumpScores(t *testing.T) {
	t.Helper()
	var users []oracle.Row
	for _, r := range w.tables["data.users"] {
		r = maps.Clone(r)
		r["score"] = r["score"].(int64) + 100
		users = append(users, r)
	}
	w.put(t, "data.users", w.types["data.users"], users)
}

const (
	partPurchases = "test_boot_purchases"
	partScore     = "test_user_score"
)

// forSeeds runs f on a random world per seed.
func forSeeds(t *testing.T, f func(t *testing.T, w *world)) {
	for seed := uint64(1); seed <= 2; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			f(t, newWorld(t, rand.New(rand.NewPCG(seed, 77)), 3))
		})
	}
}

// FAQ "What if a bootstrap source table only covers a subset of rows for a
// particular ds?": "It will skip the backfill and utilize bootstrap data
// for the subset of rows already covered by the bootstrap source table,
// and run backfills for the other subset."
func TestBootstrapFAQ_SubsetOfRows(t *testing.T) {
	forSeeds(t, func(t *testing.T, w *world) {
		src := putBootTable(t, w, "data.boot_rows", "data.checkouts", schemaOf("lid", tInt, colSum, tInt, colCount, tInt, colScore, tInt),
			func(l int64) bool { return l%3 == 0 }, func(l int64, c string) any { return distinct(1, l, c) })
		j := bootJoin("test.boot_rows", &api.BootstrapPart{Table: "data.boot_rows"})
		checkFAQ(t, w, j, []string{partPurchases, partScore}, src)
	})
}

// FAQ "What if a bootstrap source table only covers a subset of
// group-bys?": "It will skip the backfill and utilize bootstrap data for
// the subset of group-bys covered, and run backfills for the other
// group-bys."
func TestBootstrapFAQ_SubsetOfGroupBys(t *testing.T) {
	forSeeds(t, func(t *testing.T, w *world) {
		src := putBootTable(t, w, "data.boot_scores", "data.checkouts", schemaOf("lid", tInt, colScore, tInt),
			func(int64) bool { return true }, func(l int64, c string) any { return distinct(1, l, c) })
		j := bootJoin("test.boot_group_bys", &api.BootstrapPart{Table: "data.boot_scores"})
		want := runBoot(t, w, j)
		uncovered := bootExpect(j, want, src)
		if len(uncovered[partScore]) != 0 || len(uncovered[partPurchases]) != len(want) {
			t.Fatalf("the table must cover the scores part only")
		}
		checkBoot(t, w, j, want, uncovered)
	})
}

// FAQ "What if a bootstrap source table only covers a subset of all
// features of a particular group-by?": "each group-by is backfilled as a
// single unit, therefore computation wise there is no saving. However, we
// will only use the backfilled values for the fields that are not already
// covered by bootstrap, i.e. this is done at individual column level."
// Some bootstrapped cells are null: those rows are not covered, so the
// computed value fills them.
func TestBootstrapFAQ_SubsetOfFeatures(t *testing.T) {
	forSeeds(t, func(t *testing.T, w *world) {
		src := putBootTable(t, w, "data.boot_sums", "data.checkouts", schemaOf("lid", tInt, colSum, tInt),
			func(l int64) bool { return l%2 == 0 }, func(l int64, c string) any {
				if l%4 == 0 {
					return nil
				}
				return distinct(1, l, c)
			})
		j := bootJoin("test.boot_features", &api.BootstrapPart{Table: "data.boot_sums"})
		want := runBoot(t, w, j)
		uncovered := bootExpect(j, want, src)
		if len(uncovered[partPurchases]) != len(want) {
			t.Fatalf("a subset of the purchases columns must cover no row")
		}
		checkBoot(t, w, j, want, uncovered)
	})
}

// FAQ "What happens if there are multiple bootstrap parts that contain the
// same field?": "the higher an item in the list, the higher it takes
// priority. If two bootstrap parts share the same column, we take the
// bootstrap data from the higher priority source first; if the value is
// NULL, then we take value from the lower priority source. Same rule
// applies when there are more than two bootstrap parts." Three tables
// overlap on rows and columns, with nulls, in two orders.
func TestBootstrapFAQ_MultiplePartsSameField(t *testing.T) {
	forSeeds(t, func(t *testing.T, w *world) {
		nullEvery := func(n int, every int64) func(int64, string) any {
			return func(l int64, c string) any {
				if l%every == 0 {
					return nil
				}
				return distinct(n, l, c)
			}
		}
		srcs := map[string]bootSource{
			"data.boot_a": putBootTable(t, w, "data.boot_a", "data.checkouts", schemaOf("lid", tInt, colScore, tInt, colSum, tInt),
				func(l int64) bool { return l%2 == 0 }, nullEvery(1, 4)),
			"data.boot_b": putBootTable(t, w, "data.boot_b", "data.checkouts", schemaOf("lid", tInt, colScore, tInt, colCount, tInt),
				func(l int64) bool { return l%3 == 0 }, nullEvery(2, 9)),
			"data.boot_c": putBootTable(t, w, "data.boot_c", "data.checkouts", schemaOf("lid", tInt, colSum, tInt, colCount, tInt, colScore, tInt),
				func(l int64) bool { return l%5 != 0 }, nullEvery(3, 7)),
		}
		for _, order := range [][]string{{"data.boot_a", "data.boot_b", "data.boot_c"}, {"data.boot_c", "data.boot_b", "data.boot_a"}} {
			t.Run(order[0], func(t *testing.T) {
				var parts []*api.BootstrapPart
				var models []bootSource
				for _, table := range order {
					parts = append(parts, &api.BootstrapPart{Table: table})
					models = append(models, srcs[table])
				}
				j := bootJoin("test.boot_priority_"+order[0][len("data.boot_"):], parts...)
				checkFAQ(t, w, j, []string{partPurchases, partScore}, models...)
			})
		}
	})
}

// allRows keeps every left row.
func allRows(int64) bool { return true }

// fullTable writes a table with bootJoin's every value column for every
// left row of data.checkouts, values from table n.
func fullTable(t *testing.T, w *world, table string, n int) bootSource {
	return putBootTable(t, w, table, "data.checkouts", schemaOf("lid", tInt, colSum, tInt, colCount, tInt, colScore, tInt),
		allRows, func(l int64, c string) any { return distinct(n, l, c) })
}

// Walkthrough "Utilize advanced features" (a bootstrap part's query with
// start_partition="..." and end_partition="...") and "Overwrite incorrect
// logged feature values" ("a custom backfill table" for "a certain time
// period"): a part only bootstraps the partitions its query's range
// holds; the other days are backfilled.
func TestBootstrapFAQ_PartitionRange(t *testing.T) {
	forSeeds(t, func(t *testing.T, w *world) {
		all := fullTable(t, w, "data.boot_days", 1)
		// A table holding one partition bootstraps nothing the other days.
		day1 := bootSource{}
		for k, v := range all {
			if strings.HasPrefix(k, w.days[1]+"/") {
				day1[k] = v
			}
		}
		putBootTable(t, w, "data.boot_day1", "data.checkouts", schemaOf("lid", tInt, colSum, tInt, colCount, tInt, colScore, tInt),
			func(l int64) bool { return day1[lidKey(map[string]any{"ds": w.days[1], "lid": l})] != nil },
			func(l int64, c string) any { return distinct(1, l, c) })
		for i, c := range []struct {
			table      string
			start, end string // the part's query range
			from, to   string // the days it bootstraps
		}{
			{"data.boot_days", w.days[1], w.days[1], w.days[1], w.days[1]},
			{"data.boot_days", w.days[1], "", w.days[1], w.days[2]},
			{"data.boot_days", "", w.days[0], w.days[0], w.days[0]},
			{"data.boot_day1", "", "", w.days[1], w.days[1]},
		} {
			t.Run(fmt.Sprintf("%s_%s..%s", c.table, c.start, c.end), func(t *testing.T) {
				j := bootJoin(fmt.Sprint("test.boot_days_", i), &api.BootstrapPart{Table: c.table,
					Query: &api.Query{StartPartition: c.start, EndPartition: c.end}})
				inRange := bootSource{}
				for k, v := range all {
					if ds, _, _ := strings.Cut(k, "/"); ds >= c.from && ds <= c.to {
						inRange[k] = v
					}
				}
				checkFAQ(t, w, j, []string{partScore}, inRange)
			})
		}
	})
}

// SEMANTICS.md BootstrapPart "keyColumns (default: Join.rowIds)", and the
// walkthrough's "row_ids defines the primary keys for each training
// example. It is also the join keys that will be used during log-based
// bootstrap": a part without keyColumns joins on the row ids; with them,
// on its keyColumns whatever the row ids.
func TestBootstrapFAQ_KeyColumns(t *testing.T) {
	forSeeds(t, func(t *testing.T, w *world) {
		src := putBootTable(t, w, "data.boot_keys", "data.checkouts", schemaOf("lid", tInt, colScore, tInt, colSum, tInt),
			func(l int64) bool { return l%2 == 1 }, func(l int64, c string) any { return distinct(1, l, c) })
		for _, c := range []struct {
			name   string
			rowIDs []string
			keys   []string
		}{
			{"row_ids", []string{"lid"}, nil},
			{"key_columns", []string{"buyer"}, []string{"lid"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				j := bootJoin("test.boot_keys_"+c.name, &api.BootstrapPart{Table: "data.boot_keys", KeyColumns: c.keys})
				j.RowIDs = c.rowIDs
				checkFAQ(t, w, j, []string{partScore}, src)
			})
		}
	})
}

// Walkthrough "Leverage feature data from legacy data pipelines":
// "Finalize the mapping table between legacy table's column names with
// chronon's output table column names, because usually they are
// different, and in bootstrap we expect the selected column names to be
// matching with output names". The legacy table's row id is event_id, and
// it has a column the join does not select.
func TestBootstrapFAQ_LegacyColumnNames(t *testing.T) {
	forSeeds(t, func(t *testing.T, w *world) {
		legacy := map[string]string{"legacy_score": colScore, "legacy_count": colCount}
		src := putBootTable(t, w, "data.legacy", "data.checkouts", schemaOf("event_id", tInt, "legacy_score", tInt, "legacy_count", tInt, "legacy_junk", tString),
			func(l int64) bool { return l%3 != 0 }, func(l int64, c string) any {
				if c == "legacy_junk" {
					return "junk"
				}
				return distinct(1, l, legacy[c])
			})
		for _, cells := range src {
			for from, to := range legacy {
				cells[to] = cells[from]
			}
		}
		q := &api.Query{Selects: api.NewOrderedMap("lid", "event_id", colScore, "legacy_score", colCount, "legacy_count")}
		j := bootJoin("test.boot_legacy", &api.BootstrapPart{Table: "data.legacy", Query: q})
		checkFAQ(t, w, j, []string{partScore}, src)
	})
}

// FAQ "Should I create a new join or modify an existing join?": "The
// Bootstrap API allows you to copy data from old joins and skip
// re-computing data from scratch." The walkthrough's "Improve an existing
// feature set of an online model" (the old join's output as a bootstrap
// part of a join with more group-bys), "Expand a model to a new set of
// drivers" (the old join covered some of the rows) and "Reuse existing
// feature data from the same drivers" (selecting some of its features).
// The scores change after the old join ran: bootstrapped cells keep the
// old values.
func TestBootstrapFAQ_NewJoinFromOldJoin(t *testing.T) {
	for _, c := range []struct {
		name    string
		wheres  []string // the old join's left filter
		selects []string // what the new join takes from the old one
	}{
		{"improve_feature_set", nil, nil},
		{"expand_drivers", []string{"lid % 2 = 0"}, nil},
		{"reuse_features", nil, []string{"lid", colScore}},
	} {
		t.Run(c.name, func(t *testing.T) {
			forSeeds(t, func(t *testing.T, w *world) {
				v1 := bootJoin("test.boot_v1")
				v1.Left.Events.Query.Wheres = c.wheres
				if _, err := backfill.Join(context.Background(), w.wh, v1, backfill.Options{Root: w.root, Runner: runner("direct"), Shards: 2}); err != nil {
					t.Fatal(err)
				}
				w.bumpScores(t)

				part := &api.BootstrapPart{Table: v1.MetaData.OutputTable()}
				cols := []string{colSum, colCount, colScore}
				if c.selects != nil {
					part.Query = &api.Query{Selects: api.Selects(c.selects...)}
					cols = c.selects[1:]
				}
				src := bootSource{}
				for _, r := range output(t, w.wh, v1.MetaData.OutputTable()) {
					cells := map[string]any{}
					for _, col := range cols {
						cells[col] = r[col]
					}
					src[lidKey(r)] = cells
				}
				v2 := bootJoin("test.boot_v2", part)
				v2.JoinParts = append(v2.JoinParts, api.Part(usersAgg(), map[string]string{"buyer": "user"}))
				want := runBoot(t, w, v2)
				uncovered := bootExpect(v2, want, src)
				if len(uncovered["test_user_agg"]) != len(want) {
					t.Fatal("the new group-by must be computed for every row")
				}
				checkBoot(t, w, v2, want, uncovered)
			})
		})
	}
}

// exact returns a cell's exact expected value.
func exact(t *testing.T, c oracle.Cell) any {
	t.Helper()
	v, err := c.Want()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// times2 is the derivation score_x2 of a score (nil stays nil).
func times2(v any) any {
	if v == nil {
		return nil
	}
	return 2 * v.(int64)
}

// Bootstrap section: "Bootstrap is a preprocessing step in the Join job
// that enriches the left side with precomputed feature data, before
// running the regular group by backfills if necessary", here for derived
// columns (Chronon's DerivationTest.testBootstrapToDerivations[NoStar]).
// A bootstrapped derived cell is kept (the derivation is skipped for it,
// a null falls back to the derivation); an unbootstrapped one is derived
// from the row's values, bootstrapped or computed. Without "*" the scores
// part is covered by its one derived column; with "*" only by its own
// column.
func TestBootstrapFAQ_DerivedColumns(t *testing.T) {
	const x2 = "score_x2"
	forSeeds(t, func(t *testing.T, w *world) {
		derived := putBootTable(t, w, "data.boot_derived", "data.checkouts", schemaOf("lid", tInt, x2, tInt),
			func(l int64) bool { return l%2 == 0 }, func(l int64, c string) any {
				if l%4 == 0 {
					return nil
				}
				return int64(7000) + l
			})
		base := putBootTable(t, w, "data.boot_base", "data.checkouts", schemaOf("lid", tInt, colScore, tInt),
			func(l int64) bool { return l%3 == 0 }, func(l int64, c string) any { return distinct(1, l, c) })
		t.Run("no_star", func(t *testing.T) {
			j := bootJoin("test.boot_derived", &api.BootstrapPart{Table: "data.boot_derived"})
			j.Derivations = []*api.Derivation{{Name: x2, Expression: colScore + " * 2"}, {Name: "spend", Expression: colSum + " + " + colCount}}
			rows := runBoot(t, w, j)
			uncovered := map[string][]oracle.ExpectedRow{}
			for _, r := range rows {
				k := rowKey(r)
				r[x2] = oracle.Cell{Value: times2(exact(t, r[colScore]))}
				if fills(k, x2, []bootSource{derived}) {
					r[x2] = oracle.Cell{Value: derived[k][x2]} // null too: the part is not computed
				} else {
					uncovered[partScore] = append(uncovered[partScore], r)
				}
				var spend any
				if s, n := exact(t, r[colSum]), exact(t, r[colCount]); s != nil && n != nil {
					spend = s.(int64) + n.(int64)
				}
				r["spend"] = oracle.Cell{Value: spend}
				uncovered[partPurchases] = append(uncovered[partPurchases], r)
				delete(r, colScore)
				delete(r, colSum)
				delete(r, colCount)
			}
			notVacuous(t, rows, uncovered, partScore)
			checkBoot(t, w, j, rows, uncovered)
		})
		t.Run("star", func(t *testing.T) {
			j := bootJoin("test.boot_derived_star", &api.BootstrapPart{Table: "data.boot_derived"}, &api.BootstrapPart{Table: "data.boot_base"})
			j.Derivations = []*api.Derivation{{Name: "*", Expression: "*"}, {Name: x2, Expression: colScore + " * 2"}}
			rows := runBoot(t, w, j)
			srcs := []bootSource{derived, base}
			uncovered := bootExpect(j, rows, srcs...)
			for _, r := range rows {
				v, ok := coalesced(rowKey(r), x2, srcs)
				if !ok {
					v = times2(exact(t, r[colScore]))
				}
				r[x2] = oracle.Cell{Value: v}
			}
			notVacuous(t, rows, uncovered, partScore)
			checkBoot(t, w, j, rows, uncovered)
		})
	})
}

// FAQ "How does bootstrap for external parts work?": "External parts can
// be bootstrapped from arbitrary tables built by clients." An external
// part's values come from the table (null where it has none); a
// contextual field's value is its key's, a left column or bootstrapped
// under either name (Chronon's padExternalFields). Join parts are all
// computed: the table covers none. A derivation reads a bootstrapped
// external value (Chronon's DerivationTest: "bootstrap an external feature
// field such that it can be used in a downstream derivation").
func TestBootstrapFAQ_ExternalParts(t *testing.T) {
	str := func(kind api.DataKind) *api.TDataType { return &api.TDataType{Kind: kind} }
	fields := func(name string, kv ...any) *api.TDataType {
		st := &api.TDataType{Kind: api.StructKind, Name: name}
		for i := 0; i < len(kv); i += 2 {
			st.Params = append(st.Params, &api.DataField{Name: kv[i].(string), DataType: kv[i+1].(*api.TDataType)})
		}
		return st
	}
	forSeeds(t, func(t *testing.T, w *world) {
		src := putBootTable(t, w, "data.boot_ext", "data.checkouts",
			schemaOf("lid", tInt, "ext_svc_country", tString, "ext_svc_tier", tInt, "req", tString, "ext_contextual_req", tString),
			allRows, func(l int64, c string) any {
				switch {
				case c == "ext_svc_country" && l%2 == 0:
					return fmt.Sprint("country", l)
				case c == "ext_svc_tier" && l%3 == 0:
					return l
				case c == "req" && l%5 == 0:
					return fmt.Sprint("req", l)
				case c == "ext_contextual_req" && l%3 == 0:
					return fmt.Sprint("ext", l)
				}
				return nil
			})
		j := bootJoin("test.boot_ext", &api.BootstrapPart{Table: "data.boot_ext"})
		ctxFields := []any{"lid", str(api.LongKind), "req", str(api.StringKind)}
		j.OnlineExternalParts = []*api.ExternalPart{
			{Source: &api.ExternalSource{MetaData: &api.MetaData{Name: "svc"}, KeySchema: fields("ext_svc_keys", "user", str(api.StringKind)),
				ValueSchema: fields("ext_svc_values", "country", str(api.StringKind), "tier", str(api.LongKind))},
				KeyMapping: map[string]string{"buyer": "user"}},
			{Source: &api.ExternalSource{MetaData: &api.MetaData{Name: "contextual"}, KeySchema: fields("contextual_keys", ctxFields...),
				ValueSchema: fields("contextual_values", ctxFields...)}},
		}
		j.Derivations = []*api.Derivation{{Name: "*", Expression: "*"}, {Name: "tier_x2", Expression: "ext_svc_tier * 2"}}
		rows := runBoot(t, w, j)
		uncovered := bootExpect(j, rows, src)
		if len(uncovered[partPurchases]) != len(rows) || len(uncovered[partScore]) != len(rows) {
			t.Fatal("external values must cover no join part")
		}
		for _, r := range rows {
			k := rowKey(r)
			r["ext_svc_country"] = oracle.Cell{Value: src[k]["ext_svc_country"]}
			r["ext_svc_tier"] = oracle.Cell{Value: src[k]["ext_svc_tier"]}
			r["tier_x2"] = oracle.Cell{Value: times2(src[k]["ext_svc_tier"])}
			r["ext_contextual_lid"] = r["lid"]
			v, _ := coalesced(k, "req", []bootSource{src})
			if v == nil {
				v = src[k]["ext_contextual_req"]
			}
			r["ext_contextual_req"] = oracle.Cell{Value: v}
		}
		checkBoot(t, w, j, rows, uncovered)
	})
}

// FAQ "Should I create a new join or modify an existing join?":
// "Alternatively, you can also modify an existing join to update the
// feature list". Bootstrap parts added to a join that ran already: its
// output and join part tables are as a fresh run's (the part tables hold
// only the uncovered rows now). A derivation added next reads the part
// tables back: covered cells still hold the bootstrap's values, trusted
// nulls included.
func TestBootstrapFAQ_ModifyExistingJoin(t *testing.T) {
	forSeeds(t, func(t *testing.T, w *world) {
		src := putBootTable(t, w, "data.boot_nulls", "data.checkouts", schemaOf("lid", tInt, colSum, tInt, colCount, tInt, colScore, tInt),
			func(l int64) bool { return l%2 == 0 }, func(l int64, c string) any {
				if l%4 == 0 {
					return nil
				}
				return distinct(1, l, c)
			})
		j := bootJoin("test.boot_modified")
		if _, err := backfill.Join(context.Background(), w.wh, j, backfill.Options{Root: w.root, Runner: runner("direct"), Shards: 2}); err != nil {
			t.Fatal(err)
		}
		j.BootstrapParts = []*api.BootstrapPart{{Table: "data.boot_nulls"}}
		checkFAQ(t, w, j, []string{partPurchases, partScore}, src)

		j.Derivations = []*api.Derivation{{Name: "*", Expression: "*"}, {Name: "score_x2", Expression: colScore + " * 2"}}
		want := runBoot(t, w, j)
		uncovered := bootExpect(j, want, src)
		for _, r := range want {
			r["score_x2"] = oracle.Cell{Value: times2(exact(t, r[colScore]))}
		}
		checkBoot(t, w, j, want, uncovered)
	})
}
