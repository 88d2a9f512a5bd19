// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"testing"
)

// TestNullInputs evaluates every function with null column arguments and
// checks Spark's answer: null, except for the functions that look at nulls.
func TestNullInputs(t *testing.T) {
	notNull := map[string]any{
		"coalesce(i, 1)": int32(1), "nvl(s, 'x')": "x", "ifnull(d, 0.5)": 0.5, "nvl2(i, 1, 2)": int32(2),
		"isnull(i)": true, "isnotnull(s)": false, "isnan(d)": false, "i IS NULL": true, "i <=> null": true,
		"i <=> 1": false, "concat_ws('-', s, t)": "", "if(b, 1, 2)": int32(2), "greatest(i, null)": nil,
		"array(i, l)": []any{nil, nil}, "map('k', d)": map[string]any{"k": nil},
		"named_struct('a', i)": map[string]any{"a": nil}, "struct(i)": map[string]any{"i": nil},
		"CASE WHEN b THEN 1 ELSE 0 END": int32(0), "false AND b": false, "true OR b": true,
		"typeof(i)": "int", "array_repeat(i, 2)": []any{nil, nil}, "concat()": "",
	}
	exprs := []string{
		// operators
		"i + 1", "l - i", "d * 2", "i / 2", "i div 2", "i % 2", "-i", "~i", "i & 1", "s || 'x'",
		"i = 1", "i < 1", "s LIKE 'a%'", "s RLIKE 'a'", "i IN (1, 2)", "i BETWEEN 1 AND 2", "NOT b",
		"b AND true", "b OR false", "cast(s as int)", "cast(i as string)", "dt + 1", "arr[0]", "m['x']", "st.a",
		// conditional
		"nullif(i, 1)", "nanvl(d, 1.0)", "greatest(i, null)",
		// math
		"abs(i)", "round(d, 1)", "bround(d)", "floor(d)", "ceil(d)", "sqrt(d)", "exp(d)", "ln(d)", "log(d)",
		"log(2, d)", "log10(d)", "log2(d)", "log1p(d)", "pow(d, 2)", "power(2, d)", "sin(d)", "atan2(d, 1)",
		"sign(d)", "mod(i, 2)", "pmod(i, 2)", "negative(i)", "positive(i)", "cbrt(d)", "degrees(d)", "hypot(d, 1)",
		// strings
		"concat(s, t)", "lower(s)", "upper(s)", "initcap(s)", "length(s)", "octet_length(s)", "substr(s, 1)",
		"substr(s, i)", "left(s, 1)", "right(s, 1)", "trim(s)", "ltrim(s)", "rtrim(s)", "lpad(s, 3)",
		"rpad(s, 3, t)", "repeat(s, 2)", "space(i)", "reverse(s)", "instr(s, 'a')", "locate('a', s)",
		"replace(s, 'a', 'b')", "startswith(s, 'a')", "endswith(s, 'a')", "contains(s, 'a')", "ascii(s)",
		"split(s, ',')", "regexp_extract(s, '(a)', 1)", "regexp_extract_all(s, '(a)')",
		"regexp_replace(s, 'a', 'b')", "regexp_like(s, 'a')", "get_json_object(s, '$.a')", "md5(s)",
		"sha1(s)", "sha2(s, 256)", "crc32(s)", "base64(s)", "unbase64(s)", "int(s)", "string(i)",
		// time
		"from_unixtime(l)", "from_unixtime(l, 'yyyy')", "unix_timestamp(s)", "to_date(s)", "to_date(s, 'yyyy')",
		"to_timestamp(s)", "timestamp_millis(l)", "unix_millis(ts)", "date_format(ts, 'yyyy')", "date_add(dt, 1)",
		"date_sub(dt, i)", "datediff(dt, dt)", "add_months(dt, 1)", "last_day(dt)", "trunc(dt, 'MM')",
		"date_trunc('hour', ts)", "year(dt)", "month(dt)", "dayofweek(dt)", "hour(ts)", "minute(ts)", "second(ts)",
		// collections
		"size(arr)", "cardinality(m)", "element_at(arr, 1)", "element_at(m, 'x')", "array_contains(arr, 1)",
		"array_position(arr, 1)", "array_remove(arr, 1)", "map_keys(m)", "map_values(m)", "sort_array(arr)",
		"array_sort(arr)", "array_min(arr)", "array_max(arr)", "array_distinct(arr)", "array_join(sarr, ',')",
		"slice(arr, 1, 1)", "flatten(array(arr))", "array_mean(darr)", "reverse(arr)", "concat(arr, arr)",
		// higher-order
		"transform(arr, x -> x)", "filter(arr, x -> true)", "exists(arr, x -> true)", "forall(arr, x -> true)",
		"aggregate(arr, 0L, (a, x) -> a + x)", "zip_with(arr, arr, (x, y) -> x)", "map_filter(m, (k, v) -> true)",
		"map_zip_with(m, m2, (k, a, b) -> a)", "transform_values(m, (k, v) -> v)", "transform_keys(m, (k, v) -> k)",
	}
	for e := range notNull {
		exprs = append(exprs, e)
	}
	for _, e := range exprs {
		got, _ := evalBoth(t, e, testSchema, []map[string]any{{}})
		want, special := notNull[e]
		if !special {
			want = nil
		}
		if !valuesEqual(got[0], want) {
			t.Errorf("%s over nulls = %s, want %s", e, show(got[0]), show(want))
		}
	}
}
