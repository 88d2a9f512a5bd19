// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"math"
	"testing"
	"time"
)

type evalCase struct {
	src  string
	row  map[string]any
	want any
}

// r0 is the default test row.
var r0 = map[string]any{
	"i": int32(7), "l": int64(-3), "d": 2.5, "f": float32(1.5), "s": "Hello World", "t": "abc",
	"b": true, "dt": Date(19000), // 2022-01-08, a Saturday
	"ts":   time.Date(2023, 3, 14, 15, 9, 26, 535000000, time.UTC),
	"arr":  []any{int64(1), int64(2), int64(3)},
	"darr": []any{1.0, nil, 4.0},
	"sarr": []any{"a", "b", nil},
	"m":    map[string]any{"x": 1.0, "y": 3.0},
	"m2":   map[string]any{"y": 2.0, "z": 5.0},
	"st":   map[string]any{"a": int64(10), "b": "bee"},
	"bin":  []byte("xyz"),
}

func runCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		row := c.row
		if row == nil {
			row = r0
		}
		// the case row, then an all-null row to exercise null paths
		got, _ := evalBoth(t, c.src, testSchema, []map[string]any{row, {}})
		if !valuesEqual(got[0], c.want) {
			t.Errorf("%s = %s, want %s", c.src, show(got[0]), show(c.want))
		}
	}
}

func TestLiterals(t *testing.T) {
	runCases(t, []evalCase{
		{"1", nil, int32(1)},
		{"2147483648", nil, int64(2147483648)},
		{"-2147483648", nil, int32(-2147483648)},
		{"-9223372036854775808", nil, int64(math.MinInt64)},
		{"1L", nil, int64(1)},
		{"3S", nil, int16(3)},
		{"3Y", nil, int8(3)},
		{"1.5", nil, 1.5},
		{"1.5D", nil, 1.5},
		{"1.5F", nil, float32(1.5)},
		{"1e3", nil, 1000.0},
		{".5", nil, 0.5},
		{"'it\\'s'", nil, "it's"},
		{`"dq"`, nil, "dq"},
		{"'a' 'b'", nil, "ab"},
		{`'tab\there'`, nil, "tab\there"},
		{`'\u0041'`, nil, "A"},
		{"true", nil, true},
		{"FALSE", nil, false},
		{"null", nil, nil},
		{"date '2024-02-29'", nil, Date(19782)},
		{"timestamp '2024-01-01 00:00:01'", nil, time.Date(2024, 1, 1, 0, 0, 1, 0, time.UTC)},
		{"`i`", nil, int32(7)},
		{"I", nil, int32(7)}, // case-insensitive column
		{"price", nil, nil},  // matches Price
		{"-- comment\n1", nil, int32(1)},
		{"/* c */ 2", nil, int32(2)},
	})
}

func TestArithmetic(t *testing.T) {
	runCases(t, []evalCase{
		{"i + l", nil, int64(4)},
		{"i - 10", nil, int32(-3)},
		{"i * d", nil, 17.5},
		{"i / 2", nil, 3.5}, // integer / integer is double
		{"i div 2", nil, int64(3)},
		{"-7 div 2", nil, int64(-3)},
		{"i % 3", nil, int32(1)},
		{"-7 % 3", nil, int32(-1)},
		{"7.5 % 2", nil, 1.5},
		{"-7.5 % 2", nil, -1.5},
		{"i / 0", nil, nil},
		{"i div 0", nil, nil},
		{"i % 0", nil, nil},
		{"d / 0.0", nil, nil},
		{"d % 0", nil, nil},
		{"-i", nil, int32(-7)},
		{"+i", nil, int32(7)},
		{"- -i", nil, int32(7)},
		{"2147483647 + 1", nil, int32(-2147483648)}, // wraps
		{"9223372036854775807L + 1", nil, int64(math.MinInt64)},
		{"cast(127 as tinyint) + cast(1 as tinyint)", nil, int8(-128)},
		{"f + 1", nil, float32(2.5)},
		{"f + 1.0", nil, 2.5},
		{"f * l", nil, float32(-4.5)},
		{"1 + null", nil, nil},
		{"null * d", nil, nil},
		{"i & 3", nil, int32(3)},
		{"i | 8", nil, int32(15)},
		{"i ^ 1", nil, int32(6)},
		{"~i", nil, int32(-8)},
		{"(d * 1.1 + i) / l", nil, (2.5*1.1 + 7) / -3},
		{"dt + 1", nil, Date(19001)},
		{"dt - 8", nil, Date(18992)},
		{"0.0 / 0.0", nil, nil},
		{"cast('NaN' as double) + 1", nil, math.NaN()},
	})
}

