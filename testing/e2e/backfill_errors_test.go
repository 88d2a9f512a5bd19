// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// badGroupBys are GroupBys that compile (the compiler does not know the
// tables) but cannot run against the quickstart's tables.
const badGroupBys = `
unknown_column:
  sources:
    - events:
        table: data.purchases
        query:
          selects: {user_id: user_id, purchase_price: purchase_prise}
          time_column: ts
  key_columns: [user_id]
  aggregations:
    - {input_column: purchase_price, operation: sum, windows: [3d]}
type_mismatch:
  sources:
    - events:
        table: data.purchases
        query:
          selects: {user_id: user_id, purchase_price: "purchase_price + 'abc'"}
          time_column: ts
  key_columns: [user_id]
  aggregations:
    - {input_column: purchase_price, operation: sum, windows: [3d]}
where_not_boolean:
  sources:
    - events:
        table: data.purchases
        query:
          selects: [user_id, purchase_price]
          wheres: ["purchase_price > 0", "purchase_price + 1"]
          time_column: ts
  key_columns: [user_id]
  aggregations:
    - {input_column: purchase_price, operation: sum, windows: [3d]}
missing_table:
  sources:
    - events:
        table: data.no_such_table
        query:
          selects: [user_id, purchase_price]
          time_column: ts
  key_columns: [user_id]
  aggregations:
    - {input_column: purchase_price, operation: sum, windows: [3d]}
`

// badJoins join the quickstart checkouts with each bad GroupBy, and have
// bad lefts of their own.
const badJoins = `
_checkouts: &checkouts
  events: {table: data.checkouts, query: {selects: [user_id], time_column: ts}}
unknown_column:
  left: *checkouts
  join_parts: [{group_by: quickstart.bad_gb.unknown_column}]
type_mismatch:
  left: *checkouts
  join_parts: [{group_by: quickstart.bad_gb.type_mismatch}]
where_not_boolean:
  left: *checkouts
  join_parts: [{group_by: quickstart.bad_gb.where_not_boolean}]
missing_table:
  left: *checkouts
  join_parts: [{group_by: quickstart.bad_gb.missing_table}]
left_unknown_column:
  left: {events: {table: data.checkouts, query: {selects: {user_id: user_id, amount: "refund_amount * 2"}, time_column: ts}}}
  join_parts: [{group_by: quickstart.purchases.v1}]
missing_left_table:
  left: {events: {table: data.no_checkouts, query: {selects: [user_id], time_column: ts}}}
  join_parts: [{group_by: quickstart.purchases.v1}]
good:
  left: *checkouts
  join_parts: [{group_by: quickstart.purchases.v1}]
`

