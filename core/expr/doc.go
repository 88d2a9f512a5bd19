// SPDX-License-Identifier: Apache-2.0

// Package expr is the Spark-SQL expression subset used by selects, wheres,
// derivations and skew keys: parsed once, type-checked against an input
// schema, and evaluated over Arrow batches (offline) and single rows (online)
// with the same results.
//
// It performs no I/O and imports no Beam, Echo or plugin code.
//
// # Use
//
//	p, err := expr.Compile("(price * 1.1 + tax) / qty", schema)
//	if err != nil {
//		return err // e.g. `1:2: unknown column "pric" (did you mean "price"?)`
//	}
//	arr, err := p.EvalBatch(rec)                          // offline: arrow.Array of p.Type()
//	v, err := p.EvalRow(map[string]any{"price": 9.5, ...}) // online: one Go value
//
// CompileProjection compiles a Query's selects and wheres into one
// Projection whose Apply filters and projects a record batch, and whose
// ApplyRow does the same for one row. Compiled programs and projections are
// immutable and safe for concurrent use.
//
// Parse returns the syntax tree (Node) without type checking; its String
// method renders SQL that parses back to the same tree. Constant evaluates a
// column-free expression such as a skew key literal. ValueAt reads one value
// of an Arrow array in the package's Go value convention.
//
// # Values
//
// Rows given to EvalRow and ApplyRow map column names (as in the compile
// schema) to Go values; a missing column is null. Results use the same
// convention, shared with core/agg:
//
//	boolean              bool
//	tinyint … bigint     int8, int16, int32, int64
//	float, double        float32, float64 (NaN and ±Inf are kept)
//	string               string
//	binary               []byte
//	date                 Date (days since 1970-01-01; Arrow date32)
//	timestamp            time.Time in UTC (Arrow timestamp[us, UTC], TimestampType)
//	array<T>             []any
//	map<string,T>        map[string]any
//	struct<…>            map[string]any keyed by field name
//	null                 nil
//
// EvalRow also accepts, leniently: any Go integer or integral float64 for an
// integer column (JSON numbers), any number for a float column, typed slices
// and maps ([]int64, map[string]float64 …), arrow.Date32, time.Time or a
// "yyyy-MM-dd" string for a date, and a string for a timestamp. Results may
// share memory with the row's values; do not modify them.
//
// Chronon keeps event times as epoch milliseconds in bigint columns; the
// time functions below take seconds (from_unixtime(ts / 1000)) or
// timestamps, as in Spark. The session time zone is UTC.
//
// Map keys are always strings. Maps have no order in Go, so wherever order
// shows (map_keys, map_values, casting a map to string, Arrow output) entries
// are in ascending byte order of their keys, offline and online alike.
//
// # Grammar
//
// Operators by increasing precedence:
//
//	OR
//	AND  (also &&)
//	NOT  (also !)
//	=  ==  !=  <>  <  <=  >  >=  <=>   and the predicates
//	    x [NOT] IN (e, …)   x [NOT] BETWEEN lo AND hi
//	    x [NOT] LIKE p [ESCAPE 'c']   x [NOT] RLIKE p   x [NOT] REGEXP p
//	    x IS [NOT] NULL | TRUE | FALSE | DISTINCT FROM y
//	|
//	^
//	&
//	+  -  ||  (string or array concatenation)
//	*  /  %  DIV
//	unary -  +  ~
//	x.field   x[index]   (postfix)
//
// Primaries: literals; column names, bare (case-insensitive, an exact match
// wins) or back-quoted (`a b`; double a back quote inside); function calls;
// CASE WHEN c THEN v … [ELSE e] END and CASE x WHEN v THEN r … END;
// CAST(x AS type) and TRY_CAST; parenthesised expressions; lambdas as
// arguments of higher-order functions: x -> body, (x, y) -> body. Comments
// are -- to end of line and /* … */.
//
// Literals: integers (int when they fit, else bigint), 1L (bigint), 1S
// (smallint), 1Y (tinyint), 1.5, 1e3, 1.5D (double), 1.5F (float), 1.5BD
// (read as double); strings in single or double quotes with backslash
// escapes (\n \t \' \\ \uXXXX …; \% and \_ keep their backslash for LIKE);
// adjacent strings concatenate ('a' 'b' is 'ab'); true, false, null;
// DATE 'yyyy-MM-dd' and TIMESTAMP 'yyyy-MM-dd HH:mm:ss[.ffffff]'.
//
// Types for CAST: boolean, tinyint/byte, smallint/short, int/integer,
// bigint/long, float/real, double, string/varchar(n)/char(n), binary, date,
// timestamp, array<T>, map<string,T>, struct<name:T,…>.
//
// # Semantics
//
// Spark's non-ANSI semantics: null in, null out, except where Spark says
// otherwise (AND and OR are three-valued, <=> and IS NULL never return null,
// coalesce and friends pick non-null values, IN is null when the value is
// not found but the list holds a null). Integer arithmetic wraps on
// overflow; / always divides as double; DIV divides as bigint; x / 0, x DIV
// 0 and x % 0 are null (for doubles too). Numbers widen to the wider
// operand type (int + bigint is bigint, bigint * double is double). A
// string compared with a number, date or timestamp is cast to that type
// (a string that does not parse makes the comparison null); arithmetic on
// strings is a type error, unlike Spark. date ± integer adds days. NaN
// equals NaN and sorts above every other number; -0.0 equals 0.0.
//
// CAST follows Spark: strings to numbers trim blanks and give null when
// they do not parse or overflow ('1.9' casts to int 1), doubles to integers
// truncate and saturate (NaN is 0), integers narrow by wrapping, strings to
// booleans accept t/true/y/yes/1 and f/false/n/no/0, numbers to strings
// print like Java (1.0E7, 1.0E-4), bigint to timestamp reads seconds,
// timestamp to bigint gives seconds, date to a number is null. Function
// arguments are cast implicitly where Spark does: numbers to numbers,
// atomic values to string, strings to numbers, dates and timestamps.
//
// # Functions
//
// Conditional and null: if, iff, coalesce, nvl, ifnull, nvl2, nullif,
// isnull, isnotnull, isnan, nanvl, typeof.
//
// Math: abs, round and bround (HALF_UP / HALF_EVEN on the decimal text of
// the number, as Spark's BigDecimal rounding; a negative scale rounds
// integers), floor, ceil, ceiling (bigint results), sqrt, cbrt, exp, expm1,
// ln, log (natural, or log(base, x)), log10, log2, log1p (null for
// non-positive input), pow, power, hypot, sin, cos, tan, asin, acos, atan,
// atan2, sinh, cosh, tanh, degrees, radians, sign, signum, mod, pmod, div,
// negative, positive, greatest, least (skip nulls), pi, e.
//
// String: concat (also arrays), concat_ws, lower, lcase, upper, ucase,
// initcap, length, char_length, character_length, len, octet_length, substr
// and substring (1-based; 0 means 1; negative counts from the end), left,
// right, trim, btrim, ltrim, rtrim (spaces only, as Spark), lpad, rpad,
// repeat, space, reverse (also arrays), instr, locate, position, replace,
// startswith, endswith, contains, ascii, split (regex, keeps trailing empty
// strings, optional limit), regexp_extract, regexp_extract_all,
// regexp_replace (Java $n replacement syntax), regexp_like, rlike, regexp,
// like, get_json_object ($.a.b[0] and ['key'] paths), md5, sha1, sha, sha2,
// crc32, base64, unbase64, and the cast shorthands boolean, tinyint,
// smallint, int, bigint, float, double, string, binary, date, timestamp.
//
// Date and time (UTC): from_unixtime(seconds[, pattern]) (default
// 'yyyy-MM-dd HH:mm:ss'), unix_timestamp and to_unix_timestamp (string with
// an optional pattern, date or timestamp, to seconds), to_date, to_timestamp,
// date_format, timestamp_seconds, timestamp_millis, timestamp_micros,
// unix_seconds, unix_millis, unix_micros, unix_date, date_from_unix_date,
// date_add, dateadd, date_sub, datediff, add_months, last_day, trunc,
// date_trunc, year, quarter, month, day, dayofmonth, dayofyear, dayofweek
// (1 = Sunday), weekday (0 = Monday), weekofyear, hour, minute, second.
// Patterns are Java DateTimeFormatter patterns: G y M L d D H h k K m s S a
// E Z X x z V, 'quoted text' (two single quotes stand for one), other characters literally.
// Parsing must consume the whole input, else the result is null.
//
// Collections: size and cardinality (null for null input, Spark's
// non-legacy behaviour), element_at (1-based, negative from the end, or a
// map key), x[i] (0-based) and m['key'], x.field (structs, maps, arrays of
// structs), array_contains, array_position, array_remove, map_keys,
// map_values, array, map, named_struct, struct, sort_array, array_sort,
// array_min, array_max, array_distinct, array_join, slice, flatten,
// array_repeat, and Chronon's array_mean (average of the non-null numbers
// as double; null for a null or empty array or one of nulls only).
//
// Higher-order: transform(a, x -> …) and (x, i) -> …, filter, exists and
// forall (three-valued), aggregate and reduce(a, zero, (acc, x) -> …[,
// acc -> …]), zip_with, map_filter(m, (k, v) -> …), map_zip_with(m1, m2,
// (k, v1, v2) -> …) over the union of keys, transform_values,
// transform_keys. Lambda parameters shadow columns.
//
// FunctionNames lists them all.
//
// # Differences from Spark
//
//   - DECIMAL is not supported: decimal literals (1.5, 1.5BD, integers beyond
//     bigint) are doubles and CAST to decimal is an error.
//   - Map keys must be strings (map(1, 'x') has key '1'); duplicate keys keep
//     the last value instead of failing; a null key makes map(…) null.
//   - Evaluation never fails. Where Spark raises a runtime error the result
//     is null: element_at(array, 0), a non-constant invalid regex, pattern
//     or group index, transform_keys producing a null key. Constant
//     arguments are checked at compile time and reported as errors, as
//     Spark does.
//   - Regular expressions use Go's RE2 syntax: Java's look-around and
//     back-references are rejected.
//   - aggregate widens its accumulator to the merge result's type
//     (aggregate(doubles, 0, (a, x) -> a + x) is accepted).
//   - Strings do not take part in arithmetic ('1' + 1 is a type error).
//   - Timestamps are microsecond instants; the session time zone is UTC.
//
// # Evaluation
//
// EvalBatch runs typed loops over the Arrow buffers for column references,
// literals, arithmetic, comparisons, boolean logic, IS NULL, IN with
// constant lists, and numeric casts, reusing intermediate buffers; other
// functions run per row over the batch on the same code EvalRow uses, so
// both paths agree by construction.
package expr