func TestComparison(t *testing.T) {
	runCases(t, []evalCase{
		{"i = 7", nil, true},
		{"i == 7", nil, true},
		{"i != 7", nil, false},
		{"i <> 8", nil, true},
		{"i < 8", nil, true},
		{"i <= 7", nil, true},
		{"i > d", nil, true},
		{"i >= 7.5", nil, false},
		{"s = 'Hello World'", nil, true},
		{"t < 'abd'", nil, true},
		{"'abc' < 'abcd'", nil, true},
		{"'B' < 'a'", nil, true}, // byte order
		{"i = null", nil, nil},
		{"null = null", nil, nil},
		{"null <=> null", nil, true},
		{"i <=> null", nil, false},
		{"i <=> 7", nil, true},
		{"i = '7'", nil, true}, // string cast to the number
		{"i = 'x'", nil, nil},  // bad string → null
		{"dt = '2022-01-08'", nil, true},
		{"dt < date '2022-01-09'", nil, true},
		{"ts > dt", nil, true},
		{"b = true", nil, true},
		{"false < true", nil, true},
		{"cast('NaN' as double) = cast('NaN' as double)", nil, true},
		{"cast('NaN' as double) > 1e308", nil, true},
		{"0.0 = -0.0", nil, true},
		{"arr = array(1L, 2L, 3L)", nil, true},
		{"arr < array(1L, 3L)", nil, true},
		{"st = named_struct('a', 10L, 'b', 'bee')", nil, true},
	})
}

func TestLogic(t *testing.T) {
	no := map[string]any{"b": false}
	null := map[string]any{}
	runCases(t, []evalCase{
		{"b AND true", nil, true},
		{"b AND false", nil, false},
		{"b AND null", nil, nil},
		{"b AND null", no, false},
		{"b AND null", null, nil},
		{"null AND false", nil, false},
		{"b OR null", nil, true},
		{"b OR null", no, nil},
		{"null OR true", nil, true},
		{"b OR false", no, false},
		{"NOT b", nil, false},
		{"NOT b", null, nil},
		{"!b", nil, false},
		{"b && true", nil, true},
		{"not i > 3", nil, false},
		{"i IS NULL", nil, false},
		{"i IS NULL", null, true},
		{"i IS NOT NULL", null, false},
		{"b IS TRUE", null, false},
		{"b IS NOT FALSE", null, true},
		{"i IS DISTINCT FROM 7", nil, false},
		{"i IS NOT DISTINCT FROM null", null, true},
		{"i IN (1, 7, 9)", nil, true},
		{"i IN (1, 2)", nil, false},
		{"i IN (1, null)", nil, nil},
		{"i IN (7, null)", nil, true},
		{"i NOT IN (1, 2)", nil, true},
		{"i NOT IN (1, null)", nil, nil},
		{"i IN (1, 2)", null, nil},
		{"t IN ('x', 'abc')", nil, true},
		{"i IN (l + 10, 0)", nil, true},
		{"d IN (2.5, cast('NaN' as double))", nil, true},
		{"i BETWEEN 1 AND 7", nil, true},
		{"i BETWEEN 8 AND 9", nil, false},
		{"i NOT BETWEEN 8 AND 9", nil, true},
		{"i BETWEEN null AND 9", nil, nil},
		{"i BETWEEN 8 AND null", nil, false},
		{"i > 1 AND i < 10 OR false", nil, true},
		{"true OR false AND false", nil, true}, // AND binds tighter
	})
}

