// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/expr"
)

const dayMs = 24 * 3600 * 1000

func TestRuleQuery(t *testing.T) {
	ts := int64(10*dayMs + 5) // 5 ms into day 10
	for _, tc := range []struct {
		rule    Rule
		ds      int64
		wantT   int64
		wantDay int64
	}{
		{RuleTemporal, 10, ts, -1},
		{RuleMidnight, 11, 10 * dayMs, -1}, // the day of ts, not the ds
		{RuleDayEnd, 11, 12 * dayMs, -1},
		{RuleSnapshotPrev, 11, 10 * dayMs, 9},
		{RuleSnapshotSame, 11, 12 * dayMs, 11},
		{RuleMutations, 11, ts, 9},
	} {
		gotT, gotDay := tc.rule.Query(ts, tc.ds)
		if gotT != tc.wantT || gotDay != tc.wantDay {
			t.Errorf("rule %d: Query = (%d, %d), want (%d, %d)", tc.rule, gotT, gotDay, tc.wantT, tc.wantDay)
		}
	}
	// Before the epoch, days round down.
	if tt, d := RuleSnapshotPrev.Query(-1, 0); tt != -dayMs || d != -2 {
		t.Errorf("Query(-1) = (%d, %d), want (%d, -2)", tt, d, -dayMs)
	}
}

func TestRuleFor(t *testing.T) {
	events := api.NewGroupBy("t.e", []*api.Source{api.EventsSource("t.x", nil)}, []string{"k"})
	temporal := api.NewGroupBy("t.e", []*api.Source{api.EventsSource("t.x", nil)}, []string{"k"})
	temporal.Accuracy = api.Ptr(api.Temporal)
	entities := api.NewGroupBy("t.n", []*api.Source{api.EntitiesSource("t.y", nil)}, []string{"k"})
	mut := api.NewGroupBy("t.m", []*api.Source{{Entities: &api.EntitySource{SnapshotTable: "t.y", MutationTable: "t.z"}}}, []string{"k"})
	mut.Accuracy = api.Ptr(api.Temporal)
	for _, tc := range []struct {
		g    *api.GroupBy
		left api.DataModel
		want Rule
	}{
		{events, api.EventsModel, RuleMidnight},
		{temporal, api.EventsModel, RuleTemporal},
		{entities, api.EventsModel, RuleSnapshotPrev},
		{mut, api.EventsModel, RuleMutations},
		{temporal, api.EntitiesModel, RuleDayEnd},
		{mut, api.EntitiesModel, RuleSnapshotSame},
	} {
		if got := RuleFor(tc.g, tc.left); got != tc.want {
			t.Errorf("RuleFor(%s, left %v) = %d, want %d", tc.g.MetaData.Name, tc.left, got, tc.want)
		}
	}
}

func record(t *testing.T, schema *arrow.Schema, cols ...[]any) arrow.RecordBatch {
	t.Helper()
	arrs := make([]arrow.Array, len(cols))
	for i, c := range cols {
		a, err := batch.NewArrayOf(schema.Field(i).Type, c)
		if err != nil {
			t.Fatal(err)
		}
		arrs[i] = a
	}
	return array.NewRecordBatch(schema, arrs, int64(len(cols[0])))
}

func fields(cols ...any) *arrow.Schema {
	var fs []arrow.Field
	for i := 0; i < len(cols); i += 2 {
		fs = append(fs, arrow.Field{Name: cols[i].(string), Type: cols[i+1].(arrow.DataType), Nullable: true})
	}
	return arrow.NewSchema(fs, nil)
}

func TestKeyEncoder(t *testing.T) {
	i32, i64, str := arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String
	a := record(t, fields("k", i32, "s", str), []any{int32(5), nil, int32(5)}, []any{"x", "x", nil})
	b := record(t, fields("k", i64, "s", str), []any{int64(5)}, []any{"x"})
	ea, err := NewKeyEncoder(a, []string{"k", "s"})
	if err != nil {
		t.Fatal(err)
	}
	eb, _ := NewKeyEncoder(b, []string{"k", "s"})
	ka, na := ea.Append(nil, 0)
	kb, nb := eb.Append(nil, 0)
	if string(ka) != string(kb) || na != 0 || nb != 0 {
		t.Errorf("int32 5 and int64 5 encode differently: %q %q", ka, kb)
	}
	for row, want := range []struct{ query, source bool }{{true, true}, {false, true}, {false, true}} {
		_, n := ea.Append(nil, row)
		if got := ea.Usable(n, true); got != want.query {
			t.Errorf("row %d: usable as a query = %v, want %v", row, got, want.query)
		}
		if got := ea.Usable(n, false); got != want.source {
			t.Errorf("row %d: usable as a source row = %v, want %v", row, got, want.source)
		}
	}
	if _, err := NewKeyEncoder(a, []string{"missing"}); err == nil || !strings.Contains(err.Error(), `"missing"`) {
		t.Errorf("missing key column: err = %v", err)
	}
}

