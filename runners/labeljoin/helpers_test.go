// SPDX-License-Identifier: Apache-2.0

package labeljoin_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
	"github.com/chronon-go/chronon/runners/beamrun"
	"github.com/chronon-go/chronon/runners/labeljoin"
	"github.com/chronon-go/chronon/testing/oracle"
	"github.com/chronon-go/chronon/testing/testkit"
)

const dayMs = int64(24 * 3600 * 1000)

// env is a temporary warehouse with its tables also kept as oracle rows,
// and the Beam runner its label joins run on.
type env struct {
	root   string
	wh     warehouse.Warehouse
	tables oracle.Tables
	types  map[string]*arrow.Schema
	runner string
}

func newEnv(t *testing.T, runner string) *env {
	root := t.TempDir()
	wh, err := parquet.Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	return &env{root: root, wh: wh, tables: oracle.Tables{}, types: map[string]*arrow.Schema{}, runner: runner}
}

// table writes rows (each with a "ds") under schema, one partition per ds.
func (e *env) table(t *testing.T, name string, schema *arrow.Schema, rows []oracle.Row) {
	t.Helper()
	ctx := context.Background()
	e.tables[name], e.types[name] = rows, schema
	var days []string
	for _, r := range rows {
		if d := r["ds"].(string); !slices.Contains(days, d) {
			days = append(days, d)
		}
	}
	txn, err := e.wh.Begin(ctx, name, schema, warehouse.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range days {
		var cols []arrow.Array
		n := 0
		for _, f := range schema.Fields() {
			var vals []any
			for _, r := range rows {
				if r["ds"] == d {
					vals = append(vals, r[f.Name])
				}
			}
			c, err := batch.NewArrayOf(f.Type, vals)
			if err != nil {
				t.Fatalf("%s.%s: %v", name, f.Name, err)
			}
			cols, n = append(cols, c), len(vals)
		}
		if err := txn.Write(ctx, d, array.NewRecordBatch(schema, cols, int64(n))); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// rows reads a table's rows as maps (ds included).
func (e *env) rows(t *testing.T, table string) []map[string]any {
	t.Helper()
	return testkit.TableRows(t, e.wh, table)
}

// run runs the label join for label_ds start..end on e's runner.
func (e *env) run(t *testing.T, j *api.Join, start, end string) *labeljoin.Result {
	t.Helper()
	res, err := runErr(e, j, start, end)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func runErr(e *env, j *api.Join, start, end string) (*labeljoin.Result, error) {
	return labeljoin.Run(context.Background(), e.wh, j, labeljoin.Options{
		Root: e.root, Start: start, End: end, Shards: 3, Runner: beamrun.Options{Runner: e.runner}})
}

func schemaOf(cols ...any) *arrow.Schema {
	var fields []arrow.Field
	for i := 0; i < len(cols); i += 2 {
		fields = append(fields, arrow.Field{Name: cols[i].(string), Type: cols[i+1].(arrow.DataType), Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

var (
	tInt    = arrow.PrimitiveTypes.Int64
	tString = arrow.BinaryTypes.String
)

func ds(day int64) string { return batch.DSOfMillis(day * dayMs) }

// labelJoin is a join of the checkouts left (lid, buyer, ts) with one
// feature part and the given label part.
func labelJoin(lp *api.LabelPart) *api.Join {
	left := api.EventsSource("data.checkouts", api.NewQuery(api.Selects("lid", "buyer"), "ts"))
	feat := api.NewGroupBy("test.spend", []*api.Source{api.EventsSource("data.purchases",
		api.NewQuery(api.Selects("user", "price"), "ts"))}, []string{"user"}, api.Sum("price", api.Days(3)))
	j := api.NewJoin("test.model", left, &api.JoinPart{GroupBy: feat, KeyMapping: map[string]string{"buyer": "user"}})
	j.MetaData.OutputNamespace = "out"
	j.LabelPart = lp
	return j
}

// userLabel is an entities label without aggregations: a user's score.
func userLabel(scoreExpr string) *api.JoinPart {
	q := &api.Query{Selects: api.Selects("user")}
	q.Selects.Set("score", scoreExpr)
	g := api.NewGroupBy("test.user_label", []*api.Source{api.EntitiesSource("data.users", q)}, []string{"user"})
	return &api.JoinPart{GroupBy: g, KeyMapping: map[string]string{"buyer": "user"}}
}

// spendLabel is an events label: the sum of a user's purchases over w days.
func spendLabel(w int32) *api.JoinPart {
	g := api.NewGroupBy("test.spend_label", []*api.Source{api.EventsSource("data.purchases",
		api.NewQuery(api.Selects("user", "price"), "ts"))}, []string{"user"}, api.Sum("price", api.Days(w)))
	return &api.JoinPart{GroupBy: g, KeyMapping: map[string]string{"buyer": "user"}}
}

// byKey indexes rows by buyer, ds and label_ds.
func byKey(t *testing.T, rows []map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, r := range rows {
		k := fmt.Sprint(r["buyer"], "/", r["ds"], "/", r[api.LabelPartitionCol])
		if _, dup := out[k]; dup {
			t.Fatalf("duplicate row %s", k)
		}
		out[k] = r
	}
	return out
}
