// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"errors"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

var fuzzSeeds = []string{
	"(price * 1.1 + tax) / qty",
	"array_mean(map_values(map_zip_with(m, m2, (k, mean, variance) -> (d - mean)/variance)))",
	"CASE WHEN i > 5 THEN 'big' WHEN i > 0 THEN 'small' ELSE 'neg' END",
	"s LIKE 'a\\%b%' ESCAPE '\\\\'",
	"cast(`s` as array<map<string,int>>)",
	"transform(arr, (x, i) -> x + i)[0]",
	"st.a IS NOT DISTINCT FROM -9223372036854775808",
	"from_unixtime(l / 1000, 'yyyy-MM-dd\\'T\\'HH')",
	"i NOT BETWEEN 1 AND 2 OR NOT b",
	"'a' 'b' || \"c\" -- tail",
	"/* x */ date '2020-01-01' + 1",
	"aggregate(darr, 0, (acc, x) -> acc + coalesce(x, 0), acc -> acc / 2)",
	"regexp_replace(s, '(\\\\d+)', '$1$1')",
	"m['x'] <=> null",
	"1e400",
	"`a``b`",
	"((((1))))",
	"x -> x",
	"f(a, (b, c) -> b)",
	"not not not b",
	"-9223372036854775808L",
	"split(s, '')",
	"named_struct('a', 1).a",
}

// FuzzParse checks that Parse never panics and that what it accepts prints
// back to text that parses to the same tree.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		n, err := Parse(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T is not a *SyntaxError", src, err)
			}
			return
		}
		s1 := n.String()
		n2, err := Parse(s1)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its rendering %q fails: %v", src, s1, err)
		}
		if s2 := n2.String(); s1 != s2 {
			t.Fatalf("rendering of %q is unstable:\n%s\n%s", src, s1, s2)
		}
	})
}

// FuzzCompileEval checks that Compile never panics, and that whatever it
// accepts evaluates without error and identically over a batch and row by
// row.
func FuzzCompileEval(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	rows := []map[string]any{r0, {}, {"i": int32(0), "s": "", "arr": []any{}, "m": map[string]any{}, "d": math.Copysign(0, -1)}}
	rec := buildBatch(f, testSchema, rows)
	f.Cleanup(rec.Release)
	f.Fuzz(func(t *testing.T, src string) {
		p, err := Compile(src, testSchema)
		if err != nil {
			var se *SyntaxError
			var te *TypeError
			if !errors.As(err, &se) && !errors.As(err, &te) {
				t.Fatalf("Compile(%q) error %T %v", src, err, err)
			}
			return
		}
		arr, err := p.EvalBatch(rec)
		if err != nil {
			t.Fatalf("EvalBatch(%q): %v", src, err)
		}
		defer arr.Release()
		if !arrow.TypeEqual(arr.DataType(), p.Type()) {
			t.Fatalf("EvalBatch(%q) type %s, want %s", src, arr.DataType(), p.Type())
		}
		for i, row := range rows {
			v, err := p.EvalRow(row)
			if err != nil {
				t.Fatalf("EvalRow(%q): %v", src, err)
			}
			if got := ValueAt(arr, i); !valuesEqual(got, v) {
				t.Fatalf("%q row %d: EvalBatch %s, EvalRow %s", src, i, show(got), show(v))
			}
		}
	})
}