func TestCompileSource(t *testing.T) {
	table := ScanSchema(fields("user", arrow.BinaryTypes.String, "price", arrow.PrimitiveTypes.Int64, "at", arrow.PrimitiveTypes.Int64))
	rec := record(t, table, []any{"a", "b", "c"}, []any{int64(1), int64(20), int64(3)}, []any{int64(7), int64(8), int64(9)},
		[]any{"2024-01-02", "2024-01-02", "2024-01-02"})
	q := api.NewQuery(api.Selects("user"), "")
	q.Selects.Set("cents", "price * 100")
	q.Wheres = []string{"price < 10"}

	snapshot := &api.Source{Events: &api.EventSource{Table: "t.p", Query: q}}
	src, err := CompileSource("t.gb", "sources[0]", snapshot, table, SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := src.Apply(rec)
	if err != nil {
		t.Fatal(err)
	}
	got := rows(out)
	eod := int64(19724)*dayMs + dayMs - 1 // 2024-01-02 23:59:59.999
	want := []string{"a 100 " + itoa(eod), "c 300 " + itoa(eod)}
	if strings.Join(got, ";") != strings.Join(want, ";") {
		t.Errorf("rows = %v, want %v", got, want)
	}

	q2 := api.NewQuery(api.Selects("user"), "at + 1")
	src2, err := CompileSource("t.gb", "sources[0]", api.EventsSource("t.p", q2), table, SourceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out2, _ := src2.Apply(rec)
	if got := rows(out2); got[0] != "a 8" {
		t.Errorf("timeColumn: rows = %v, want a 8 first", got)
	}

	bad := api.NewQuery(api.Selects("user"), "")
	bad.Selects.Set("p", "pric + 1")
	_, err = CompileSource("t.gb", "sources[0]", api.EventsSource("t.p", bad), table, SourceOptions{})
	if err == nil || !strings.Contains(err.Error(), "t.gb: sources[0].events.query") || !strings.Contains(err.Error(), `"p"`) {
		t.Errorf("unknown column: err = %v, want it to name the definition, field and select", err)
	}
	_, err = CompileSource("t.gb", "sources[0]", api.EntitiesSource("t.p", api.NewQuery(api.Selects("user"), "at")), table, SourceOptions{Mutations: true})
	if err == nil || !strings.Contains(err.Error(), "mutationTimeColumn") {
		t.Errorf("mutations without a mutation time column: err = %v", err)
	}
}

func rows(rec arrow.RecordBatch) []string {
	var out []string
	for i := 0; i < int(rec.NumRows()); i++ {
		var parts []string
		for c := 0; c < int(rec.NumCols()); c++ {
			parts = append(parts, strings.TrimSpace(fmtValue(expr.ValueAt(rec.Column(c), i))))
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func fmtValue(v any) string {
	switch x := v.(type) {
	case int64:
		return itoa(x)
	case string:
		return x
	case nil:
		return "null"
	}
	return "?"
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestDerivations(t *testing.T) {
	schema := fields("a", arrow.PrimitiveTypes.Int64, "b", arrow.PrimitiveTypes.Int64, "left", arrow.PrimitiveTypes.Int64)
	rec := record(t, schema, []any{int64(1), nil}, []any{int64(10), int64(20)}, []any{nil, int64(7)})
	for _, tc := range []struct {
		name string
		defs []*api.Derivation
		want []string
	}{
		{"rename and expression", []*api.Derivation{{Name: "x", Expression: "a"}, {Name: "y", Expression: "a + b"}},
			[]string{"left:null x:1 y:11", "left:7 x:null y:null"}},
		{"star keeps the rest but renamed inputs", []*api.Derivation{{Name: "*", Expression: "*"}, {Name: "x", Expression: "a"}},
			[]string{"left:null b:10 x:1", "left:7 b:20 x:null"}},
		{"a derived name that exists is coalesced", []*api.Derivation{{Name: "left", Expression: "b * 2"}},
			[]string{"left:20", "left:7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := CompileDerivations("t.j", tc.defs, schema, []string{"left"}, []string{"a", "b"}, true)
			if err != nil {
				t.Fatal(err)
			}
			out, err := d.Apply(rec)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i := 0; i < int(out.NumRows()); i++ {
				var parts []string
				for c, f := range out.Schema().Fields() {
					parts = append(parts, f.Name+":"+fmtValue(expr.ValueAt(out.Column(c), i)))
				}
				got = append(got, strings.Join(parts, " "))
			}
			if strings.Join(got, ";") != strings.Join(tc.want, ";") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := CompileDerivations("t.j", []*api.Derivation{{Name: "z", Expression: "nope"}}, schema, nil, []string{"a"}, true); err == nil ||
		!strings.Contains(err.Error(), "t.j: derivations[0].expression") {
		t.Errorf("bad derivation: err = %v", err)
	}
}
