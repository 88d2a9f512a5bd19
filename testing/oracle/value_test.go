// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
)

var (
	tBool  = arrow.FixedWidthTypes.Boolean
	tI8    = arrow.PrimitiveTypes.Int8
	tI16   = arrow.PrimitiveTypes.Int16
	tI32   = arrow.PrimitiveTypes.Int32
	tI64   = arrow.PrimitiveTypes.Int64
	tF32   = arrow.PrimitiveTypes.Float32
	tF64   = arrow.PrimitiveTypes.Float64
	tStr   = arrow.BinaryTypes.String
	tBin   = arrow.BinaryTypes.Binary
	nan    = math.NaN()
	tQuery = int64(1000) // query time of most table tests; events are before it
)

// xs returns events at ts 1, 2, 3, ... with column "x" set to vals.
func xs(vals ...any) []Event {
	out := make([]Event, len(vals))
	for i, v := range vals {
		out[i] = Event{Ts: int64(i + 1), Values: map[string]any{"x": v}}
	}
	return out
}

// tx returns events with the given (ts, x) pairs, in that arrival order.
func tx(pairs ...any) []Event {
	var out []Event
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, Event{Ts: int64(pairs[i].(int)), Values: map[string]any{"x": pairs[i+1]}})
	}
	return out
}

// xb returns events at ts 1, 2, ... with (x, bucket b) pairs.
func xb(pairs ...any) []Event {
	var out []Event
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, Event{Ts: int64(i/2 + 1), Values: map[string]any{"x": pairs[i], "b": pairs[i+1]}})
	}
	return out
}

func part(op api.Operation, kv ...string) api.AggregationPart {
	p := api.AggregationPart{InputColumn: "x", Operation: op}
	if len(kv) > 0 {
		p.ArgMap = map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			p.ArgMap[kv[i]] = kv[i+1]
		}
	}
	return p
}

func bucketed(p api.AggregationPart) api.AggregationPart { p.Bucket = "b"; return p }

func elementWise(p api.AggregationPart) api.AggregationPart { p.ElementWise = true; return p }

func windowed(p api.AggregationPart, w api.Window) api.AggregationPart { p.Window = &w; return p }

func l(v ...any) []any { return v }

type m = map[string]any

type valueCase struct {
	name   string
	part   api.AggregationPart
	input  arrow.DataType
	events []Event
	T      int64
	mode   TailMode
	want   any
}

func runValueCases(t *testing.T, cases []valueCase) {
	t.Helper()
	for _, c := range cases {
		T := c.T
		if T == 0 {
			T = tQuery
		}
		got, err := Value(c.part, c.input, c.events, T, c.mode)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !equalValues(got, c.want) {
			t.Errorf("%s: got %s, want %s", c.name, show(got), show(c.want))
			continue
		}
		// The answer has the Go type of the output column.
		ot, err := OutputType(c.part, c.input)
		if err != nil {
			t.Errorf("%s: OutputType: %v", c.name, err)
		} else if err := batch.CheckValue(got, ot); err != nil {
			t.Errorf("%s: answer does not match output type %s: %v", c.name, ot, err)
		}
		// The oracle accepts its own answer.
		if err := Check(c.part, c.input, c.events, T, c.mode, got, CheckOptions{}); err != nil {
			t.Errorf("%s: Check of own answer: %v", c.name, err)
		}
	}
}

