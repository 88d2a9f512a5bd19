// SPDX-License-Identifier: Apache-2.0

//go:build cgo

package stagingquery

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/plugins/warehouse"
)

const dailyQuery = `SELECT user_id, SUM(price) AS total, COUNT(*) AS n, ds
FROM data.purchases
WHERE ds BETWEEN '{{ start_date }}' AND '{{end_date}}'
GROUP BY user_id, ds`

// TestRun computes a staging query over a real Parquet warehouse in steps,
// then reruns it (nothing to do), extends the range, and changes the query.
func TestRun(t *testing.T) {
	wh := openWarehouse(t)
	ctx := context.Background()
	sq := stagingQuery(dailyQuery, "2023-11-01")
	table := "out.team_daily_v1"

	res, err := Run(ctx, wh, sq, Options{EndDS: "2023-11-04", StepDays: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resultPartitions(res), []string{"2023-11-01:2", "2023-11-02:2", "2023-11-03:0", "2023-11-04:1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("partitions = %v, want %v", got, want)
	}
	if res.Table != table || res.Rows != 5 || res.Stale || len(res.Warnings) != 0 {
		t.Errorf("result = %+v", res)
	}
	if len(res.Steps) != 2 || res.Steps[0].Start != "2023-11-01" || res.Steps[0].End != "2023-11-02" ||
		res.Steps[1].Start != "2023-11-03" || res.Steps[1].End != "2023-11-04" || res.Steps[0].Rows != 4 || res.Steps[1].Rows != 1 {
		t.Errorf("steps = %+v", res.Steps)
	}
	if !strings.Contains(res.Steps[1].Query, "ds BETWEEN '2023-11-03' AND '2023-11-04'") {
		t.Errorf("rendered query:\n%s", res.Steps[1].Query)
	}
	want := []string{
		"2023-11-01|u1|15|2", "2023-11-01|u2|7|1",
		"2023-11-02|u2|1|1", "2023-11-02|u3|2|1",
		"2023-11-04|u1|100|1",
	}
	if got := scanRows(t, wh, table, "user_id", "total", "n"); !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %v, want %v", got, want)
	}
	info, err := wh.Describe(ctx, table)
	if err != nil {
		t.Fatal(err)
	}
	// SUM over a long is a HUGEINT in DuckDB: stored as a long.
	wantSchema := arrow.NewSchema([]arrow.Field{
		{Name: "user_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "total", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	if !info.Schema.Equal(wantSchema) {
		t.Errorf("schema = %v, want %v", info.Schema, wantSchema)
	}
	if info.SemanticHash != sq.SemanticHash() || info.Properties["owner"] != "team" {
		t.Errorf("hash %q (want %q), properties %v", info.SemanticHash, sq.SemanticHash(), info.Properties)
	}

	// Rerun: up to date.
	res, err = Run(ctx, wh, sq, Options{EndDS: "2023-11-04"})
	if err != nil || len(res.Partitions) != 0 || len(res.Steps) != 0 {
		t.Fatalf("rerun = %+v, %v; want nothing computed", res, err)
	}

	// One more day: only it is computed (empty: no purchases that day).
	res, err = Run(ctx, wh, sq, Options{EndDS: "2023-11-05"})
	if err != nil {
		t.Fatal(err)
	}
	if got := resultPartitions(res); !reflect.DeepEqual(got, []string{"2023-11-05:0"}) || len(res.Steps) != 1 {
		t.Errorf("extended run: partitions %v, steps %+v", got, res.Steps)
	}

	// A changed query (a new column) makes the table stale: the whole range
	// is recomputed, and the new column is added.
	sq.Query = strings.Replace(dailyQuery, "COUNT(*) AS n,", "COUNT(*) AS n, MAX(price) AS top,", 1)
	res, err = Run(ctx, wh, sq, Options{StartDS: "2023-11-02", EndDS: "2023-11-05"})
	if err != nil {
		t.Fatal(err)
	}
	if got := resultPartitions(res); !res.Stale || !reflect.DeepEqual(got, []string{"2023-11-02:2", "2023-11-03:0", "2023-11-04:1", "2023-11-05:0"}) {
		t.Errorf("stale run: stale=%v partitions %v", res.Stale, got)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "semantic hash changed") || !strings.Contains(res.Warnings[0], "(2023-11-01) are kept") {
		t.Errorf("warnings = %q", res.Warnings)
	}
	want = []string{
		"2023-11-01|u1|15|(null)", "2023-11-01|u2|7|(null)",
		"2023-11-02|u2|1|1", "2023-11-02|u3|2|2",
		"2023-11-04|u1|100|100",
	}
	if got := scanRows(t, wh, table, "user_id", "total", "top"); !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %v, want %v", got, want)
	}
	if res, err := Run(ctx, wh, sq, Options{StartDS: "2023-11-02", EndDS: "2023-11-05"}); err != nil || len(res.Partitions) != 0 {
		t.Errorf("rerun after the change = %+v, %v; want nothing computed", res, err)
	}
}

// TestVariablesAndSetups checks every template variable and that setups run
// before the query.
func TestVariablesAndSetups(t *testing.T) {
	wh := openWarehouse(t)
	ctx := context.Background()
	sq := stagingQuery(`SELECT twice(COUNT(*)) AS n2,
  '{{ max_date(table=data.purchases) }}' AS max_ds,
  '{{ latest_date }}' AS latest,
  '{{ start_date }}' AS first,
  1.5 AS ratio,
  NULL AS nothing,
  CAST('{{ end_date }}' AS DATE) AS ds
FROM data.purchases WHERE ds <= '{{ end_date }}'`, "2023-11-01")
	sq.Setups = []string{"CREATE OR REPLACE MACRO twice(x) AS x * 2"}
	res, err := Run(ctx, wh, sq, Options{EndDS: "2023-11-03", StepDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Steps) != 3 {
		t.Errorf("steps = %+v", res.Steps)
	}
	want := []string{
		"2023-11-01|6|2023-11-04|2023-11-03|2023-11-01|1.5|(null)",
		"2023-11-02|10|2023-11-04|2023-11-03|2023-11-02|1.5|(null)",
		"2023-11-03|10|2023-11-04|2023-11-03|2023-11-03|1.5|(null)",
	}
	if got := scanRows(t, wh, "out.team_daily_v1", "n2", "max_ds", "latest", "first", "ratio", "nothing"); !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %v, want %v", got, want)
	}
	info, err := wh.Describe(ctx, "out.team_daily_v1")
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]arrow.DataType{"ratio": arrow.PrimitiveTypes.Float64} {
		if f, ok := info.Schema.FieldsByName(name); !ok || !arrow.TypeEqual(f[0].Type, typ) {
			t.Errorf("column %s: %v, want %s", name, f, typ)
		}
	}
}

// TestRowsOutsideStep: a query that ignores the step's dates still gives
// each partition once; rows of other days are dropped with a warning.
func TestRowsOutsideStep(t *testing.T) {
	wh := openWarehouse(t)
	sq := stagingQuery("SELECT user_id, price, ds FROM data.purchases", "2023-11-01")
	res, err := Run(context.Background(), wh, sq, Options{EndDS: "2023-11-02", StepDays: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2023-11-01|u1|10", "2023-11-01|u1|5", "2023-11-01|u2|7", "2023-11-02|u2|1", "2023-11-02|u3|2"}
	if got := scanRows(t, wh, "out.team_daily_v1", "user_id", "price"); !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %v, want %v", got, want)
	}
	if len(res.Warnings) != 2 || !strings.Contains(res.Warnings[0], "2023-11-01..2023-11-01 returned 3 rows of partitions outside that range") {
		t.Errorf("warnings = %q", res.Warnings)
	}
	if res.Steps[0].Dropped != 3 || res.Steps[1].Dropped != 4 {
		t.Errorf("steps = %+v", res.Steps)
	}
}

// TestWholeQuery: without a start partition the query runs once and
// replaces the partitions its result holds.
func TestWholeQuery(t *testing.T) {
	wh := openWarehouse(t)
	sq := stagingQuery("SELECT user_id, ds FROM data.purchases WHERE ds < '{{ latest_date }}'", "")
	res, err := Run(context.Background(), wh, sq, Options{EndDS: "2023-11-04"})
	if err != nil {
		t.Fatal(err)
	}
	if got := resultPartitions(res); !reflect.DeepEqual(got, []string{"2023-11-01:3", "2023-11-02:2"}) || len(res.Steps) != 1 || res.Steps[0].Start != "" {
		t.Errorf("partitions %v, steps %+v", got, res.Steps)
	}
	// Rerun: computed again (Chronon reruns such a query every time).
	if res, err := Run(context.Background(), wh, sq, Options{EndDS: "2023-11-04"}); err != nil || len(res.Partitions) != 2 {
		t.Errorf("rerun = %+v, %v", res, err)
	}
	if got := partitions(t, wh, "out.team_daily_v1"); !reflect.DeepEqual(got, []string{"2023-11-01:3", "2023-11-02:2"}) {
		t.Errorf("table partitions = %v", got)
	}
	// No rows: nothing written, with a warning.
	sq.Query = "SELECT user_id, ds FROM data.purchases WHERE false"
	sq.MetaData.Name = "team.empty.v1"
	res, err = Run(context.Background(), wh, sq, Options{EndDS: "2023-11-04"})
	if err != nil || len(res.Partitions) != 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "no rows") {
		t.Errorf("empty result = %+v, %v", res, err)
	}
	if _, err := wh.Describe(context.Background(), "out.team_empty_v1"); !errors.Is(err, warehouse.ErrTableNotFound) {
		t.Errorf("empty result wrote a table: %v", err)
	}
}

// TestRunErrors: every failure names the staging query and writes nothing,
// even when an earlier step succeeded.
func TestRunErrors(t *testing.T) {
	wh := openWarehouse(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, query string
		setups      []string
		step        int
		want        []string
	}{
		{"missing table", "SELECT user_id, ds FROM data.nope WHERE ds = '{{ end_date }}'", nil, 0,
			[]string{"query for 2023-11-01..2023-11-02", "nope"}},
		{"syntax", "SELEC user_id, ds FROM data.purchases", nil, 0, []string{"query for 2023-11-01..2023-11-02", "syntax error"}},
		{"no ds", "SELECT user_id FROM data.purchases WHERE ds = '{{ end_date }}'", nil, 0,
			[]string{"the query result has no ds column (columns: user_id utf8)", "'{{ end_date }}' AS ds"}},
		{"two ds", "SELECT ds, ds FROM data.purchases", nil, 0, []string{"two ds columns"}},
		{"ds type", "SELECT user_id, 1 AS ds FROM data.purchases", nil, 0, []string{"ds column has type int32"}},
		{"bad ds", "SELECT user_id, '2023-11-1' AS ds FROM data.purchases", nil, 0, []string{`ds "2023-11-1": want YYYY-MM-DD`}},
		// The second step fails after the first one wrote its rows.
		{"null ds in step 2", "SELECT user_id, CASE WHEN '{{ start_date }}' = '2023-11-02' THEN NULL ELSE ds END AS ds FROM data.purchases WHERE ds BETWEEN '{{ start_date }}' AND '{{ end_date }}'", nil, 1,
			[]string{"query for 2023-11-02..2023-11-02", "a row has a null ds"}},
		{"max_date of a missing table", "SELECT user_id, ds FROM data.purchases WHERE ds = '{{ max_date(table=data.nope) }}'", nil, 1,
			[]string{"render query for 2023-11-01..2023-11-01", "max_date: table data.nope does not exist"}},
		{"unknown variable", "SELECT user_id, '{{ ds }}' AS ds FROM data.purchases", nil, 0, []string{`unknown template variable "ds"`}},
		{"setup", "SELECT user_id, ds FROM data.purchases", []string{"SELECT 1", "CREATE NONSENSE"}, 0, []string{"setups[1]"}},
	} {
		sq := stagingQuery(tc.query, "2023-11-01")
		sq.Setups = tc.setups
		_, err := Run(ctx, wh, sq, Options{EndDS: "2023-11-02", StepDays: tc.step})
		if err == nil {
			t.Errorf("%s: Run succeeded", tc.name)
			continue
		}
		if !strings.HasPrefix(err.Error(), "staging query team.daily.v1: ") {
			t.Errorf("%s: error %q does not name the staging query", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q lacks %q", tc.name, err, w)
			}
		}
		if _, err := wh.Describe(ctx, "out.team_daily_v1"); !errors.Is(err, warehouse.ErrTableNotFound) {
			t.Fatalf("%s: output table written: %v", tc.name, err)
		}
	}
}
