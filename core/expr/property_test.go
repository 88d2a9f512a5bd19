// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// The property test generates random well-typed expressions over a schema,
// evaluates them over random batches with nulls, and checks that EvalBatch
// and EvalRow agree on every row.

var propSchema = arrow.NewSchema([]arrow.Field{
	{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "b", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "c", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "e", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
	{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "y", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "z", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "t", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "p", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "q", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "dt", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts", Type: TimestampType, Nullable: true},
	{Name: "la", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
	{Name: "ld", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64), Nullable: true},
	{Name: "ls", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	{Name: "ms", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64), Nullable: true},
	{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, arrow.Field{Name: "v", Type: arrow.BinaryTypes.String, Nullable: true}), Nullable: true},
}, nil)

func randRow(r *rand.Rand) map[string]any {
	row := map[string]any{}
	null := func() bool { return r.Intn(5) == 0 }
	ints := []int64{0, 1, -1, 2, 3, 7, -5, 10, 100, 1 << 40, math.MaxInt64, math.MinInt64, 1700000000}
	floats := []float64{0, math.Copysign(0, -1), 0.5, 1, -1.5, 2.675, 3.14159, 1e10, -1e-5, math.NaN(), math.Inf(1), 100}
	strs := []string{"", "a", "abc", "Hello World", "12", "1.5", " x ", "2024-01-02", "a,b,,c", "héllo", "NaN", "true", "2023-11-14 22:13:20"}
	pick := func(l []int64) int64 { return l[r.Intn(len(l))] }
	// list is a random list of up to three elements, some null
	list := func(elem func() any) []any {
		l := []any{}
		for k := r.Intn(4); k > 0; k-- {
			if null() {
				l = append(l, nil)
			} else {
				l = append(l, elem())
			}
		}
		return l
	}
	for _, f := range propSchema.Fields() {
		if null() {
			continue
		}
		switch f.Name {
		case "a", "b":
			if r.Intn(2) == 0 {
				row[f.Name] = int64(r.Intn(21) - 10)
			} else {
				row[f.Name] = pick(ints)
			}
		case "c":
			row[f.Name] = int32(pick(ints))
		case "e":
			row[f.Name] = int16(r.Intn(200) - 100)
		case "x", "y":
			if r.Intn(2) == 0 {
				row[f.Name] = float64(r.Intn(2001)-1000) / 100
			} else {
				row[f.Name] = floats[r.Intn(len(floats))]
			}
		case "z":
			row[f.Name] = float32(floats[r.Intn(len(floats))])
		case "s", "t":
			row[f.Name] = strs[r.Intn(len(strs))]
		case "p", "q":
			row[f.Name] = r.Intn(2) == 0
		case "dt":
			row[f.Name] = Date(r.Intn(40000) - 10000)
		case "ts":
			row[f.Name] = tsOfMicros(int64(r.Intn(2000000000)-500000000) * 1000003)
		case "la":
			row[f.Name] = list(func() any { return int64(r.Intn(11) - 5) })
		case "ld":
			row[f.Name] = list(func() any { return floats[r.Intn(len(floats))] })
		case "ls":
			row[f.Name] = list(func() any { return strs[r.Intn(len(strs))] })
		case "ms":
			m := map[string]any{}
			for _, k := range []string{"a", "b", "c"} {
				switch r.Intn(3) {
				case 0:
				case 1:
					m[k] = nil
				default:
					m[k] = float64(r.Intn(21)-10) / 4
				}
			}
			row[f.Name] = m
		case "st":
			st := map[string]any{"k": nil, "v": nil}
			if !null() {
				st["k"] = int64(r.Intn(5))
			}
			if !null() {
				st["v"] = strs[r.Intn(len(strs))]
			}
			row[f.Name] = st
		}
	}
	return row
}

// gen builds random SQL of a given type.
type gen struct {
	r    *rand.Rand
	vars map[string][]string // type → lambda variables in scope
	nvar int
}

func (g *gen) pick(opts ...string) string { return opts[g.r.Intn(len(opts))] }

func (g *gen) withVar(typ string, f func(v string) string) string {
	g.nvar++
	v := fmt.Sprintf("v%d", g.nvar)
	if g.vars == nil {
		g.vars = map[string][]string{}
	}
	g.vars[typ] = append(g.vars[typ], v)
	out := f(v)
	g.vars[typ] = g.vars[typ][:len(g.vars[typ])-1]
	return out
}

func (g *gen) leaf(typ string) string {
	if vs := g.vars[typ]; len(vs) > 0 && g.r.Intn(2) == 0 {
		return vs[g.r.Intn(len(vs))]
	}
	switch typ {
	case "long":
		return g.pick("a", "b", "a", "b", "3L", "-2L", "0L", "9223372036854775807L", "cast(null as bigint)")
	case "int":
		return g.pick("c", "c", "1", "-7", "0", "2147483647")
	case "double":
		return g.pick("x", "y", "x", "y", "1.5", "0.0", "-2.25", "cast('NaN' as double)", "1e300")
	case "float":
		return g.pick("z", "1.5F", "cast(x as float)")
	case "string":
		return g.pick("s", "t", "s", "t", "'abc'", "''", "'12'", "'2024-02-29'", "null")
	case "bool":
		return g.pick("p", "q", "p", "true", "false", "null")
	case "date":
		return g.pick("dt", "dt", "date '2024-02-29'", "to_date(s)")
	case "ts":
		return g.pick("ts", "ts", "timestamp '2024-02-29 12:00:00'", "cast(s as timestamp)")
	case "list<long>":
		return g.pick("la", "la", "array(1L, 2L, null)", "array()")
	case "list<double>":
		return g.pick("ld", "ld", "array(0.5, null)")
	case "list<string>":
		return g.pick("ls", "ls", "split(s, ',')")
	case "map<double>":
		return g.pick("ms", "ms", "map('a', 1.5, 'z', null)")
	}
	panic(typ)
}

func (g *gen) expr(typ string, depth int) string {
	if depth <= 0 || g.r.Intn(4) == 0 {
		return g.leaf(typ)
	}
	d := depth - 1
	e := func(t string) string { return g.expr(t, d) }
	switch typ {
	case "long":
		switch g.r.Intn(22) {
		case 0, 1, 2:
			return "(" + e("long") + " " + g.pick("+", "-", "*", "%", "div", "&", "|", "^") + " " + e("long") + ")"
		case 3:
			return "(" + e("long") + " " + g.pick("+", "-", "*") + " " + e("int") + ")"
		case 4:
			return "(- " + e("long") + ")"
		case 5:
			return "abs(" + e("long") + ")"
		case 6:
			return "cast(" + e(g.pick("double", "string", "int", "float", "bool", "ts")) + " as bigint)"
		case 7:
			return "coalesce(" + e("long") + ", " + e("long") + ")"
		case 8:
			return "CASE WHEN " + e("bool") + " THEN " + e("long") + " WHEN " + e("bool") + " THEN " + e("int") + " ELSE " + e("long") + " END"
		case 9:
			return "if(" + e("bool") + ", " + e("long") + ", " + e("long") + ")"
		case 10:
			return g.pick("floor", "ceil") + "(" + e("double") + ")"
		case 11:
			return "round(" + e("long") + ", " + g.pick("-1", "0", "-2") + ")"
		case 12:
			return "element_at(" + e("list<long>") + ", " + e("int") + ")"
		case 13:
			return e("list<long>") + "[" + g.pick("0", "1", "c") + "]"
		case 14:
			arr := e("list<long>")
			return g.withVar("long", func(v string) string {
				return "aggregate(" + arr + ", 0L, (acc, " + v + ") -> acc + coalesce(" + v + ", 1L))"
			})
		case 15:
			return "unix_timestamp(" + e(g.pick("string", "date", "ts")) + ")"
		case 16:
			return g.pick("greatest", "least") + "(" + e("long") + ", " + e("long") + ", " + e("int") + ")"
		case 17:
			return "st.k"
		case 18:
			return "pmod(" + e("long") + ", " + e("long") + ")"
		case 19:
			return "CASE " + e("long") + " WHEN 1 THEN " + e("long") + " WHEN " + e("long") + " THEN 2L END"
		case 20:
			return "array_position(" + e("list<long>") + ", " + e("long") + ")"
		}
		return "nvl(" + e("long") + ", " + e("int") + ")"
	case "int":
		switch g.r.Intn(12) {
		case 0, 1:
			return "(" + e("int") + " " + g.pick("+", "-", "*", "%") + " " + e("int") + ")"
		case 2:
			return "length(" + e("string") + ")"
		case 3:
			return "size(" + e(g.pick("list<long>", "map<double>", "list<string>")) + ")"
		case 4:
			return "cast(" + e(g.pick("double", "string", "long")) + " as int)"
		case 5:
			return "datediff(" + e("date") + ", " + e("date") + ")"
		case 6:
			return g.pick("dayofweek", "year", "month", "dayofmonth", "dayofyear") + "(" + e("date") + ")"
		case 7:
			return "instr(" + e("string") + ", " + e("string") + ")"
		case 8:
			return g.pick("hour", "minute", "second") + "(" + e("ts") + ")"
		case 9:
			return "locate(" + e("string") + ", " + e("string") + ", " + e("int") + ")"
		case 10:
			return "cast(e as int)"
		}
		return "(- " + e("int") + ")"
	case "double":
		switch g.r.Intn(22) {
		case 0, 1, 2:
			return "(" + e("double") + " " + g.pick("+", "-", "*", "/", "%") + " " + e(g.pick("double", "long", "int", "float")) + ")"
		case 3:
			return "(" + e("long") + " / " + e("long") + ")"
		case 4:
			return g.pick("sqrt", "ln", "exp", "log10", "abs", "sin", "cbrt", "signum") + "(" + e("double") + ")"
		case 5:
			return "pow(" + e("double") + ", " + e("int") + ")"
		case 6:
			return g.pick("round", "bround") + "(" + e("double") + ", " + g.pick("0", "1", "2", "-1") + ")"
		case 7:
			return "array_mean(" + e(g.pick("list<double>", "list<long>")) + ")"
		case 8:
			return "cast(" + e(g.pick("string", "long", "float", "ts")) + " as double)"
		case 9:
			return "element_at(" + e("map<double>") + ", " + e("string") + ")"
		case 10:
			return e("map<double>") + "['" + g.pick("a", "b", "z") + "']"
		case 11:
			arr := e("list<double>")
			return g.withVar("double", func(v string) string {
				return "aggregate(" + arr + ", 0D, (acc, " + v + ") -> acc + coalesce(" + v + ", 0D))"
			})
		case 12:
			return g.pick("greatest", "least") + "(" + e("double") + ", " + e("long") + ")"
		case 13:
			return "nvl(" + e("double") + ", " + e("double") + ")"
		case 14:
			return "CASE WHEN " + e("bool") + " THEN " + e("double") + " ELSE " + e("long") + " END"
		case 15:
			return "log(" + e("double") + ", " + e("double") + ")"
		case 16:
			return "array_max(" + e("list<double>") + ")"
		case 17:
			return "nanvl(" + e("double") + ", " + e("double") + ")"
		case 18:
			mp := e("map<double>")
			return g.withVar("double", func(v string) string {
				return "aggregate(map_values(" + mp + "), 0D, (acc, " + v + ") -> greatest(acc, " + v + "))"
			})
		}
		return "(- " + e("double") + ")"
	case "float":
		switch g.r.Intn(3) {
		case 0:
			return "(" + e("float") + " " + g.pick("+", "-", "*", "%") + " " + e(g.pick("float", "int")) + ")"
		case 1:
			return "cast(" + e(g.pick("double", "string", "long")) + " as float)"
		}
		return "round(" + e("float") + ", 1)"
	case "string":
		switch g.r.Intn(24) {
		case 0, 1:
			return "concat(" + e("string") + ", " + e(g.pick("string", "long", "double", "bool", "date")) + ")"
		case 2:
			return g.pick("upper", "lower", "trim", "ltrim", "rtrim", "reverse", "initcap") + "(" + e("string") + ")"
		case 3:
			return "substr(" + e("string") + ", " + e("int") + ", " + g.pick("2", "0", "-1", "100") + ")"
		case 4:
			return "cast(" + e(g.pick("long", "double", "float", "bool", "date", "ts", "list<long>", "map<double>")) + " as string)"
		case 5:
			return "from_unixtime(" + e("long") + g.pick("", ", 'yyyy-MM-dd'", ", 'HH:mm EEE'") + ")"
		case 6:
			return "date_format(" + e(g.pick("date", "ts")) + ", '" + g.pick("yyyy-MM-dd", "MMM d, yy", "D") + "')"
		case 7:
			return "regexp_replace(" + e("string") + ", '" + g.pick("([0-9])", "(a|b)", "(l+)") + "', '" + g.pick("N", "<$1>", "") + "')"
		case 8:
			return "regexp_extract(" + e("string") + ", '([a-z]+)(\\\\d*)', " + g.pick("0", "1", "2") + ")"
		case 9:
			return g.pick("lpad", "rpad") + "(" + e("string") + ", " + g.pick("0", "3", "8") + ", '" + g.pick("*", "xy", "") + "')"
		case 10:
			return "split(" + e("string") + ", '" + g.pick(",", "", "l") + "')[" + g.pick("0", "1") + "]"
		case 11:
			return "concat_ws('" + g.pick("-", "") + "', " + e("string") + ", " + e("list<string>") + ")"
		case 12:
			return "CASE WHEN " + e("bool") + " THEN " + e("string") + " ELSE " + e(g.pick("string", "long", "double")) + " END"
		case 13:
			return "coalesce(" + e("string") + ", " + e("string") + ")"
		case 14:
			return "element_at(" + e("list<string>") + ", " + g.pick("1", "-1", "2") + ")"
		case 15:
			return "st.v"
		case 16:
			return "array_join(" + e("list<long>") + ", ',')"
		case 17:
			return "replace(" + e("string") + ", 'a', " + e("string") + ")"
		case 18:
			return "s || " + e("string")
		case 19:
			return "get_json_object(" + e("string") + ", '$.a')"
		case 20:
			return "repeat(" + e("string") + ", " + g.pick("0", "2") + ")"
		case 21:
			return "cast(" + e("date") + " as string)"
		case 22:
			return "if(" + e("bool") + ", " + e("string") + ", null)"
		}
		return "left(" + e("string") + ", " + e("int") + ")"
	case "bool":
		switch g.r.Intn(22) {
		case 0, 1, 2:
			t := g.pick("long", "double", "string", "date", "int", "float", "bool", "ts")
			return "(" + e(t) + " " + g.pick("=", "!=", "<", "<=", ">", ">=", "<=>") + " " + e(t) + ")"
		case 3:
			return "(" + e("long") + " " + g.pick("=", "<", ">=") + " " + e(g.pick("double", "int", "string")) + ")"
		case 4, 5:
			return "(" + e("bool") + " " + g.pick("AND", "OR") + " " + e("bool") + ")"
		case 6:
			return "(NOT " + e("bool") + ")"
		case 7:
			return "(" + e(g.pick("long", "string", "list<long>", "map<double>")) + " IS " + g.pick("", "NOT ") + "NULL)"
		case 8:
			return "(" + e("long") + g.pick(" ", " NOT ") + "IN (1, 3L, " + e("long") + g.pick("", ", null") + "))"
		case 9:
			return "(" + e("string") + g.pick(" ", " NOT ") + "IN ('a', 'abc', '')" + ")"
		case 10:
			return "(" + e("double") + g.pick(" ", " NOT ") + "BETWEEN " + e("double") + " AND " + e("long") + ")"
		case 11:
			return "(" + e("string") + g.pick(" ", " NOT ") + "LIKE '" + g.pick("a%", "%c", "%b%", "_", "", "%", "a_c", "H%o%") + "')"
		case 12:
			return "(" + e("string") + " RLIKE '" + g.pick("^a", "[0-9]+", "l{2}", "") + "')"
		case 13:
			arr := e("list<long>")
			return g.withVar("long", func(v string) string {
				return "exists(" + arr + ", " + v + " -> " + v + " > " + e("long") + ")"
			})
		case 14:
			arr := e("list<long>")
			return g.withVar("long", func(v string) string {
				return "forall(" + arr + ", " + v + " -> " + e("bool") + ")"
			})
		case 15:
			return "array_contains(" + e("list<long>") + ", " + e("long") + ")"
		case 16:
			return "isnan(" + e("double") + ")"
		case 17:
			return "cast(" + e("string") + " as boolean)"
		case 18:
			return "(" + e("bool") + " IS " + g.pick("TRUE", "NOT FALSE", "DISTINCT FROM q") + ")"
		case 19:
			return "startswith(" + e("string") + ", " + e("string") + ")"
		case 20:
			return "(" + e("long") + " IN (" + e("long") + ", " + e("int") + "))"
		}
		return "coalesce(" + e("bool") + ", " + e("bool") + ")"
	case "date":
		switch g.r.Intn(6) {
		case 0:
			return g.pick("date_add", "date_sub") + "(" + e("date") + ", " + e("int") + ")"
		case 1:
			return "to_date(" + e(g.pick("string", "ts")) + ")"
		case 2:
			return "cast(" + e("string") + " as date)"
		case 3:
			return "(" + e("date") + " + " + g.pick("1", "-3", "c") + ")"
		case 4:
			return "add_months(" + e("date") + ", " + g.pick("1", "-13") + ")"
		}
		return "to_date(" + e("string") + ", 'yyyy-MM-dd')"
	case "ts":
		switch g.r.Intn(3) {
		case 0:
			return "cast(" + e(g.pick("long", "double", "date")) + " as timestamp)"
		case 1:
			return "to_timestamp(" + e("string") + ")"
		}
		return "date_trunc('" + g.pick("hour", "day", "month") + "', " + e("ts") + ")"
	case "list<long>":
		switch g.r.Intn(8) {
		case 0:
			return "array(" + e("long") + ", " + e("long") + ")"
		case 1:
			arr := e("list<long>")
			return g.withVar("long", func(v string) string {
				return "transform(" + arr + ", " + v + " -> " + g.expr("long", d) + ")"
			})
		case 2:
			arr := e("list<long>")
			return g.withVar("long", func(v string) string {
				return "filter(" + arr + ", " + v + " -> " + g.expr("bool", d) + ")"
			})
		case 3:
			return "sort_array(" + e("list<long>") + g.pick("", ", false") + ")"
		case 4:
			return "slice(" + e("list<long>") + ", " + g.pick("1", "-1", "2") + ", 2)"
		case 5:
			return "concat(" + e("list<long>") + ", " + e("list<long>") + ")"
		case 6:
			return "array_distinct(" + e("list<long>") + ")"
		}
		return "reverse(" + e("list<long>") + ")"
	case "list<double>":
		switch g.r.Intn(4) {
		case 0:
			arr := e("list<long>")
			return g.withVar("long", func(v string) string {
				return "transform(" + arr + ", " + v + " -> " + v + " / 2)"
			})
		case 1:
			return "map_values(" + e("map<double>") + ")"
		case 2:
			return "array(" + e("double") + ", " + e("long") + ")"
		}
		return "zip_with(" + e("list<double>") + ", " + e("list<long>") + ", (p1, p2) -> p1 * p2)"
	case "list<string>":
		switch g.r.Intn(3) {
		case 0:
			return "map_keys(" + e("map<double>") + ")"
		case 1:
			return "split(" + e("string") + ", '" + g.pick(",", "", "[a-c]") + "')"
		}
		arr := e("list<string>")
		return g.withVar("string", func(v string) string {
			return "transform(" + arr + ", " + v + " -> upper(" + v + "))"
		})
	case "map<double>":
		switch g.r.Intn(5) {
		case 0:
			return "map_filter(" + e("map<double>") + ", (k, w) -> w > " + e("double") + ")"
		case 1:
			return "map_zip_with(" + e("map<double>") + ", " + e("map<double>") + ", (k, w1, w2) -> w1 - w2 * " + e("double") + ")"
		case 2:
			return "transform_values(" + e("map<double>") + ", (k, w) -> w * 2 + length(k))"
		case 3:
			return "map('a', " + e("double") + ", " + e("string") + ", " + e("long") + ")"
		}
		return "coalesce(" + e("map<double>") + ", map('z', 1.0))"
	}
	panic(typ)
}

func TestEvalBatchMatchesEvalRow(t *testing.T) {
	seed := int64(20240229)
	r := rand.New(rand.NewSource(seed))
	rows := make([]map[string]any, 60)
	for i := range rows {
		rows[i] = randRow(r)
	}
	rows = append(rows, map[string]any{}) // all null
	rec := buildBatch(t, propSchema, rows)
	defer rec.Release()
	// a sliced batch exercises bitmap offsets
	sliced := rec.NewSlice(3, int64(len(rows)))
	defer sliced.Release()
	empty := rec.NewSlice(0, 0)
	defer empty.Release()
	types := []string{"long", "int", "double", "float", "string", "bool", "date", "ts", "list<long>", "list<double>", "list<string>", "map<double>"}
	n := 3000
	if testing.Short() {
		n = 500
	}
	for k := 0; k < n; k++ {
		g := &gen{r: r}
		typ := types[k%len(types)]
		src := g.expr(typ, 1+r.Intn(4))
		p, err := Compile(src, propSchema)
		if err != nil {
			t.Fatalf("Compile(%q): %v", src, err)
		}
		for _, b := range []struct {
			rec  arrow.RecordBatch
			rows []map[string]any
		}{{rec, rows}, {sliced, rows[3:]}, {empty, nil}} {
			arr, err := p.EvalBatch(b.rec)
			if err != nil {
				t.Fatalf("EvalBatch(%q): %v", src, err)
			}
			if !arrow.TypeEqual(arr.DataType(), p.Type()) || arr.Len() != len(b.rows) {
				t.Fatalf("EvalBatch(%q): %s × %d, want %s × %d", src, arr.DataType(), arr.Len(), p.Type(), len(b.rows))
			}
			for i, row := range b.rows {
				want, err := p.EvalRow(row)
				if err != nil {
					t.Fatalf("EvalRow(%q): %v", src, err)
				}
				if got := ValueAt(arr, i); !valuesEqual(got, want) {
					t.Fatalf("%q row %d %v:\nEvalBatch %s\nEvalRow   %s", src, i, row, show(got), show(want))
				}
			}
			arr.Release()
		}
	}
}

// TestRandomExpressionsRoundTrip checks that the generated expressions
// print and re-parse to the same tree.
func TestRandomExpressionsRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	types := []string{"long", "double", "string", "bool", "list<long>", "map<double>"}
	for k := 0; k < 500; k++ {
		g := &gen{r: r}
		src := g.expr(types[k%len(types)], 4)
		n, err := Parse(src)
		if err != nil {
			t.Fatalf("Parse(%q): %v", src, err)
		}
		s1 := n.String()
		n2, err := Parse(s1)
		if err != nil {
			t.Fatalf("Parse(String(%q)) = Parse(%q): %v", src, s1, err)
		}
		if s2 := n2.String(); s1 != s2 {
			t.Fatalf("round trip of %q:\n%s\n%s", src, s1, s2)
		}
		if strings.Contains(s1, "--") {
			t.Fatalf("rendered text contains a comment marker: %s", s1)
		}
	}
}
