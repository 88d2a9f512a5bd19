// SPDX-License-Identifier: Apache-2.0

package plan

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// schemaLookup serves the quickstart schemas, with overrides.
func schemaLookup(overrides map[string]*arrow.Schema) SchemaFunc {
	s := quickstartSchemas()
	for k, v := range overrides {
		if v == nil {
			delete(s, k)
		} else {
			s[k] = v
		}
	}
	return func(table string) (*arrow.Schema, error) {
		if sch, ok := s[table]; ok {
			return sch, nil
		}
		return nil, fmt.Errorf("describe %s: %w", table, warehouse.ErrTableNotFound)
	}
}

// render lists a schema as "name type" lines.
func render(s *arrow.Schema) []string {
	out := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = f.Name + " " + TypeString(f.Type)
	}
	return out
}

func checkColumns(t *testing.T, got *arrow.Schema, want []string) {
	t.Helper()
	g := render(got)
	if strings.Join(g, "\n") != strings.Join(want, "\n") {
		t.Errorf("schema:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(want, "\n"))
	}
}

func aggColumns(prefix, input string, sumType string, lastK string) []string {
	var out []string
	for _, op := range []string{"sum", "count", "average"} {
		for _, w := range []string{"3d", "14d", "30d"} {
			typ := "int64"
			switch op {
			case "sum":
				typ = sumType
			case "average":
				typ = "float64"
			}
			out = append(out, prefix+input+"_"+op+"_"+w+" "+typ)
		}
	}
	return append(out, prefix+input+"_"+lastK+" list<int64>")
}

func TestQuickstartJoinSchema(t *testing.T) {
	r := quickstart(t)
	left := []string{"user_id string", "ts int64", "ds string"}
	purchases := aggColumns("quickstart_purchases_v1_", "purchase_price", "int64", "last10")
	returns := aggColumns("quickstart_returns_v1_", "refund_amt", "int64", "last2")
	users := []string{"quickstart_users_v1_account_created_ds string", "quickstart_users_v1_email_verified string"}
	for _, tc := range []struct {
		join string
		want []string
	}{
		{"quickstart.training_set.v1", concat(left, purchases, returns, users)},
		{"quickstart.training_set.v2", concat(left, purchases, returns)},
	} {
		t.Run(tc.join, func(t *testing.T) {
			s, err := JoinOutputSchema(r.Joins[tc.join], schemaLookup(nil))
			if err != nil {
				t.Fatal(err)
			}
			checkColumns(t, s, tc.want)
			// Spot-check the Arrow types themselves, not only their names.
			for name, want := range map[string]arrow.DataType{
				"user_id": str, "ts": i64, "ds": str,
				"quickstart_purchases_v1_purchase_price_sum_3d":     i64,
				"quickstart_purchases_v1_purchase_price_average_3d": f64,
			} {
				fs, ok := s.FieldsByName(name)
				if !ok || fs[0].Type.ID() != want.ID() {
					t.Errorf("%s: got %v, want %v", name, fs, want)
				}
			}
			fs, _ := s.FieldsByName("quickstart_purchases_v1_purchase_price_last10")
			if lt, ok := fs[0].Type.(*arrow.ListType); !ok || lt.Elem().ID() != arrow.INT64 {
				t.Errorf("last10 is %s, want list<int64>", fs[0].Type)
			}
		})
	}
}

func concat(xs ...[]string) []string {
	var out []string
	for _, x := range xs {
		out = append(out, x...)
	}
	return out
}

func TestQuickstartGroupBySchemas(t *testing.T) {
	r := quickstart(t)
	for _, tc := range []struct {
		name string
		want []string
	}{
		// SNAPSHOT and TEMPORAL backfills are both daily snapshots: no ts.
		{"quickstart.purchases.v1", concat([]string{"user_id string"}, aggColumns("", "purchase_price", "int64", "last10"), []string{"ds string"})},
		{"quickstart.returns.v1", concat([]string{"user_id string"}, aggColumns("", "refund_amt", "int64", "last2"), []string{"ds string"})},
		{"quickstart.users.v1", []string{"user_id string", "account_created_ds string", "email_verified string", "ds string"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := GroupByOutputSchema(r.GroupBys[tc.name], schemaLookup(nil))
			if err != nil {
				t.Fatal(err)
			}
			checkColumns(t, s, tc.want)
		})
	}
}

// purchasesGroupBy returns a GroupBy over data.purchases with the given selects.
func purchasesGroupBy(selects *api.OrderedMap, aggs ...*api.Aggregation) *api.GroupBy {
	return api.NewGroupBy("quickstart.purchases.v1",
		[]*api.Source{api.EventsSource("data.purchases", api.NewQuery(selects, "ts"))}, []string{"user_id"}, aggs...)
}

func checkoutsLeft() *api.Source {
	return api.EventsSource("data.checkouts", api.NewQuery(api.Selects("user_id"), "ts"))
}

func TestSchemaTypesAndDerivations(t *testing.T) {
	sel := api.NewOrderedMap("user_id", "user_id", "price", "purchase_price * 1.5", "product_id", "product_id")
	g := purchasesGroupBy(sel,
		api.Sum("price", api.Days(7)),
		api.NewAggregation("product_id", api.OpHistogram),
		api.NewAggregation("product_id", api.OpUniqueCount, api.Days(1)))
	s, err := GroupByOutputSchema(g, schemaLookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	checkColumns(t, s, []string{"user_id string", "price_sum_7d float64", "product_id_histogram map<string,int32>",
		"product_id_unique_count_1d int64", "ds string"})

	// GroupBy derivations: typed over keys, values and ds.
	gd := purchasesGroupBy(api.Selects("user_id", "purchase_price"), api.Sum("purchase_price", api.Days(7)), api.CountOf("purchase_price", api.Days(7)))
	gd.Derivations = []*api.Derivation{
		{Name: "avg_7d", Expression: "purchase_price_sum_7d / purchase_price_count_7d"},
		{Name: "day", Expression: "ds"},
	}
	s, err = GroupByOutputSchema(gd, schemaLookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	checkColumns(t, s, []string{"user_id string", "avg_7d float64", "day string", "ds string"})

	// Join derivations, with * (a rename drops its source) and a derived
	// column named like a left column (coalesce).
	j := api.NewJoin("team.j.v1", checkoutsLeft(), api.Part(g, nil))
	j.Derivations = []*api.Derivation{
		{Name: "*", Expression: "*"},
		{Name: "spent", Expression: "quickstart_purchases_v1_price_sum_7d"},
		{Name: "user_id", Expression: "upper(user_id)"},
		{Name: "hour", Expression: "hour(timestamp_millis(ts))"},
	}
	s, err = JoinOutputSchema(j, schemaLookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	checkColumns(t, s, []string{"user_id string", "ts int64", "ds string",
		"quickstart_purchases_v1_product_id_histogram map<string,int32>",
		"quickstart_purchases_v1_product_id_unique_count_1d int64",
		"spent float64", "hour int32"})

	// Without *: left columns and derived columns only.
	j.Derivations = []*api.Derivation{{Name: "n", Expression: "quickstart_purchases_v1_product_id_unique_count_1d + 1"}}
	s, err = JoinOutputSchema(j, schemaLookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	checkColumns(t, s, []string{"user_id string", "ts int64", "ds string", "n int64"})
}

func TestSchemaLeftVariants(t *testing.T) {
	users := api.NewGroupBy("quickstart.users.v1",
		[]*api.Source{api.EntitiesSource("data.users", api.NewQuery(api.Selects("user_id", "email_verified"), ""))}, []string{"user_id"})
	prefixed := api.Part(users, map[string]string{"buyer": "user_id"})
	prefixed.Prefix = api.Ptr("u")
	for _, tc := range []struct {
		name string
		left *api.Source
		part *api.JoinPart
		want []string
	}{
		{"select star events", api.EventsSource("data.checkouts", &api.Query{}), api.Part(users, nil),
			[]string{"return_id string", "user_id string", "product_id string", "refund_amt int64", "ts int64", "ds string",
				"quickstart_users_v1_email_verified string"}},
		{"entities left has no ts", api.EntitiesSource("data.users", api.NewQuery(api.Selects("user_id"), "")), api.Part(users, nil),
			[]string{"user_id string", "ds string", "quickstart_users_v1_email_verified string"}},
		{"prefix and key mapping", api.EventsSource("data.checkouts",
			api.NewQuery(api.NewOrderedMap("buyer", "user_id", "amt", "cast(refund_amt as int)"), "ts * 1000")), prefixed,
			[]string{"buyer string", "amt int32", "ts int64", "ds string", "u_quickstart_users_v1_email_verified string"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := JoinOutputSchema(api.NewJoin("team.j.v1", tc.left, tc.part), schemaLookup(nil))
			if err != nil {
				t.Fatal(err)
			}
			checkColumns(t, s, tc.want)
		})
	}
}

func TestSchemaErrors(t *testing.T) {
	r := quickstart(t)
	price := api.NewOrderedMap("user_id", "user_id", "price", "1 + pric")
	withWhere := purchasesGroupBy(api.Selects("user_id", "purchase_price"), api.Sum("purchase_price"))
	withWhere.Sources[0].Events.Query.Wheres = []string{"purchase_price > 0", "product_id"}
	badTs := purchasesGroupBy(api.Selects("user_id", "purchase_price"), api.Sum("purchase_price"))
	badTs.Sources[0].Events.Query.TimeColumn = "user_id"
	badKey := api.NewJoin("team.j.v1", api.EventsSource("data.checkouts",
		api.NewQuery(api.NewOrderedMap("user_id", "refund_amt"), "ts")), api.Part(r.GroupBys["quickstart.users.v1"], nil))
	badDerivation := api.NewJoin("team.j.v1", checkoutsLeft(), api.Part(r.GroupBys["quickstart.users.v1"], nil))
	badDerivation.Derivations = []*api.Derivation{{Name: "x", Expression: "email_verified"}}
	partErr := api.NewJoin("team.j.v1", checkoutsLeft(), api.Part(purchasesGroupBy(price, api.Sum("price")), nil))
	entityWindow := api.NewGroupBy("team.users.v1",
		[]*api.Source{api.EntitiesSource("data.users", api.NewQuery(api.Selects("user_id", "email_verified"), ""))},
		[]string{"user_id"}, api.CountOf("email_verified", api.Days(3)))

	for _, tc := range []struct {
		name    string
		def     any
		tables  map[string]*arrow.Schema
		want    string // error prefix
		notFind bool   // errors.Is(err, warehouse.ErrTableNotFound)
	}{
		{name: "unknown column", def: purchasesGroupBy(price, api.Sum("price")),
			want: `quickstart.purchases.v1: sources[0].events.query.selects.price: 1:5: unknown column "pric"`},
		{name: "missing table", def: purchasesGroupBy(api.Selects("user_id", "purchase_price"), api.Sum("purchase_price")),
			tables: map[string]*arrow.Schema{"data.purchases": nil},
			want:   `quickstart.purchases.v1: sources[0].events.table: table data.purchases: describe data.purchases: warehouse: table not found`, notFind: true},
		{name: "missing join left table", def: r.Joins["quickstart.training_set.v1"],
			tables: map[string]*arrow.Schema{"data.checkouts": nil},
			want:   `quickstart.training_set.v1: left.events.table: table data.checkouts:`, notFind: true},
		{name: "where not boolean", def: withWhere,
			want: `quickstart.purchases.v1: sources[0].events.query.wheres[1]: a filter must be boolean, not string`},
		{name: "time column not a long", def: badTs,
			want: `quickstart.purchases.v1: sources[0].events.query.timeColumn: must give epoch milliseconds as a long, got string`},
		{name: "unsupported aggregation input", def: purchasesGroupBy(api.Selects("user_id", "product_id"), api.Sum("product_id")),
			want: `quickstart.purchases.v1: aggregations[0]: product_id_sum: agg: unsupported input type: SUM over utf8`},
		{name: "input column not selected", def: purchasesGroupBy(api.Selects("user_id"), api.Sum("purchase_price")),
			want: `quickstart.purchases.v1: aggregations[0].inputColumn: input column "purchase_price" is not a column of sources[0] (columns: user_id, ts)`},
		{name: "key type mismatch", def: badKey,
			want: `team.j.v1: joinParts[0].keyMapping: left column "user_id" is int64 but quickstart.users.v1's key "user_id" is string`},
		{name: "derivation unknown column", def: badDerivation,
			want: `team.j.v1: derivations[0].expression: 1:1: unknown column "email_verified"`},
		{name: "error inside a join part", def: partErr,
			want: `team.j.v1: joinParts[0]: quickstart.purchases.v1: sources[0].events.query.selects.price: 1:5: unknown column "pric"`},
		{name: "windowed entities need ts", def: entityWindow,
			want: `team.users.v1: sources[0].entities.query.timeColumn: is required: aggregations[0] (email_verified_count_3d) needs a ts`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			switch d := tc.def.(type) {
			case *api.GroupBy:
				_, err = GroupByOutputSchema(d, schemaLookup(tc.tables))
			case *api.Join:
				_, err = JoinOutputSchema(d, schemaLookup(tc.tables))
			}
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant prefix %s", err, tc.want)
			}
			if tc.notFind != errors.Is(err, warehouse.ErrTableNotFound) {
				t.Errorf("errors.Is(ErrTableNotFound) = %v", !tc.notFind)
			}
		})
	}
}

func TestJoinSourceSchema(t *testing.T) {
	r := quickstart(t)
	// A GroupBy over the output of training_set.v2 (chaining): its input
	// schema is the join's output, computed without the join's table.
	g := api.NewGroupBy("team.chained.v1", []*api.Source{{JoinSource: &api.JoinSource{
		Join:  r.Joins["quickstart.training_set.v2"],
		Query: api.NewQuery(api.NewOrderedMap("user_id", "user_id", "spent", "quickstart_purchases_v1_purchase_price_sum_3d"), "ts"),
	}}}, []string{"user_id"}, api.NewAggregation("spent", api.OpMax, api.Days(7)))
	s, err := GroupByOutputSchema(g, schemaLookup(nil))
	if err != nil {
		t.Fatal(err)
	}
	checkColumns(t, s, []string{"user_id string", "spent_max_7d int64", "ds string"})
}

func TestTypeString(t *testing.T) {
	for _, tc := range []struct {
		t    arrow.DataType
		want string
	}{
		{str, "string"}, {i64, "int64"}, {arrow.FixedWidthTypes.Boolean, "bool"},
		{arrow.ListOf(arrow.PrimitiveTypes.Float32), "list<float32>"},
		{arrow.MapOf(str, i64), "map<string,int64>"},
		{arrow.StructOf(field("a", i64), field("b", str)), "struct<a:int64,b:string>"},
	} {
		if got := TypeString(tc.t); got != tc.want {
			t.Errorf("TypeString(%s) = %q, want %q", tc.t, got, tc.want)
		}
	}
}