func TestValueNullsAndEmpty(t *testing.T) {
	runValueCases(t, []valueCase{
		{"COUNT of nothing is null", part(api.OpCount), tI64, nil, 0, Exact, nil},
		{"COUNT of nulls is null", part(api.OpCount), tI64, xs(nil, nil), 0, Exact, nil},
		{"COUNT counts non-null", part(api.OpCount), tI64, xs(int64(1), nil, int64(3)), 0, Exact, int64(2)},
		{"COUNT of missing column is null", part(api.OpCount), tI64, []Event{{Ts: 1}}, 0, Exact, nil},
		{"SUM of nothing is null", part(api.OpSum), tI64, nil, 0, Exact, nil},
		{"SUM ignores nulls", part(api.OpSum), tI64, xs(nil, int64(2), nil), 0, Exact, int64(2)},
		{"MAX of nulls is null", part(api.OpMax), tStr, xs(nil), 0, Exact, nil},
		{"FIRST skips null", part(api.OpFirst), tStr, xs(nil, "b"), 0, Exact, "b"},
		{"LAST skips null", part(api.OpLast), tStr, xs("a", nil), 0, Exact, "a"},
		{"LAST_K skips nulls", part(api.OpLastK, "k", "3"), tStr, xs("a", nil, "c"), 0, Exact, l("c", "a")},
		{"HISTOGRAM of nothing is null", part(api.OpHistogram), tStr, nil, 0, Exact, nil},
		{"UNIQUE_COUNT of nothing is null", part(api.OpUniqueCount), tStr, xs(nil), 0, Exact, nil},
		{"events at or after T are ignored", part(api.OpCount), tI64, tx(1000, int64(1), 1001, int64(1)), 0, Exact, nil},
	})
}

func TestValueWindows(t *testing.T) {
	T := 10 * OneHour
	w := api.Hours(1)
	evs := tx(int(T-OneHour-1), int64(1), int(T-OneHour), int64(10), int(T-1), int64(100), int(T), int64(1000))
	hopEvs := tx(int(T-OneHour-FiveMinutes), int64(1), int(T-OneHour-FiveMinutes-1), int64(10))
	runValueCases(t, []valueCase{
		{"exact: [T-W, T)", windowed(part(api.OpSum), w), tI64, evs, T, Exact, int64(110)},
		{"hop, T-W on a boundary: same as exact", windowed(part(api.OpSum), w), tI64, evs, T, Hop, int64(110)},
		{"hop, T+1min: tail rounds down to T-W, event at T counts", windowed(part(api.OpSum), w), tI64, evs, T + 60*1000, Hop, int64(1110)},
		{"exact, T+1min: tail at T-W+1min", windowed(part(api.OpSum), w), tI64, evs, T + 60*1000, Exact, int64(1100)},
		{"unbounded", part(api.OpSum), tI64, evs, T, Exact, int64(111)},
		{"hop, T-W-1 rounds down by 5 min", windowed(part(api.OpSum), w), tI64, hopEvs, T - 1, Hop, int64(1)},
		{"exact, T-W-1 excludes both", windowed(part(api.OpSum), w), tI64, hopEvs, T - 1, Exact, nil},
	})
}