// TestBackfillBadInput checks that a backfill of a definition that cannot
// run against the tables fails before computing anything, with an error
// naming the definition and the field, and writes nothing.
func TestBackfillBadInput(t *testing.T) {
	dir := quickstartDir(t, map[string]string{
		"group_bys/quickstart/bad_gb.yaml": badGroupBys,
		"joins/quickstart/bad.yaml":        badJoins,
	})
	wh := warehouseDir(dir)
	// The training set exists, so a failed run could damage a table.
	mustRun(t, dir, "backfill", "--conf", "quickstart.training_set.v1")
	const trainingSet = "default.quickstart_training_set_v1"
	rowsBefore := tableRows(t, dir, trainingSet)
	tablesBefore := mustRun(t, dir, "tables")

	for _, tc := range []struct {
		name string
		args []string
		// want are substrings of the error; the first names the
		// definition, the others the field and the problem.
		want []string
		// table must not exist afterwards ("" when it exists already).
		table string
	}{
		{"join/unknown column", []string{"backfill", "--conf", "quickstart.bad.unknown_column"},
			[]string{"quickstart.bad.unknown_column: ", "joinParts[0]: quickstart.bad_gb.unknown_column: ", "sources[0].events.query.selects.purchase_price: ", `unknown column "purchase_prise"`, `did you mean "purchase_price"`},
			"default.quickstart_bad_unknown_column"},
		{"groupby/unknown column", []string{"groupby-backfill", "--conf", "quickstart.bad_gb.unknown_column"},
			[]string{"quickstart.bad_gb.unknown_column: ", "sources[0].events.query.selects.purchase_price: ", `unknown column "purchase_prise"`},
			"default.quickstart_bad_gb_unknown_column"},
		{"join/type mismatch", []string{"backfill", "--conf", "quickstart.bad.type_mismatch"},
			[]string{"quickstart.bad.type_mismatch: ", "quickstart.bad_gb.type_mismatch: ", "selects.purchase_price: ", "type mismatch", "long", "string"},
			"default.quickstart_bad_type_mismatch"},
		{"groupby/type mismatch", []string{"groupby-backfill", "--conf", "quickstart.bad_gb.type_mismatch"},
			[]string{"quickstart.bad_gb.type_mismatch: ", "sources[0].events.query.selects.purchase_price: ", "type mismatch"},
			"default.quickstart_bad_gb_type_mismatch"},
		{"join/where not boolean", []string{"backfill", "--conf", "quickstart.bad.where_not_boolean"},
			[]string{"quickstart.bad.where_not_boolean: ", "quickstart.bad_gb.where_not_boolean: ", "sources[0].events.query.wheres[1]: ", "boolean"},
			"default.quickstart_bad_where_not_boolean"},
		{"groupby/where not boolean", []string{"groupby-backfill", "--conf", "quickstart.bad_gb.where_not_boolean"},
			[]string{"quickstart.bad_gb.where_not_boolean: ", "wheres[1]: ", "boolean"},
			"default.quickstart_bad_gb_where_not_boolean"},
		{"join/missing input table", []string{"backfill", "--conf", "quickstart.bad.missing_table"},
			[]string{"quickstart.bad.missing_table: ", "quickstart.bad_gb.missing_table: ", "sources[0].events.table: ", "data.no_such_table", "not found"},
			"default.quickstart_bad_missing_table"},
		{"groupby/missing input table", []string{"groupby-backfill", "--conf", "quickstart.bad_gb.missing_table"},
			[]string{"quickstart.bad_gb.missing_table: ", "sources[0].events.table: ", "data.no_such_table", "not found"},
			"default.quickstart_bad_gb_missing_table"},
		{"left unknown column", []string{"backfill", "--conf", "quickstart.bad.left_unknown_column"},
			[]string{"quickstart.bad.left_unknown_column: ", "left.events.query.selects.amount: ", `unknown column "refund_amount"`},
			"default.quickstart_bad_left_unknown_column"},
		{"missing left table", []string{"backfill", "--conf", "quickstart.bad.missing_left_table"},
			[]string{"quickstart.bad.missing_left_table: ", "left.events.table: ", "data.no_checkouts", "not found"},
			"default.quickstart_bad_missing_left_table"},
		// 2023-11-29 has no checkouts: the whole range fails, so
		// 2023-11-30 (which could run) is not written either.
		{"missing left partition", []string{"backfill", "--conf", "quickstart.bad.good", "--start-ds", "2023-11-29", "--end-ds", "2023-11-30"},
			[]string{"quickstart.bad.good: ", "missing partition data.checkouts/ds=2023-11-29", "left"},
			"default.quickstart_bad_good"},
		// The training set has 2023-11-30: only the missing day is
		// planned, and it fails without touching the table.
		{"missing left partition, existing table", []string{"backfill", "--conf", "quickstart.training_set.v1", "--start-ds", "2023-11-28", "--end-ds", "2023-11-30"},
			[]string{"quickstart.training_set.v1: ", "missing 2 partitions of data.checkouts: 2023-11-28..2023-11-29 (left",
				"data.users: 2023-11-27..2023-11-28 (snapshot read by quickstart.users.v1)"},
			""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, err := run(t, dir, tc.args...)
			if err == nil {
				t.Fatalf("chronon %s succeeded:\n%s", strings.Join(tc.args, " "), out)
			}
			// main prints "chronon: <error>" last on stderr (the error may
			// span lines).
			i := strings.LastIndex("\n"+stderr, "\nchronon: ")
			if i < 0 {
				t.Fatalf("no error on stderr:\n%s", stderr)
			}
			msg := strings.TrimSpace(stderr[i:])
			if !strings.HasPrefix(msg, "chronon: "+tc.want[0]) {
				t.Errorf("error does not start with the definition %q: %s", tc.want[0], msg)
			}
			for _, w := range tc.want[1:] {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q: %s", w, msg)
				}
			}
			if strings.Contains(stderr, "msg=backfill") {
				t.Errorf("the pipeline started:\n%s", stderr)
			}
			if tc.table != "" {
				ns, name, _ := strings.Cut(tc.table, ".")
				if _, err := os.Stat(filepath.Join(wh, ns, name)); !os.IsNotExist(err) {
					t.Errorf("%s written by a failed backfill (stat: %v)", tc.table, err)
				}
			}
		})
	}
	if after := mustRun(t, dir, "tables"); after != tablesBefore {
		t.Errorf("failed backfills changed the tables:\n%s\nwas\n%s", after, tablesBefore)
	}
	if after := tableRows(t, dir, trainingSet); !slices.Equal(after, rowsBefore) {
		t.Errorf("failed backfills changed %s:\n%s", trainingSet, diffRows(after, rowsBefore))
	}
	if left := dirEntries(t, filepath.Join(wh, ".scratch")); len(left) > 0 {
		t.Errorf("scratch left by failed backfills: %v", left)
	}
}
