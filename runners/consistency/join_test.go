// SPDX-License-Identifier: Apache-2.0

package consistency

import (
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/expr"
)

// TestComparisonJoin checks the derived join against Chronon's
// buildComparisonJoin: the logged table as left with the parts' left keys
// and ts, the _comparison name and table, the parts and derivations kept,
// the online-only and bootstrap pieces dropped, the original untouched.
func TestComparisonJoin(t *testing.T) {
	src := api.EventsSource("data.x", api.NewQuery(api.Selects("user", "v"), "ts"))
	g1 := api.NewGroupBy("t.a", []*api.Source{src}, []string{"user"}, api.Sum("v"))
	g2 := api.NewGroupBy("t.b", []*api.Source{src}, []string{"user", "shop"}, api.Sum("v"))
	left := api.EventsSource("data.left", api.NewQuery(api.Selects("buyer", "shop", "other"), "ts"))
	left.Events.Query.StartPartition = "2024-01-01"
	j := api.NewJoin("team.j.v1", left, api.Part(g1, map[string]string{"buyer": "user"}), api.Part(g2, map[string]string{"buyer": "user"}))
	j.MetaData.OutputNamespace = "ns"
	j.Derivations = []*api.Derivation{{Name: "d", Expression: "t_a_v_sum + 1"}}
	j.RowIDs = []string{"other"}
	j.BootstrapParts = []*api.BootstrapPart{{Table: "ns.team_j_v1_logged"}}
	j.OnlineExternalParts = []*api.ExternalPart{{Source: &api.ExternalSource{MetaData: &api.MetaData{Name: "contextual"}}}}

	cj, err := ComparisonJoin(j)
	if err != nil {
		t.Fatal(err)
	}
	q := cj.Left.Query()
	if cj.Left.Table() != "ns.team_j_v1_logged" || q.TimeColumn != "ts" || q.StartPartition != "2024-01-01" ||
		len(q.Wheres) != 0 || q.Selects.Len() != 2 || q.Selects.Keys()[0] != "buyer" || q.Selects.Keys()[1] != "shop" {
		t.Errorf("left %+v, query %+v (selects %v)", cj.Left, q, q.Selects.Keys())
	}
	if cj.MetaData.GetName() != "team.j.v1_comparison" || cj.MetaData.OutputTable() != "ns.team_j_v1_comparison" ||
		cj.MetaData.TableProperties[OOCTableProperty] != "true" {
		t.Errorf("metadata %+v", cj.MetaData)
	}
	if len(cj.JoinParts) != 2 || len(cj.Derivations) != 1 || cj.RowIDs != nil || cj.BootstrapParts != nil || cj.OnlineExternalParts != nil {
		t.Errorf("comparison join %+v", cj)
	}
	if j.MetaData.GetName() != "team.j.v1" || j.Left.Table() != "data.left" || j.MetaData.TableProperties != nil || len(j.BootstrapParts) != 1 {
		t.Error("the original join was modified")
	}

	j.MetaData.ConsistencySamplePercent = 5
	if cj, err = ComparisonJoin(j); err != nil || len(cj.Left.Query().Wheres) != 1 {
		t.Fatalf("sampled: %v %v", cj.Left.Query().Wheres, err)
	}
}

// TestSampleWhere: the left filter, evaluated by the expression engine
// the backfill uses, keeps exactly the rows sampled() keeps, about the
// requested share.
func TestSampleWhere(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, pct := range []float64{0.5, 5, 37.5, 99.999} {
		p, err := expr.Compile(sampleWhere(pct), schema)
		if err != nil {
			t.Fatalf("%s: %v", sampleWhere(pct), err)
		}
		kept := 0
		const n = 20000
		for range n {
			ts := 1700000000000 + rng.Int64N(100*24*3600*1000)
			v, err := p.EvalRow(map[string]any{"ts": ts})
			if err != nil {
				t.Fatal(err)
			}
			if v != sampled(ts, pct) {
				t.Fatalf("pct %v ts %d: where %v, sampled %v", pct, ts, v, sampled(ts, pct))
			}
			if v == true {
				kept++
			}
		}
		if got := 100 * float64(kept) / n; got < pct*0.8-0.2 || got > pct*1.2+0.2 {
			t.Errorf("pct %v kept %.2f%%", pct, got)
		}
	}
	if !sampled(123, 100) {
		t.Error("100% does not keep every row")
	}
}
