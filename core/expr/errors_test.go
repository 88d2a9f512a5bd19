// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestParseErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"", "1:1: empty expression"},
		{"(a + b))", `1:8: unexpected ")"`},
		{"concat(a, b))", `1:13: unexpected ")"`},
		{"a +", "1:4: unexpected end of input"},
		{"a + * b", `1:5: unexpected "*"`},
		{"'abc", "1:1: unterminated string literal"},
		{"`abc", "1:1: unterminated quoted identifier"},
		{"a\n  + #", "2:5: unexpected character '#'"},
		{"f(a,)", `1:5: unexpected ")"`},
		{"CASE WHEN a THEN b", "1:19: expected END, found end of input"},
		{"CASE END", `1:6: unexpected "END"`},
		{"cast(a as)", `1:10: expected a type name, found ")"`},
		{"cast(a int)", `1:8: expected AS, found "int"`},
		{"a IN 1", `1:6: expected "(", found "1"`},
		{"a BETWEEN 1", "1:12: expected AND, found end of input"},
		{"a IS 5", `1:6: expected NULL, TRUE, FALSE or DISTINCT FROM after IS, found "5"`},
		{"a LIKE 'x' ESCAPE 'ab'", "1:19: ESCAPE needs a one-character string"},
		{"12abc", `1:1: malformed number "12a"`},
		{"/* open", "1:1: unterminated comment"},
		{"a.", `1:3: expected field name after ".", found end of input`},
		{"x[1", `1:4: expected "]", found end of input`},
		{"a b", `1:3: unexpected "b"`},
		{"é + ü)", `1:6: unexpected ")"`},
		{"when", `1:1: unexpected "when"`},
		{strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000), "expression nested too deeply"},
	}
	for _, c := range cases {
		_, err := Parse(c.src)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a *SyntaxError", c.src, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) error %q, want %q", c.src, err, c.want)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "price", Type: arrow.PrimitiveTypes.Float64},
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "qty", Type: arrow.PrimitiveTypes.Int64},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String)},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)},
		{Name: "Dup", Type: arrow.PrimitiveTypes.Int64},
		{Name: "dup", Type: arrow.PrimitiveTypes.Int64},
		{Name: "u", Type: arrow.PrimitiveTypes.Uint32},
	}, nil)
	cases := []struct{ src, want string }{
		{"1 + pric", `1:5: unknown column "pric" (did you mean "price"?)`},
		{"nothing_like_it", `1:1: unknown column "nothing_like_it"`},
		{"name + qty", "1:6: type mismatch: cannot add string and long"},
		{"price - name", "1:7: type mismatch: cannot subtract double and string"},
		{"name * 2", "type mismatch: cannot multiply string and int"},
		{"name / 2", "type mismatch: cannot divide string and int"},
		{"price & 1", "type mismatch: cannot bitwise-and double and int"},
		{"DUP", `ambiguous column "DUP"`},
		{"u + 1", `column "u": unsupported column type uint32`},
		{"uper(name)", "1:1: unknown function uper (did you mean upper?)"},
		{"frobnicate(name)", "1:1: unknown function frobnicate"},
		{"upper(name, name)", "1:1: upper takes 1 arguments, got 2"},
		{"substr(name)", "substr takes 2 to 3 arguments, got 1"},
		{"coalesce()", "coalesce takes at least 1 arguments, got 0"},
		{"price AND true", "AND needs booleans, not double"},
		{"NOT name", "NOT needs a boolean, not string"},
		{"-name", "cannot negate string"},
		{"name = tags", "type mismatch: cannot compare string and array<string>"},
		{"m = m", "cannot compare maps"},
		{"CASE WHEN price THEN 1 END", "WHEN condition must be boolean, not double"},
		{"CASE WHEN true THEN tags ELSE 1 END", "type mismatch: CASE branches have types int and array<string>"},
		{"if(qty, 1, 2)", "first argument of if must be boolean, not long"},
		{"cast(price as decimal(10,2))", "type decimal is not supported (use double)"},
		{"cast(price as frob)", `unknown type "frob"`},
		{"cast(tags as int)", "cannot cast array<string> to int"},
		{"cast(name as map<int,string>)", "map keys must be strings, not int"},
		{"upper(x -> x)", "1:7: a lambda function is only allowed as an argument of a higher-order function"},
		{"transform(tags, 1)", "argument 2 of transform must be a lambda function"},
		{"transform(name, x -> x)", "argument 1 of transform must be an array, not string"},
		{"transform(tags, (x, y, z) -> x)", "the lambda of transform takes 1 or 2 parameters, got 3"},
		{"filter(tags, x -> length(x))", "the lambda of filter must return a boolean, not int"},
		{"transform(tags, (x, x) -> x)", `duplicate lambda parameter "x"`},
		{"map_filter(tags, (k, v) -> true)", "argument 1 of map_filter must be a map, not array<string>"},
		{"name RLIKE '('", "invalid regular expression"},
		{"regexp_extract(name, '(a)', 2)", "regex group count is 1, but the specified group index is 2"},
		{"regexp_replace(name, '(a)', '$2')", `invalid replacement string "$2"`},
		{"name LIKE 'a\\\\'", "the escape character is not allowed to end the LIKE pattern"},
		{"name LIKE '\\\\a'", "the escape character is not allowed to precede 'a'"},
		{"date '2024-13-01'", "bad date literal '2024-13-01'"},
		{"timestamp 'x'", "bad timestamp literal 'x'"},
		{"99999999999999999999L", "number 99999999999999999999L out of range for bigint"},
		{"300Y", "out of range for tinyint"},
		{"from_unixtime(qty, 'yyyy-MM-dd QQ')", `unsupported letter 'Q' in datetime pattern`},
		{"round(price, qty)", "the scale of round must be a constant integer"},
		{"named_struct(name, 1)", "named_struct field names must be string literals"},
		{"map('a')", "map takes an even number of arguments"},
		{"tags['x']", "array index must be an integer, not string"},
		{"name.x", `cannot access field "x" of string`},
		{"name[0]", "cannot subscript string"},
		{"element_at(name, 1)", "element_at needs an array or a map, not string"},
		{"size(name)", "size needs an array or a map, not string"},
		{"array_mean(tags)", "array_mean needs an array of numbers, not array<string>"},
		{"hour(qty)", "argument 1 of hour must be timestamp, not long"},
		{"date_add(name, 1.5)", "argument 2 of date_add must be an integer, not double"},
		{"greatest(1, name)", "type mismatch: arguments of greatest have types int and string"},
		{"sqrt(tags)", "argument 1 of sqrt must be double, not array<string>"},
		{"aggregate(tags, 0, (acc, x) -> x)", "the merge lambda of aggregate returns string, but the start value is int"},
	}
	for _, c := range cases {
		_, err := Compile(c.src, schema)
		if err == nil {
			t.Errorf("Compile(%q) succeeded, want %q", c.src, c.want)
			continue
		}
		var te *TypeError
		if !errors.As(err, &te) {
			t.Errorf("Compile(%q) = %T %v, want a *TypeError", c.src, err, err)
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%q) error %q, want %q", c.src, err, c.want)
		}
	}
}