func TestLike(t *testing.T) {
	runCases(t, []evalCase{
		{"s LIKE 'Hello%'", nil, true},
		{"s LIKE '%World'", nil, true},
		{"s LIKE '%lo W%'", nil, true},
		{"s LIKE 'H_llo%'", nil, true},
		{"s LIKE 'hello%'", nil, false},
		{"s NOT LIKE 'x%'", nil, true},
		{"t LIKE 'abc'", nil, true},
		{"t LIKE 'ab'", nil, false},
		{"'a%b' LIKE 'a\\%b'", nil, true},
		{"'axb' LIKE 'a\\%b'", nil, false},
		{"'a_b' LIKE 'a\\_b'", nil, true},
		{"'a_b' LIKE 'a/_b' ESCAPE '/'", nil, true},
		{"'line1\nline2' LIKE 'line1%'", nil, true},
		{"'' LIKE '%'", nil, true},
		{"'ab' LIKE '%%'", nil, true},
		{"'aXbXc' LIKE 'a%b%c'", nil, true},
		{"'aXc' LIKE 'a%b%c'", nil, false},
		{"s LIKE t", map[string]any{"s": "abc", "t": "a%"}, true},
		{"s LIKE null", nil, nil},
		{"s RLIKE '^H.*d$'", nil, true},
		{"s RLIKE 'lo W'", nil, true}, // find, not full match
		{"s REGEXP '[0-9]'", nil, false},
		{"s NOT RLIKE 'z'", nil, true},
		{"rlike(s, 'W')", nil, true},
		{"like(t, 'a_c')", nil, true},
	})
}

func TestConditional(t *testing.T) {
	null := map[string]any{}
	runCases(t, []evalCase{
		{"CASE WHEN i > 5 THEN 'big' WHEN i > 0 THEN 'small' ELSE 'neg' END", nil, "big"},
		{"CASE WHEN i > 50 THEN 'big' WHEN i > 0 THEN 'small' ELSE 'neg' END", nil, "small"},
		{"CASE WHEN i > 50 THEN 'big' END", nil, nil},
		{"CASE WHEN i > 50 THEN 'big' ELSE 'x' END", null, "x"},
		{"CASE i WHEN 1 THEN 'one' WHEN 7 THEN 'seven' END", nil, "seven"},
		{"CASE i WHEN 1 THEN 'one' ELSE 'other' END", null, "other"},
		{"CASE WHEN b THEN 1 ELSE 2.5 END", nil, 1.0},
		{"CASE WHEN b THEN 1 ELSE 'x' END", nil, "1"},
		{"CASE WHEN null THEN 1 ELSE 2 END", nil, int32(2)},
		{"if(i > 5, 'y', 'n')", nil, "y"},
		{"if(null, 'y', 'n')", nil, "n"},
		{"if(b, i, l)", nil, int64(7)},
		{"coalesce(null, i, 3)", nil, int32(7)},
		{"coalesce(i, 3)", null, int32(3)},
		{"coalesce(s, t, 'z')", null, "z"},
		{"coalesce(null, null)", nil, nil},
		{"nvl(d, 0)", null, 0.0},
		{"nvl(d, 0)", nil, 2.5},
		{"ifnull(s, 'x')", nil, "Hello World"},
		{"nvl2(i, 'has', 'none')", null, "none"},
		{"nvl2(i, 'has', 'none')", nil, "has"},
		{"nullif(i, 7)", nil, nil},
		{"nullif(i, 8)", nil, int32(7)},
		{"isnull(s)", nil, false},
		{"isnotnull(s)", nil, true},
		{"isnan(cast('nan' as double))", nil, true},
		{"isnan(d)", null, false},
		{"nanvl(cast('nan' as double), 1.0)", nil, 1.0},
	})
}