func TestValueNumeric(t *testing.T) {
	runValueCases(t, []valueCase{
		{"SUM int64", part(api.OpSum), tI64, xs(int64(1), int64(2), int64(3)), 0, Exact, int64(6)},
		{"SUM bool counts true", part(api.OpSum), tBool, xs(true, false, true, nil), 0, Exact, int64(2)},
		{"SUM int8 widens", part(api.OpSum), tI8, xs(int8(100), int8(100)), 0, Exact, int64(200)},
		{"SUM int64 wraps", part(api.OpSum), tI64, xs(int64(math.MaxInt64), int64(1)), 0, Exact, int64(math.MinInt64)},
		// exact sum of the binary 0.1, 0.2, 0.3 rounds to 0.6; naive left to right gives 0.6000000000000001
		{"SUM float64 is exactly rounded", part(api.OpSum), tF64, xs(0.1, 0.2, 0.3), 0, Exact, 0.6},
		{"SUM float32 gives float64", part(api.OpSum), tF32, xs(float32(1.5), float32(2.5)), 0, Exact, 4.0},
		{"SUM with NaN is null", part(api.OpSum), tF64, xs(1.0, nan), 0, Exact, nil},
		{"SUM with +Inf is null", part(api.OpSum), tF64, xs(1.0, math.Inf(1)), 0, Exact, nil},
		{"SUM overflowing to Inf is null", part(api.OpSum), tF64, xs(math.MaxFloat64, math.MaxFloat64), 0, Exact, nil},
		{"AVERAGE int", part(api.OpAverage), tI32, xs(int32(1), int32(2), int32(3), int32(4)), 0, Exact, 2.5},
		{"AVERAGE with NaN is null", part(api.OpAverage), tF64, xs(1.0, nan), 0, Exact, nil},
		{"AVERAGE of int64 extremes", part(api.OpAverage), tI64, xs(int64(math.MaxInt64), int64(math.MaxInt64)), 0, Exact, 9223372036854775807.0},
		{"VARIANCE is population", part(api.OpVariance), tI64, xs(int64(1), int64(2), int64(3), int64(4)), 0, Exact, 1.25},
		{"VARIANCE of one value", part(api.OpVariance), tF64, xs(7.0), 0, Exact, 0.0},
		{"VARIANCE with NaN is null", part(api.OpVariance), tF64, xs(1.0, 2.0, nan), 0, Exact, nil},
		{"SKEW symmetric", part(api.OpSkew), tI64, xs(int64(1), int64(2), int64(3)), 0, Exact, 0.0},
		{"SKEW n < 3 is null", part(api.OpSkew), tI64, xs(int64(1), int64(2)), 0, Exact, nil},
		{"SKEW m2 == 0 is null", part(api.OpSkew), tI64, xs(int64(5), int64(5), int64(5)), 0, Exact, nil},
		{"KURTOSIS [1,2,3,4]", part(api.OpKurtosis), tI64, xs(int64(1), int64(2), int64(3), int64(4)), 0, Exact, -1.36},
		{"KURTOSIS n < 4 is null", part(api.OpKurtosis), tI64, xs(int64(1), int64(2), int64(9)), 0, Exact, nil},
		{"KURTOSIS m2 == 0 is null", part(api.OpKurtosis), tF64, xs(2.0, 2.0, 2.0, 2.0), 0, Exact, nil},
	})
	// Values checked against exact rational arithmetic (Python fractions).
	for _, c := range []struct {
		name string
		op   api.Operation
		x    []any
		want float64
	}{
		// m2 = 146/3, m3 = 1190/9: sqrt(3) * m3 / m2^1.5
		{"SKEW [1,2,10]", api.OpSkew, []any{1.0, 2.0, 10.0}, 0.6745554845457656},
		{"KURTOSIS [1,2,3,4,100]", api.OpKurtosis, []any{1.0, 2.0, 3.0, 4.0, 100.0}, 0.24671648930016352},
	} {
		got, err := Value(part(c.op), tF64, xs(c.x...), tQuery, Exact)
		if err != nil {
			t.Fatal(err)
		}
		if g, ok := got.(float64); !ok || math.Abs(g-c.want) > 1e-15 {
			t.Errorf("%s = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestValueOrdering(t *testing.T) {
	runValueCases(t, []valueCase{
		{"MIN int16 keeps type", part(api.OpMin), tI16, xs(int16(5), int16(-3), int16(4)), 0, Exact, int16(-3)},
		{"MAX string by bytes", part(api.OpMax), tStr, xs("b", "a", "ab", "B"), 0, Exact, "b"},
		{"MIN string by bytes", part(api.OpMin), tStr, xs("b", "a", "ab", "B"), 0, Exact, "B"},
		{"MAX with NaN is null (NaN is largest)", part(api.OpMax), tF64, xs(1.0, nan, 2.0), 0, Exact, nil},
		{"MIN with NaN ignores it", part(api.OpMin), tF64, xs(1.0, nan, 2.0), 0, Exact, 1.0},
		{"MIN float32", part(api.OpMin), tF32, xs(float32(1.5), float32(-2.5)), 0, Exact, float32(-2.5)},
		{"TOP_K keeps duplicates, descending", part(api.OpTopK, "k", "3"), tI64, xs(int64(5), int64(1), int64(5), int64(3), int64(2)), 0, Exact, l(int64(5), int64(5), int64(3))},
		{"BOTTOM_K ascending", part(api.OpBottomK, "k", "2"), tI64, xs(int64(5), int64(1), int64(5), int64(3), int64(2)), 0, Exact, l(int64(1), int64(2))},
		{"TOP_K k larger than input", part(api.OpTopK, "k", "10"), tI64, xs(int64(2), int64(1)), 0, Exact, l(int64(2), int64(1))},
		{"TOP_K NaN first", part(api.OpTopK, "k", "2"), tF64, xs(1.0, nan, 3.0), 0, Exact, l(nan, 3.0)},
		{"BOTTOM_K strings", part(api.OpBottomK, "k", "2"), tStr, xs("b", "c", "a"), 0, Exact, l("a", "b")},
	})
}

func TestValueTimedTies(t *testing.T) {
	evs := tx(5, "a", 3, "b", 3, "c", 7, "d", 3, "e")
	runValueCases(t, []valueCase{
		{"FIRST: smallest ts, first arrived", part(api.OpFirst), tStr, evs, 0, Exact, "b"},
		{"LAST: largest ts", part(api.OpLast), tStr, evs, 0, Exact, "d"},
		{"LAST: tie keeps first arrived", part(api.OpLast), tStr, tx(5, "a", 9, "b", 9, "c", 2, "d"), 0, Exact, "b"},
		{"FIRST_K k=2", part(api.OpFirstK, "k", "2"), tStr, evs, 0, Exact, l("b", "c")},
		{"FIRST_K k > n: ts ascending, ties in arrival order", part(api.OpFirstK, "k", "10"), tStr, evs, 0, Exact, l("b", "c", "e", "a", "d")},
		{"LAST_K k=2", part(api.OpLastK, "k", "2"), tStr, evs, 0, Exact, l("d", "a")},
		{"LAST_K k=3 prefers first arrived at the boundary", part(api.OpLastK, "k", "3"), tStr, evs, 0, Exact, l("d", "a", "b")},
		{"LAST_K ties in arrival order", part(api.OpLastK, "k", "2"), tStr, tx(5, "a", 5, "b", 5, "c", 1, "z"), 0, Exact, l("a", "b")},
		{"LAST_K k > n", part(api.OpLastK, "k", "9"), tStr, tx(5, "a", 5, "b", 6, "c", 1, "z"), 0, Exact, l("c", "a", "b", "z")},
		{"FIRST of a list is the list", part(api.OpFirst), arrow.ListOf(tI64), tx(2, l(int64(1), nil), 1, l(int64(7))), 0, Exact, l(int64(7))},
		{"LAST_K of a map keeps maps", part(api.OpLastK, "k", "1"), arrow.MapOf(tStr, tI64), tx(2, m{"a": int64(1)}, 1, m{}), 0, Exact, l(m{"a": int64(1)})},
		{"FIRST of NaN is null", part(api.OpFirst), tF64, tx(1, nan, 2, 1.0), 0, Exact, nil},
		{"LAST_K keeps NaN", part(api.OpLastK, "k", "2"), tF64, tx(1, nan, 2, 1.0), 0, Exact, l(1.0, nan)},
	})
}

func TestValueCounting(t *testing.T) {
	runValueCases(t, []valueCase{
		{"UNIQUE_COUNT", part(api.OpUniqueCount), tI64, xs(int64(1), int64(2), int64(2), int64(3), nil), 0, Exact, int64(3)},
		{"UNIQUE_COUNT: NaNs are one value", part(api.OpUniqueCount), tF64, xs(nan, 1.0, nan), 0, Exact, int64(2)},
		{"UNIQUE_COUNT binary by content", part(api.OpUniqueCount), tBin, xs([]byte{1}, []byte{1}, []byte{2}, []byte{}), 0, Exact, int64(3)},
		{"APPROX_UNIQUE_COUNT is exact", part(api.OpApproxUniqueCount), tStr, xs("a", "b", "a"), 0, Exact, int64(2)},
		{"BOUNDED_UNIQUE_COUNT k=2", part(api.OpBoundedUniqueCount, "k", "2"), tI64, xs(int64(1), int64(2), int64(3)), 0, Exact, int64(2)},
		{"BOUNDED_UNIQUE_COUNT default k=8", part(api.OpBoundedUniqueCount), tI64, xs(int64(1), int64(2), int64(3)), 0, Exact, int64(3)},
		{"HISTOGRAM", part(api.OpHistogram), tStr, xs("a", "b", "a", nil, "c"), 0, Exact, m{"a": int32(2), "b": int32(1), "c": int32(1)}},
		{"HISTOGRAM k=2, ties to the smaller key", part(api.OpHistogram, "k", "2"), tStr, xs("c", "a", "b", "a"), 0, Exact, m{"a": int32(2), "b": int32(1)}},
		{"HISTOGRAM k=1 tie", part(api.OpHistogram, "k", "1"), tStr, xs("b", "a"), 0, Exact, m{"a": int32(1)}},
		{"HISTOGRAM k larger than distinct", part(api.OpHistogram, "k", "5"), tStr, xs("b", "a"), 0, Exact, m{"a": int32(1), "b": int32(1)}},
		{"HISTOGRAM vector counts elements", part(api.OpHistogram), arrow.ListOf(tStr), xs(l("a", "b"), l("a", nil)), 0, Exact, m{"a": int32(2), "b": int32(1)}},
		{"APPROX_HISTOGRAM_K ints k=2", part(api.OpApproxHistogramK, "k", "2"), tI64, xs(int64(3), int64(1), int64(1), int64(2)), 0, Exact, m{"1": int64(2), "2": int64(1)}},
		{"APPROX_HISTOGRAM_K floats", part(api.OpApproxHistogramK), tF64, xs(1.5, 1.5, 2.0, nan), 0, Exact, m{"1.5": int64(2), "2": int64(1), "NaN": int64(1)}},
		{"APPROX_HISTOGRAM_K float32", part(api.OpApproxHistogramK), tF32, xs(float32(0.1)), 0, Exact, m{"0.1": int64(1)}},
		{"APPROX_HISTOGRAM_K strings default k=8", part(api.OpApproxHistogramK), tStr, xs("x", "y", "x"), 0, Exact, m{"x": int64(2), "y": int64(1)}},
	})
}

func TestValuePercentile(t *testing.T) {
	f := func(v ...float32) []any {
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = x
		}
		return out
	}
	runValueCases(t, []valueCase{
		// n = 4: p*(n-1) = 0, 1.5, 3, 0.75 -> indices 0, 1 (half down), 3, 1
		{"APPROX_PERCENTILE index rule", part(api.OpApproxPercentile, "percentiles", "[0, 0.5, 1, 0.25]"), tI64,
			xs(int64(40), int64(10), int64(30), int64(20)), 0, Exact, f(10, 20, 40, 20)},
		{"APPROX_PERCENTILE default median", part(api.OpApproxPercentile), tF64, xs(5.0, 1.0, 4.0, 2.0, 3.0), 0, Exact, f(3)},
		{"APPROX_PERCENTILE skips NaN", part(api.OpApproxPercentile, "percentiles", "[1]"), tF64, xs(5.0, nan, 1.0), 0, Exact, f(5)},
		{"APPROX_PERCENTILE of NaN only is null", part(api.OpApproxPercentile), tF64, xs(nan), 0, Exact, nil},
		{"APPROX_PERCENTILE rounds to float32", part(api.OpApproxPercentile), tF64, xs(0.1), 0, Exact, f(0.1)},
	})
}

func TestValueShapes(t *testing.T) {
	listI64 := arrow.ListOf(tI64)
	mapI64 := arrow.MapOf(tStr, tI64)
	runValueCases(t, []valueCase{
		{"bucketed SUM", bucketed(part(api.OpSum)), tI64,
			xb(int64(1), "u", int64(2), "v", int64(3), "u", int64(4), nil, nil, "w"), 0, Exact, m{"u": int64(4), "v": int64(2)}},
		{"bucketed: no bucket has input is null", bucketed(part(api.OpSum)), tI64, xb(int64(4), nil, nil, "w"), 0, Exact, nil},
		{"bucketed NaN is null in its bucket", bucketed(part(api.OpSum)), tF64, xb(nan, "u", 1.0, "v"), 0, Exact, m{"u": nil, "v": 1.0}},
		{"bucketed LAST_K", bucketed(part(api.OpLastK, "k", "2")), tStr, xb("a", "u", "b", "u", "c", "u", "d", "v"), 0, Exact,
			m{"u": l("c", "b"), "v": l("d")}},
		{"vector AVERAGE of [1,2,3],[3,4],[5] = 3", part(api.OpAverage), listI64,
			xs(l(int64(1), int64(2), int64(3)), l(int64(3), int64(4)), l(int64(5))), 0, Exact, 3.0},
		{"vector COUNT counts non-null elements", part(api.OpCount), listI64, xs(l(int64(1), nil), nil, l()), 0, Exact, int64(1)},
		{"vector of empty lists is null", part(api.OpSum), listI64, xs(l(), l(nil)), 0, Exact, nil},
		{"vector bucketed", bucketed(part(api.OpMax)), listI64, xb(l(int64(1), int64(9)), "u", l(), "v"), 0, Exact, m{"u": int64(9)}},
		{"COUNT of list<list> counts lists", part(api.OpCount), arrow.ListOf(listI64), xs(l(l(int64(1))), l()), 0, Exact, int64(2)},
		{"map SUM per key", part(api.OpSum), mapI64, xs(m{"a": int64(1), "b": int64(2)}, m{"a": int64(3), "c": nil}, nil), 0, Exact,
			m{"a": int64(4), "b": int64(2)}},
		{"map of null values is null", part(api.OpSum), mapI64, xs(m{"c": nil}, m{}), 0, Exact, nil},
		{"map HISTOGRAM per key", part(api.OpHistogram), arrow.MapOf(tStr, tStr), xs(m{"a": "x"}, m{"a": "x", "b": "y"}), 0, Exact,
			m{"a": m{"x": int32(2)}, "b": m{"y": int32(1)}}},
		{"map LAST is the whole map", part(api.OpLast), mapI64, tx(1, m{"a": int64(1)}, 2, m{"b": int64(2)}), 0, Exact, m{"b": int64(2)}},
		{"elementWise SUM", elementWise(part(api.OpSum)), listI64, xs(l(int64(1), int64(2), int64(3)), l(int64(10), int64(20)), nil), 0, Exact,
			l(int64(11), int64(22), int64(3))},
		{"elementWise AVERAGE", elementWise(part(api.OpAverage)), listI64, xs(l(int64(1), int64(2), int64(3)), l(int64(10), int64(20))), 0, Exact,
			l(5.5, 11.0, 3.0)},
		{"elementWise FIRST per index", elementWise(part(api.OpFirst)), listI64, tx(2, l(int64(1), int64(2)), 1, l(int64(9))), 0, Exact,
			l(int64(9), int64(2))},
		{"elementWise NaN is null at its index", elementWise(part(api.OpSum)), arrow.ListOf(tF64), xs(l(1.0, nan)), 0, Exact, l(1.0, nil)},
		{"elementWise over empty lists is null", elementWise(part(api.OpSum)), listI64, xs(l(), l()), 0, Exact, nil},
		{"elementWise bucketed", bucketed(elementWise(part(api.OpMax))), listI64, xb(l(int64(1), int64(5)), "u", l(int64(3)), "u", l(), "v"), 0, Exact,
			m{"u": l(int64(3), int64(5))}},
	})
}

func TestValueErrors(t *testing.T) {
	for _, c := range []struct {
		name   string
		part   api.AggregationPart
		input  arrow.DataType
		events []Event
		substr string
	}{
		{"TOP_K needs k", part(api.OpTopK), tI64, nil, "`k` needs to be specified"},
		{"LAST_K k=0", part(api.OpLastK, "k", "0"), tI64, nil, "must be >= 1"},
		{"bad k", part(api.OpFirstK, "k", "two"), tI64, nil, "not an integer"},
		{"bad percentiles", part(api.OpApproxPercentile, "percentiles", "0.5"), tI64, nil, "JSON array"},
		{"percentile out of range", part(api.OpApproxPercentile, "percentiles", "[1.5]"), tI64, nil, "outside"},
		{"HISTOGRAM over ints", part(api.OpHistogram), tI64, nil, "not supported"},
		{"AVERAGE over bool", part(api.OpAverage), tBool, nil, "not supported"},
		{"MIN over binary", part(api.OpMin), tBin, nil, "not supported"},
		{"SUM over string", part(api.OpSum), tStr, nil, "not supported"},
		{"elementWise over a scalar", elementWise(part(api.OpSum)), tI64, nil, "needs a list"},
		{"bucket over a map", bucketed(part(api.OpSum)), arrow.MapOf(tStr, tI64), nil, "not supported"},
		{"wrong Go type", part(api.OpSum), tI64, xs(1), "Go type"},
		{"bucket not a string", bucketed(part(api.OpSum)), tI64, xb(int64(1), 5), "must be a string"},
		{"elementWise null element", elementWise(part(api.OpSum)), arrow.ListOf(tI64), xs(l(int64(1), nil)), "null element"},
	} {
		_, err := Value(c.part, c.input, c.events, tQuery, Exact)
		if err == nil || !strings.Contains(err.Error(), c.substr) {
			t.Errorf("%s: err = %v, want one containing %q", c.name, err, c.substr)
		}
		if cerr := Check(c.part, c.input, c.events, tQuery, Exact, nil, CheckOptions{}); cerr == nil {
			t.Errorf("%s: Check accepted an invalid part", c.name)
		}
	}
}

func TestOutputType(t *testing.T) {
	for _, c := range []struct {
		part  api.AggregationPart
		input arrow.DataType
		want  string
	}{
		{part(api.OpSum), tI8, "int64"},
		{part(api.OpSum), tF32, "float64"},
		{part(api.OpMax), tI16, "int16"},
		{part(api.OpLastK, "k", "3"), tStr, "list<item: utf8, nullable>"},
		{part(api.OpApproxPercentile), tI64, "list<item: float32, nullable>"},
		{part(api.OpHistogram), tStr, "map<utf8, int32, items_nullable>"},
		{bucketed(part(api.OpCount)), tStr, "map<utf8, int64, items_nullable>"},
		{part(api.OpAverage), arrow.ListOf(tI64), "float64"},
		{part(api.OpAverage), arrow.MapOf(tStr, tI64), "map<utf8, float64, items_nullable>"},
		{elementWise(part(api.OpAverage)), arrow.ListOf(tI64), "list<item: float64, nullable>"},
		{part(api.OpLast), arrow.ListOf(tI64), "list<item: int64, nullable>"},
	} {
		got, err := OutputType(c.part, c.input)
		if err != nil {
			t.Errorf("%s over %s: %v", c.part.Operation, c.input, err)
		} else if got.String() != c.want {
			t.Errorf("%s over %s = %s, want %s", c.part.Operation, c.input, got, c.want)
		}
	}
}