func TestProgramAPI(t *testing.T) {
	p, err := Compile("upper(Name) || cast(QTY * 2 as string) || name", arrow.NewSchema([]arrow.Field{
		{Name: "name", Type: arrow.BinaryTypes.String},
		{Name: "qty", Type: arrow.PrimitiveTypes.Int64},
		{Name: "unused", Type: arrow.PrimitiveTypes.Int64},
	}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Columns(), ","); got != "name,qty" {
		t.Errorf("Columns() = %s", got)
	}
	if !arrow.TypeEqual(p.Type(), arrow.BinaryTypes.String) {
		t.Errorf("Type() = %s", p.Type())
	}
	v, err := p.EvalRow(map[string]any{"name": "ab", "qty": 3}) // Go int is accepted for a long column
	if err != nil || v != "AB6ab" {
		t.Errorf("EvalRow = %v, %v", v, err)
	}
	if _, err := p.EvalRow(map[string]any{"name": 5}); !errors.Is(err, ErrInput) {
		t.Errorf("EvalRow with a bad value: %v, want ErrInput", err)
	}
	if _, err := p.EvalRow(map[string]any{"qty": 1.5}); !errors.Is(err, ErrInput) {
		t.Errorf("EvalRow with a fractional long: %v, want ErrInput", err)
	}
	// a batch missing a column, or with the wrong type
	other := buildBatch(t, arrow.NewSchema([]arrow.Field{{Name: "name", Type: arrow.BinaryTypes.String}}, nil), []map[string]any{{"name": "x"}})
	defer other.Release()
	if _, err := p.EvalBatch(other); !errors.Is(err, ErrInput) {
		t.Errorf("EvalBatch without qty: %v, want ErrInput", err)
	}
	wrong := buildBatch(t, arrow.NewSchema([]arrow.Field{{Name: "name", Type: arrow.BinaryTypes.String}, {Name: "qty", Type: arrow.BinaryTypes.String}}, nil), []map[string]any{{"name": "x"}})
	defer wrong.Release()
	if _, err := p.EvalBatch(wrong); !errors.Is(err, ErrInput) {
		t.Errorf("EvalBatch with a string qty: %v, want ErrInput", err)
	}
	// upper-case batch column names resolve case-insensitively
	upper := buildBatch(t, arrow.NewSchema([]arrow.Field{{Name: "NAME", Type: arrow.BinaryTypes.String}, {Name: "QTY", Type: arrow.PrimitiveTypes.Int64}}, nil), []map[string]any{{"NAME": "x", "QTY": int64(1)}})
	defer upper.Release()
	arr, err := p.EvalBatch(upper)
	if err != nil {
		t.Fatal(err)
	}
	defer arr.Release()
	if got := ValueAt(arr, 0); got != "X2x" {
		t.Errorf("EvalBatch = %v", got)
	}
}

func TestEvalRowInputs(t *testing.T) {
	// lenient Go inputs: typed slices and maps, float64 for integers
	// (JSON), strings for dates and timestamps
	runCases(t, []evalCase{
		{"size(arr) + i", map[string]any{"arr": []int64{1, 2}, "i": 1}, int32(3)},
		{"m['a'] * 2", map[string]any{"m": map[string]float64{"a": 1.5}}, 3.0},
		{"l + 1", map[string]any{"l": float64(41)}, int64(42)},
		{"d + 1", map[string]any{"d": 1}, 2.0},
		{"dt", map[string]any{"dt": "2022-01-08"}, Date(19000)},
		{"year(ts)", map[string]any{"ts": "2023-03-14 15:09:26"}, int32(2023)},
		{"st.a", map[string]any{"st": map[string]any{"A": int64(4)}}, int64(4)},
	})
}