func TestCast(t *testing.T) {
	runCases(t, []evalCase{
		{"cast('12' as int)", nil, int32(12)},
		{"cast(' 12 ' as int)", nil, int32(12)},
		{"cast('1.9' as int)", nil, int32(1)},
		{"cast('-1.9' as bigint)", nil, int64(-1)},
		{"cast('abc' as int)", nil, nil},
		{"cast('' as int)", nil, nil},
		{"cast('1e3' as int)", nil, nil},
		{"cast('2147483648' as int)", nil, nil},
		{"cast('9223372036854775807' as long)", nil, int64(math.MaxInt64)},
		{"cast('9223372036854775808' as long)", nil, nil},
		{"cast('-9223372036854775808' as long)", nil, int64(math.MinInt64)},
		{"cast('128' as tinyint)", nil, nil},
		{"cast('1.5' as double)", nil, 1.5},
		{"cast('1e3' as double)", nil, 1000.0},
		{"cast(' 2.5d ' as double)", nil, 2.5},
		{"cast('inf' as double)", nil, math.Inf(1)},
		{"cast('-Infinity' as double)", nil, math.Inf(-1)},
		{"cast('x1' as double)", nil, nil},
		{"cast('0x10' as double)", nil, nil},
		{"cast('1_0' as double)", nil, nil},
		{"cast('3.4' as float)", nil, float32(3.4)},
		{"cast('true' as boolean)", nil, true},
		{"cast('YES' as boolean)", nil, true},
		{"cast('0' as boolean)", nil, false},
		{"cast('maybe' as boolean)", nil, nil},
		{"cast(0 as boolean)", nil, false},
		{"cast(2.5 as boolean)", nil, true},
		{"cast(true as int)", nil, int32(1)},
		{"cast(d as int)", nil, int32(2)},
		{"cast(-2.9 as int)", nil, int32(-2)},
		{"cast(1e20 as int)", nil, int32(math.MaxInt32)},
		{"cast(1e20 as bigint)", nil, int64(math.MaxInt64)},
		{"cast(cast('nan' as double) as int)", nil, int32(0)},
		{"cast(300 as tinyint)", nil, int8(44)},
		{"cast(3e9 as smallint)", nil, int16(-1)}, // (short)(int)3e9 = (short)MaxInt32
		{"cast(l as string)", nil, "-3"},
		{"cast(d as string)", nil, "2.5"},
		{"cast(1.0 as string)", nil, "1.0"},
		{"cast(1e7 as string)", nil, "1.0E7"},
		{"cast(1234567.0 as string)", nil, "1234567.0"},
		{"cast(0.001 as string)", nil, "0.001"},
		{"cast(0.0001 as string)", nil, "1.0E-4"},
		{"cast(-1.5e-10 as string)", nil, "-1.5E-10"},
		{"cast(f as string)", nil, "1.5"},
		{"cast(cast(0.1 as float) as string)", nil, "0.1"},
		{"cast(b as string)", nil, "true"},
		{"cast(dt as string)", nil, "2022-01-08"},
		{"cast(ts as string)", nil, "2023-03-14 15:09:26.535"},
		{"cast(timestamp '2023-01-01 00:00:00' as string)", nil, "2023-01-01 00:00:00"},
		{"cast(arr as string)", nil, "[1, 2, 3]"},
		{"cast(darr as string)", nil, "[1.0, null, 4.0]"},
		{"cast(m as string)", nil, "{x -> 1.0, y -> 3.0}"},
		{"cast(st as string)", nil, "{10, bee}"},
		{"cast('2024-1-5' as date)", nil, Date(19727)},
		{"cast('2024-01-05 10:00:00' as date)", nil, Date(19727)},
		{"cast('2024-01-05T10:00' as date)", nil, Date(19727)},
		{"cast('2024' as date)", nil, Date(19723)},
		{"cast('2024-02-30' as date)", nil, nil},
		{"cast('24-01-05' as date)", nil, nil},
		{"cast('2024-01-05 10:11:12.5' as timestamp)", nil, time.Date(2024, 1, 5, 10, 11, 12, 500000000, time.UTC)},
		{"cast('2024-01-05T10:11:12Z' as timestamp)", nil, time.Date(2024, 1, 5, 10, 11, 12, 0, time.UTC)},
		{"cast('2024-01-05 10:11:12+02:00' as timestamp)", nil, time.Date(2024, 1, 5, 8, 11, 12, 0, time.UTC)},
		{"cast('2024-01-05' as timestamp)", nil, time.Date(2024, 1, 5, 0, 0, 0, 0, time.UTC)},
		{"cast('2024-01-05 25:00' as timestamp)", nil, nil},
		{"cast(ts as bigint)", nil, int64(1678806566)},
		{"cast(ts as double)", nil, 1678806566.535},
		{"cast(1678806566 as timestamp)", nil, time.Date(2023, 3, 14, 15, 9, 26, 0, time.UTC)},
		{"cast(1.5 as timestamp)", nil, time.Date(1970, 1, 1, 0, 0, 1, 500000000, time.UTC)},
		{"cast(dt as timestamp)", nil, time.Date(2022, 1, 8, 0, 0, 0, 0, time.UTC)},
		{"cast(ts as date)", nil, Date(19430)},
		{"cast(dt as int)", nil, nil},
		{"cast(arr as array<double>)", nil, []any{1.0, 2.0, 3.0}},
		{"cast(sarr as array<int>)", nil, []any{nil, nil, nil}},
		{"cast(m as map<string,int>)", nil, map[string]any{"x": int32(1), "y": int32(3)}},
		{"cast(s as binary)", nil, []byte("Hello World")},
		{"cast(bin as string)", nil, "xyz"},
		{"try_cast('x' as int)", nil, nil},
		{"int('42')", nil, int32(42)},
		{"double(i)", nil, 7.0},
		{"string(i)", nil, "7"},
		{"bigint(d)", nil, int64(2)},
	})
}
