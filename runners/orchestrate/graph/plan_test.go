// SPDX-License-Identifier: Apache-2.0

package graph

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/runners/plan"
)

// TestReadsAgreeWithPlan checks that the partitions a step reads for a day
// are those runners/plan requires for that day, so that waiting for inputs
// and the backfill's own check cannot drift apart.
func TestReadsAgreeWithPlan(t *testing.T) {
	days, err := batch.DSRange("2023-10-01", "2023-12-01")
	if err != nil {
		t.Fatal(err)
	}
	var parts []warehouse.Partition
	for _, d := range days {
		parts = append(parts, warehouse.Partition{DS: d, Rows: 1})
	}
	str, long := arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64
	schemas := map[string][]arrow.Field{
		"data.purchases": {{Name: "user_id", Type: str}, {Name: "purchase_price", Type: long}, {Name: "ts", Type: long}},
		"data.returns":   {{Name: "user_id", Type: str}, {Name: "refund_amt", Type: long}, {Name: "ts", Type: long}},
		"data.users":     {{Name: "user_id", Type: str}, {Name: "email_verified", Type: str}},
		"data.checkouts": {{Name: "user_id", Type: str}, {Name: "ts", Type: long}},
	}
	describe := func(table string) (*warehouse.TableInfo, error) {
		f, ok := schemas[table]
		if !ok {
			return nil, fmt.Errorf("%s: %w", table, warehouse.ErrTableNotFound)
		}
		return &warehouse.TableInfo{Name: table, Schema: arrow.NewSchema(f, nil), Partitions: parts}, nil
	}
	defs := quickstart()
	g, err := Build(defs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const ds = "2023-12-01"
	check := func(id string, p *plan.Plan) {
		t.Helper()
		n := g.Node(id)
		if len(n.Reads) != len(p.Required) {
			t.Errorf("%s reads %d tables, the plan %d: %v", id, len(n.Reads), len(p.Required), p.Required)
		}
		for _, r := range n.Reads {
			first, last, _ := r.Partitions(ds)
			if first == "" {
				first = days[0] // all history: from the table's first partition
			}
			req := p.Required[r.Table]
			if len(req) == 0 || req[0] != first || req[len(req)-1] != last {
				t.Errorf("%s reads %s %s..%s, the plan %v", id, r.Table, first, last, req)
			}
		}
	}
	for _, j := range defs.Joins {
		p, err := plan.PlanJoin(j, describe, plan.Options{Start: ds, End: ds})
		if err != nil {
			t.Fatal(err)
		}
		check("backfill:"+j.MetaData.Name, p)
	}
	for _, gb := range defs.GroupBys {
		p, err := plan.PlanGroupBy(gb, describe, plan.Options{Start: ds, End: ds})
		if err != nil {
			t.Fatal(err)
		}
		check("upload:"+gb.MetaData.Name, p)
	}
}
