// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"errors"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
)

func k(n string) map[string]string { return map[string]string{"k": n} }

var inf = math.Inf(1)

// TestOps checks hand-computed results of every operation.
func TestOps(t *testing.T) {
	nan := math.NaN()
	tsv := func(ts int64, v any) Input { return Input{Value: v, Ts: ts} }
	bv := func(b any, v any) Input { return Input{Value: v, Bucket: b} }
	cases := []struct {
		name string
		s    spec
		in   []Input
		want any
	}{
		// SUM
		{"sum int64", spec{op: api.OpSum, in: tI64}, vals(int64(1), int64(2), int64(3)), int64(6)},
		{"sum empty", spec{op: api.OpSum, in: tI64}, nil, nil},
		{"sum all null", spec{op: api.OpSum, in: tI64}, vals(nil, nil), nil},
		{"sum bool", spec{op: api.OpSum, in: tBool}, vals(true, false, nil, true), int64(2)},
		{"sum int8 widens", spec{op: api.OpSum, in: tI8}, vals(int8(100), int8(100), int8(-1)), int64(199)},
		{"sum int16", spec{op: api.OpSum, in: tI16}, vals(int16(30000), int16(30000)), int64(60000)},
		{"sum int32", spec{op: api.OpSum, in: tI32}, vals(int32(math.MaxInt32), int32(1)), int64(math.MaxInt32) + 1},
		{"sum compensated", spec{op: api.OpSum, in: tF64}, vals(1e16, 1.0, -1e16), 1.0},
		{"sum float32", spec{op: api.OpSum, in: tF32}, vals(float32(1.5), float32(2.5)), 4.0},
		{"sum NaN", spec{op: api.OpSum, in: tF64}, vals(1.0, nan), nil},
		{"sum Inf", spec{op: api.OpSum, in: tF64}, vals(1.0, inf), nil},
		{"sum overflow to Inf", spec{op: api.OpSum, in: tF64}, vals(1e308, 1e308), nil},
		{"sum lenient int", spec{op: api.OpSum, in: tI64}, vals(1, int32(2), 3.0), int64(6)},
		// COUNT
		{"count", spec{op: api.OpCount, in: tStr}, vals("a", nil, "b"), int64(2)},
		{"count empty", spec{op: api.OpCount, in: tStr}, nil, nil},
		{"count all null", spec{op: api.OpCount, in: tStr}, vals(nil), nil},
		{"count vector", spec{op: api.OpCount, in: tLI64}, vals([]any{int64(1), nil, int64(2)}, []any{int64(3)}), int64(3)},
		{"count lists of lists", spec{op: api.OpCount, in: tLLI64}, vals([]any{[]any{int64(1)}}, nil, []any{}), int64(2)},
		{"count bucketed map", spec{op: api.OpCount, in: arrow.MapOf(tStr, tLI64), bucket: true},
			[]Input{bv("a", map[string]any{}), bv("a", map[string]any{"x": nil})}, map[string]any{"a": int64(2)}},
		// AVERAGE
		{"average", spec{op: api.OpAverage, in: tI32}, vals(int32(1), int32(2), int32(3), int32(4)), 2.5},
		{"average vector", spec{op: api.OpAverage, in: tLI64},
			vals([]any{int64(1), int64(2), int64(3)}, []any{int64(3), int64(4)}, []any{int64(5)}), 3.0},
		{"average NaN", spec{op: api.OpAverage, in: tF64}, vals(1.0, nan), nil},
		// VARIANCE, SKEW, KURTOSIS
		{"variance", spec{op: api.OpVariance, in: tF64}, vals(1.0, 2.0, 3.0, 4.0), 1.25},
		{"variance one", spec{op: api.OpVariance, in: tI64}, vals(int64(5)), 0.0},
		{"variance Inf", spec{op: api.OpVariance, in: tF64}, vals(1.0, inf), nil},
		{"skew symmetric", spec{op: api.OpSkew, in: tI64}, vals(int64(1), int64(2), int64(3)), 0.0},
		{"skew n<3", spec{op: api.OpSkew, in: tI64}, vals(int64(1), int64(2)), nil},
		{"skew m2=0", spec{op: api.OpSkew, in: tF64}, vals(0.1, 0.1, 0.1, 0.1), nil},
		{"skew", spec{op: api.OpSkew, in: tF64}, vals(1.0, 2.0, 10.0), skewRef([]float64{1, 2, 10})},
		{"kurtosis", spec{op: api.OpKurtosis, in: tI16}, vals(int16(1), int16(2), int16(3), int16(4)), -1.36},
		{"kurtosis n<4", spec{op: api.OpKurtosis, in: tF64}, vals(1.0, 2.0, 3.0), nil},
		{"kurtosis m2=0", spec{op: api.OpKurtosis, in: tF64}, vals(2.0, 2.0, 2.0, 2.0), nil},
		// MIN, MAX
		{"min int16 keeps type", spec{op: api.OpMin, in: tI16}, vals(int16(3), int16(1), int16(2)), int16(1)},
		{"max int8", spec{op: api.OpMax, in: tI8}, vals(int8(-3), int8(-1), nil), int8(-1)},
		{"min string bytes", spec{op: api.OpMin, in: tStr}, vals("b", "B", "a"), "B"},
		{"max string", spec{op: api.OpMax, in: tStr}, vals("b", "ab", "c"), "c"},
		{"min skips NaN", spec{op: api.OpMin, in: tF64}, vals(1.0, nan, -1.0), -1.0},
		{"max NaN is null", spec{op: api.OpMax, in: tF64}, vals(1.0, nan, -1.0), nil},
		{"max Inf is null", spec{op: api.OpMax, in: tF32}, vals(float32(1), float32(inf)), nil},
		{"min -Inf is null", spec{op: api.OpMin, in: tF64}, vals(1.0, math.Inf(-1)), nil},
		{"max float32", spec{op: api.OpMax, in: tF32}, vals(float32(1), float32(2.5)), float32(2.5)},
		{"min empty", spec{op: api.OpMin, in: tStr}, nil, nil},
		// FIRST, LAST
		{"first ties first-arrived", spec{op: api.OpFirst, in: tStr}, []Input{tsv(1, "a"), tsv(0, "b"), tsv(0, "c")}, "b"},
		{"last ties first-arrived", spec{op: api.OpLast, in: tStr}, []Input{tsv(1, "a"), tsv(1, "b"), tsv(0, "c")}, "a"},
		{"last out of order", spec{op: api.OpLast, in: tI32}, []Input{tsv(5, int32(1)), tsv(9, int32(2)), tsv(7, int32(3))}, int32(2)},
		{"last skips null", spec{op: api.OpLast, in: tI32}, []Input{tsv(5, int32(1)), tsv(9, nil)}, int32(1)},
		{"first bool", spec{op: api.OpFirst, in: tBool}, []Input{tsv(5, true), tsv(2, false)}, false},
		{"last list is one value", spec{op: api.OpLast, in: tLI64},
			[]Input{tsv(1, []any{int64(1)}), tsv(2, []any{int64(2), nil})}, []any{int64(2), nil}},
		{"last map", spec{op: api.OpLast, in: tMStr},
			[]Input{tsv(2, map[string]any{"a": "x"}), tsv(1, map[string]any{"b": "y"})}, map[string]any{"a": "x"}},
		{"last binary", spec{op: api.OpLast, in: tBin}, []Input{tsv(2, []byte("x")), tsv(1, []byte("y"))}, []byte("x")},
		{"last NaN is null", spec{op: api.OpLast, in: tF64}, []Input{tsv(1, 1.0), tsv(2, nan)}, nil},
		{"first empty", spec{op: api.OpFirst, in: tStr}, nil, nil},
		// FIRST_K, LAST_K
		{"first_k ties", spec{op: api.OpFirstK, in: tStr, args: k("2")},
			[]Input{tsv(5, "a"), tsv(3, "b"), tsv(3, "c"), tsv(3, "d"), tsv(9, "e")}, []any{"b", "c"}},
		{"first_k order", spec{op: api.OpFirstK, in: tStr, args: k("4")},
			[]Input{tsv(5, "a"), tsv(3, "b"), tsv(9, "c"), tsv(3, "d")}, []any{"b", "d", "a", "c"}},
		{"last_k ties", spec{op: api.OpLastK, in: tStr, args: k("3")},
			[]Input{tsv(5, "a"), tsv(9, "b"), tsv(9, "c"), tsv(3, "d"), tsv(9, "e"), tsv(9, "f")}, []any{"b", "c", "e"}},
		{"last_k descending", spec{op: api.OpLastK, in: tI64, args: k("10")},
			[]Input{tsv(5, int64(5)), tsv(9, int64(9)), tsv(3, int64(3)), tsv(9, int64(10))}, []any{int64(9), int64(10), int64(5), int64(3)}},
		{"last_k of lists", spec{op: api.OpLastK, in: tLI64, args: k("2")},
			[]Input{tsv(1, []any{int64(1)}), tsv(2, []any{}), tsv(0, []any{int64(0)})}, []any{[]any{}, []any{int64(1)}}},
		{"last_k empty", spec{op: api.OpLastK, in: tI64, args: k("2")}, vals(nil), nil},
		// TOP_K, BOTTOM_K
		{"top_k dupes", spec{op: api.OpTopK, in: tI64, args: k("3")}, vals(int64(5), int64(1), int64(5), int64(3), int64(9)), []any{int64(9), int64(5), int64(5)}},
		{"bottom_k", spec{op: api.OpBottomK, in: tI32, args: k("2")}, vals(int32(5), int32(1), int32(5), int32(3)), []any{int32(1), int32(3)}},
		{"top_k k > n", spec{op: api.OpTopK, in: tStr, args: k("10")}, vals("b", "c", "a"), []any{"c", "b", "a"}},
		{"bottom_k floats", spec{op: api.OpBottomK, in: tF64, args: k("3")}, vals(0.0, math.Copysign(0, -1), 2.0, math.Inf(-1)),
			[]any{math.Inf(-1), math.Copysign(0, -1), 0.0}},
		{"top_k NaN first", spec{op: api.OpTopK, in: tF64, args: k("2")}, vals(1.0, nan, inf), []any{nan, inf}},
		// UNIQUE_COUNT, BOUNDED_UNIQUE_COUNT
		{"unique", spec{op: api.OpUniqueCount, in: tI64}, vals(int64(1), int64(2), int64(2), nil, int64(3)), int64(3)},
		{"unique floats by bits", spec{op: api.OpUniqueCount, in: tF64}, vals(0.0, math.Copysign(0, -1), nan, nan, 1.0), int64(4)},
		{"unique binary", spec{op: api.OpUniqueCount, in: tBin}, vals([]byte("a"), []byte("a"), []byte("b")), int64(2)},
		{"unique empty", spec{op: api.OpUniqueCount, in: tStr}, nil, nil},
		{"bounded", spec{op: api.OpBoundedUniqueCount, in: tI64, args: k("2")}, vals(int64(1), int64(2), int64(3)), int64(2)},
		{"bounded under k", spec{op: api.OpBoundedUniqueCount, in: tStr}, vals("a", "a", "b"), int64(2)},
		// APPROX_UNIQUE_COUNT
		{"approx unique small", spec{op: api.OpApproxUniqueCount, in: tI64},
			vals(int64(1), int64(2), int64(3), int64(2), int64(1)), int64(3)},
		{"approx unique strings", spec{op: api.OpApproxUniqueCount, in: tStr, args: k("12")}, vals("a", "b", "a", ""), int64(3)},
		{"approx unique clamp", spec{op: api.OpApproxUniqueCount, in: tStr, args: k("99")}, vals("a"), int64(1)},
		// APPROX_PERCENTILE
		{"percentile default median", spec{op: api.OpApproxPercentile, in: tI64}, vals(int64(5), int64(1), int64(4), int64(2), int64(3)), []any{float32(3)}},
		{"percentiles", spec{op: api.OpApproxPercentile, in: tF64, args: map[string]string{"percentiles": "[0, 0.25, 0.5, 1]"}},
			vals(5.0, 1.0, nan, 4.0, 2.0, 3.0), []any{float32(1), float32(2), float32(3), float32(5)}},
		{"percentile lower median", spec{op: api.OpApproxPercentile, in: tF32}, vals(float32(1), float32(2)), []any{float32(1)}},
		{"percentile all NaN", spec{op: api.OpApproxPercentile, in: tF64}, vals(nan), nil},
		{"percentile round half down", spec{op: api.OpApproxPercentile, in: tI64, args: map[string]string{"percentiles": "[0.25, 0.5, 0.75]"}},
			vals(int64(1), int64(2), int64(3), int64(4)), []any{float32(2), float32(2), float32(3)}},
		{"bucketed percentile NaN bucket", spec{op: api.OpApproxPercentile, in: tF64, bucket: true},
			[]Input{bv("a", nan), bv("b", 2.0)}, map[string]any{"a": nil, "b": []any{float32(2)}}},
		// HISTOGRAM
		{"histogram", spec{op: api.OpHistogram, in: tStr}, vals("a", "b", "a", nil), map[string]any{"a": int32(2), "b": int32(1)}},
		{"histogram k", spec{op: api.OpHistogram, in: tStr, args: k("1")}, vals("a", "b", "a"), map[string]any{"a": int32(2)}},
		{"histogram k ties", spec{op: api.OpHistogram, in: tStr, args: k("2")}, vals("c", "b", "a", "c"), map[string]any{"c": int32(2), "a": int32(1)}},
		{"histogram vector", spec{op: api.OpHistogram, in: tLStr}, vals([]any{"a", nil, "a"}, []any{"b"}), map[string]any{"a": int32(2), "b": int32(1)}},
		{"histogram empty", spec{op: api.OpHistogram, in: tStr}, nil, nil},
		// APPROX_HISTOGRAM_K
		{"approx histogram ints", spec{op: api.OpApproxHistogramK, in: tI32}, vals(int32(1), int32(1), int32(-2)), map[string]any{"1": int64(2), "-2": int64(1)}},
		{"approx histogram k ties", spec{op: api.OpApproxHistogramK, in: tI64, args: k("2")}, vals(int64(3), int64(20), int64(100), int64(3)),
			map[string]any{"3": int64(2), "100": int64(1)}},
		{"approx histogram floats", spec{op: api.OpApproxHistogramK, in: tF32}, vals(float32(0.1), float32(0.1), float32(1)),
			map[string]any{"0.1": int64(2), "1": int64(1)}},
		{"approx histogram doubles", spec{op: api.OpApproxHistogramK, in: tF64}, vals(0.5, 1e21, nan), map[string]any{"0.5": int64(1), "1e+21": int64(1), "NaN": int64(1)}},
		{"approx histogram strings", spec{op: api.OpApproxHistogramK, in: tStr}, vals("x", "y", "x"), map[string]any{"x": int64(2), "y": int64(1)}},
		// Buckets
		{"bucketed sum", spec{op: api.OpSum, in: tI64, bucket: true},
			[]Input{bv("a", int64(1)), bv("b", int64(2)), bv("a", int64(3)), bv(nil, int64(4)), bv("c", nil)},
			map[string]any{"a": int64(4), "b": int64(2)}},
		{"bucketed all null buckets", spec{op: api.OpSum, in: tI64, bucket: true}, []Input{bv(nil, int64(4))}, nil},
		{"bucketed last_k", spec{op: api.OpLastK, in: tStr, args: k("2"), bucket: true},
			[]Input{{Value: "x", Bucket: "a", Ts: 1}, {Value: "y", Bucket: "a", Ts: 3}, {Value: "z", Bucket: "b", Ts: 2}},
			map[string]any{"a": []any{"y", "x"}, "b": []any{"z"}}},
		{"bucketed vector average", spec{op: api.OpAverage, in: tLI64, bucket: true},
			[]Input{bv("a", []any{int64(1), int64(3)}), bv("a", []any{int64(5)}), bv("b", []any{})},
			map[string]any{"a": 3.0}},
		{"bucketed NaN value", spec{op: api.OpSum, in: tF64, bucket: true}, []Input{bv("a", nan), bv("b", 1.0)}, map[string]any{"a": nil, "b": 1.0}},
		// Map mode
		{"map sum", spec{op: api.OpSum, in: tMI64},
			vals(map[string]any{"a": int64(1), "b": int64(2)}, map[string]any{"a": int64(3), "c": nil}),
			map[string]any{"a": int64(4), "b": int64(2)}},
		{"map all null", spec{op: api.OpSum, in: tMI64}, vals(map[string]any{"c": nil}, map[string]any{}), nil},
		{"map histogram", spec{op: api.OpHistogram, in: tMStr}, vals(map[string]any{"k": "v"}, map[string]any{"k": "v", "j": "w"}),
			map[string]any{"k": map[string]any{"v": int32(2)}, "j": map[string]any{"w": int32(1)}}},
		{"map max", spec{op: api.OpMax, in: tMF64}, vals(map[string]any{"a": 1.0}, map[string]any{"a": 2.0}), map[string]any{"a": 2.0}},
		// elementWise
		{"elementWise sum", spec{op: api.OpSum, in: tLI64, elemWise: true},
			vals([]any{int64(1), int64(2)}, []any{int64(3)}, []any{int64(4), int64(5), int64(6)}), []any{int64(8), int64(7), int64(6)}},
		{"elementWise average", spec{op: api.OpAverage, in: tLF64, elemWise: true},
			vals([]any{1.0, 2.0}, []any{3.0}), []any{2.0, 2.0}},
		{"elementWise last", spec{op: api.OpLast, in: tLStr, elemWise: true},
			[]Input{tsv(2, []any{"a", "b"}), tsv(1, []any{"c", "d", "e"})}, []any{"a", "b", "e"}},
		{"elementWise empty lists", spec{op: api.OpSum, in: tLI64, elemWise: true}, vals([]any{}), nil},
		{"elementWise bucketed", spec{op: api.OpMax, in: tLI64, elemWise: true, bucket: true},
			[]Input{bv("a", []any{int64(1), int64(9)}), bv("a", []any{int64(4)})}, map[string]any{"a": []any{int64(4), int64(9)}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := mustNew(t, c.s)
			got := a.Finalize(fold(a, nil, c.in))
			if !equalVals(got, c.want, 1e-12) {
				t.Fatalf("got %s, want %s", show(got), show(c.want))
			}
			checkOutputType(t, a.OutputType(), got)
		})
	}
}

// skewRef is skew by two passes.
func skewRef(xs []float64) float64 {
	n := float64(len(xs))
	var mean float64
	for _, x := range xs {
		mean += x
	}
	mean /= n
	var m2, m3 float64
	for _, x := range xs {
		d := x - mean
		m2 += d * d
		m3 += d * d * d
	}
	return math.Sqrt(n) * m3 / math.Pow(m2, 1.5)
}

// checkOutputType checks that v has the Go type of dt's value convention.
func checkOutputType(t *testing.T, dt arrow.DataType, v any) {
	t.Helper()
	if err := batch.CheckValue(v, dt); err != nil {
		t.Fatalf("output %s does not match output type %s: %v", show(v), dt, err)
	}
}

func TestMinusZero(t *testing.T) {
	a := mustNew(t, spec{op: api.OpMin, in: tF64})
	got := a.Finalize(fold(a, nil, vals(0.0, math.Copysign(0, -1), 0.0)))
	if f, ok := got.(float64); !ok || f != 0 || !math.Signbit(f) {
		t.Fatalf("MIN(0, -0, 0) = %s, want -0", show(got))
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		s    spec
		want error
	}{
		{spec{op: api.OpSum, in: tStr}, ErrUnsupportedInput},
		{spec{op: api.OpAverage, in: tBool}, ErrUnsupportedInput},
		{spec{op: api.OpHistogram, in: tI64}, ErrUnsupportedInput},
		{spec{op: api.OpMin, in: tBool}, ErrUnsupportedInput},
		{spec{op: api.OpMax, in: tBin}, ErrUnsupportedInput},
		{spec{op: api.OpTopK, in: tBool, args: k("2")}, ErrUnsupportedInput},
		{spec{op: api.OpUniqueCount, in: tBool}, ErrUnsupportedInput},
		{spec{op: api.OpApproxHistogramK, in: tBin}, ErrUnsupportedInput},
		{spec{op: api.OpApproxPercentile, in: tStr}, ErrUnsupportedInput},
		{spec{op: api.OpSum, in: tDate}, ErrUnsupportedInput},
		{spec{op: api.OpCount, in: tTstamp}, ErrUnsupportedInput},
		{spec{op: api.OpLast, in: tTstamp}, ErrUnsupportedInput},
		{spec{op: api.OpLast, in: arrow.ListOf(tDate)}, ErrUnsupportedInput},
		{spec{op: api.OpFirst, in: arrow.StructOf(arrow.Field{Name: "a", Type: tI64})}, ErrUnsupportedInput},
		{spec{op: api.OpSum, in: arrow.PrimitiveTypes.Uint32}, ErrUnsupportedInput},
		{spec{op: api.OpSum, in: tLLI64}, ErrUnsupportedInput},
		{spec{op: api.OpSum, in: tMI64, bucket: true}, ErrUnsupportedInput},
		{spec{op: api.OpSum, in: tI64, elemWise: true}, ErrUnsupportedInput},
		{spec{op: api.OpSum, in: arrow.MapOf(tI64, tI64)}, ErrUnsupportedInput},
		{spec{op: api.Operation(99), in: tI64}, ErrUnsupportedInput},
		{spec{op: api.OpTopK, in: tI64}, ErrBadArg},
		{spec{op: api.OpLastK, in: tI64, args: k("0")}, ErrBadArg},
		{spec{op: api.OpFirstK, in: tI64, args: k("abc")}, ErrBadArg},
		{spec{op: api.OpHistogram, in: tStr, args: k("-1")}, ErrBadArg},
		{spec{op: api.OpApproxUniqueCount, in: tStr, args: k("x")}, ErrBadArg},
		{spec{op: api.OpApproxPercentile, in: tF64, args: k("4")}, ErrBadArg},
		{spec{op: api.OpApproxPercentile, in: tF64, args: map[string]string{"percentiles": "[0.5, 2]"}}, ErrBadArg},
		{spec{op: api.OpApproxPercentile, in: tF64, args: map[string]string{"percentiles": "oops"}}, ErrBadArg},
		{spec{op: api.OpApproxPercentile, in: tF64, args: map[string]string{"percentiles": "[]"}}, ErrBadArg},
		{spec{op: api.OpBoundedUniqueCount, in: tI64, args: k("0")}, ErrBadArg},
	}
	for _, c := range cases {
		t.Run(c.s.String(), func(t *testing.T) {
			_, err := New(c.s.part(), c.s.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("New: %v, want %v", err, c.want)
			}
			t.Log(err)
		})
	}
	// Unused args are ignored.
	if _, err := New(spec{op: api.OpSum, in: tI64, args: k("abc")}.part(), tI64); err != nil {
		t.Fatalf("SUM with k=abc: %v", err)
	}
}

func TestInputErrors(t *testing.T) {
	cases := []struct {
		s  spec
		in Input
	}{
		{spec{op: api.OpSum, in: tI64}, Input{Value: "x"}},
		{spec{op: api.OpSum, in: tI8}, Input{Value: 300}},
		{spec{op: api.OpSum, in: tI64}, Input{Value: 1.5}},
		{spec{op: api.OpSum, in: tBool}, Input{Value: 1}},
		{spec{op: api.OpMax, in: tStr}, Input{Value: 1}},
		{spec{op: api.OpLast, in: tLI64}, Input{Value: []any{"x"}}},
		{spec{op: api.OpHistogram, in: tStr}, Input{Value: []byte("x")}},
		{spec{op: api.OpSum, in: tLI64}, Input{Value: int64(1)}},
		{spec{op: api.OpSum, in: tMI64}, Input{Value: []any{int64(1)}}},
		{spec{op: api.OpSum, in: tI64, bucket: true}, Input{Value: int64(1), Bucket: 7}},
		{spec{op: api.OpSum, in: tLI64, elemWise: true}, Input{Value: []any{int64(1), nil}}},
	}
	for _, c := range cases {
		t.Run(c.s.String(), func(t *testing.T) {
			a := mustNew(t, c.s)
			ir, err := UpdateChecked(a, nil, c.in)
			var ie *InputError
			if !errors.As(err, &ie) || ir != nil {
				t.Fatalf("UpdateChecked(%v) = %v, %v; want an *InputError", c.in.Value, ir, err)
			}
			t.Log(err)
		})
	}
	a := mustNew(t, spec{op: api.OpSum, in: tI64})
	if ir, err := DeleteChecked(a, nil, Input{Value: "x"}); err == nil || ir != nil {
		t.Fatalf("DeleteChecked = %v, %v", ir, err)
	}
	if ir, err := UpdateChecked(a, nil, Input{Value: int64(2)}); err != nil || a.Finalize(ir) != int64(2) {
		t.Fatalf("UpdateChecked = %v, %v", ir, err)
	}
}

// TestDeleteToEmpty checks that deleting every input brings the IR back to
// nil, for each deletable op and shape.
func TestDeleteToEmpty(t *testing.T) {
	cases := []struct {
		s  spec
		in []Input
	}{
		{spec{op: api.OpSum, in: tI64}, vals(int64(1), int64(2), int64(-3))},
		{spec{op: api.OpSum, in: tBool}, vals(true, false)},
		{spec{op: api.OpSum, in: tF64}, vals(0.1, 0.2, math.NaN(), 1e300, -1e300)},
		{spec{op: api.OpCount, in: tStr}, vals("a", "b")},
		{spec{op: api.OpAverage, in: tF32}, vals(float32(0.1), float32(inf))},
		{spec{op: api.OpHistogram, in: tStr}, vals("a", "b", "a")},
		{spec{op: api.OpSum, in: tI64, bucket: true}, []Input{{Value: int64(1), Bucket: "a"}, {Value: int64(2), Bucket: "b"}}},
		{spec{op: api.OpSum, in: tLI64}, vals([]any{int64(1), nil, int64(2)}, []any{int64(3)})},
		{spec{op: api.OpCount, in: tMI64}, vals(map[string]any{"a": int64(1), "b": nil}, map[string]any{"b": int64(1)})},
		{spec{op: api.OpHistogram, in: tLStr, elemWise: true}, vals([]any{"a", "b"}, []any{"c"})},
	}
	for _, c := range cases {
		t.Run(c.s.String(), func(t *testing.T) {
			a := mustNew(t, c.s)
			if !a.Deletable() {
				t.Fatal("not deletable")
			}
			ir := fold(a, nil, c.in)
			if ir == nil {
				t.Fatal("nil after updates")
			}
			for i := len(c.in) - 1; i >= 0; i-- {
				ir = a.Delete(ir, c.in[i])
			}
			if ir != nil {
				t.Fatalf("after deleting everything: IR %#v, output %s", ir, show(a.Finalize(ir)))
			}
			// Deleting in arrival order works too.
			ir = fold(a, nil, c.in)
			for _, in := range c.in {
				ir = a.Delete(ir, in)
			}
			if ir != nil {
				t.Fatalf("after deleting everything in order: %s", show(a.Finalize(ir)))
			}
		})
	}
	// Deleting the longest list of an elementWise SUM shortens the output.
	a := mustNew(t, spec{op: api.OpSum, in: tLI64, elemWise: true})
	ir := fold(a, nil, vals([]any{int64(1)}, []any{int64(2), int64(3)}))
	ir = a.Delete(ir, Input{Value: []any{int64(2), int64(3)}})
	if got := a.Finalize(ir); !equalVals(got, []any{int64(1)}, 0) {
		t.Fatalf("elementWise after delete: %s", show(got))
	}
	// Non-deletable ops ignore Delete.
	m := mustNew(t, spec{op: api.OpMax, in: tI64})
	ir = fold(m, nil, vals(int64(4)))
	if m.Deletable() || m.Finalize(m.Delete(ir, Input{Value: int64(4)})) != int64(4) {
		t.Fatal("MAX delete is not a no-op")
	}
}

func TestMergeNil(t *testing.T) {
	a := mustNew(t, spec{op: api.OpTopK, in: tI64, args: k("3")})
	if a.Merge(nil, nil) != nil {
		t.Fatal("Merge(nil, nil) != nil")
	}
	x := fold(a, nil, vals(int64(1), int64(2)))
	if got := a.Finalize(a.Merge(x, nil)); !equalVals(got, []any{int64(2), int64(1)}, 0) {
		t.Fatalf("Merge(x, nil) = %s", show(got))
	}
	y := a.Merge(nil, x)
	y = a.Update(y, Input{Value: int64(9)})
	if got := a.Finalize(x); !equalVals(got, []any{int64(2), int64(1)}, 0) {
		t.Fatalf("Merge(nil, x) aliases x: %s", show(got))
	}
	if got := a.Finalize(y); !equalVals(got, []any{int64(9), int64(2), int64(1)}, 0) {
		t.Fatalf("Merge(nil, x) then update = %s", show(got))
	}
	// Merging an IR with itself doubles it.
	s := mustNew(t, spec{op: api.OpHistogram, in: tStr})
	h := fold(s, nil, vals("a"))
	if got := s.Finalize(s.Merge(h, h)); !equalVals(got, map[string]any{"a": int32(2)}, 0) {
		t.Fatalf("Merge(h, h) = %s", show(got))
	}
}

// TestMergeTies checks that Merge(a, b) treats a's inputs as arriving first.
func TestMergeTies(t *testing.T) {
	in := func(ts int64, v string) []Input { return []Input{{Value: v, Ts: ts}} }
	cases := []struct {
		s      spec
		a, b   []Input
		ab, ba any
	}{
		{spec{op: api.OpFirst, in: tStr}, in(1, "a"), in(1, "b"), "a", "b"},
		{spec{op: api.OpLast, in: tStr}, in(1, "a"), in(1, "b"), "a", "b"},
		{spec{op: api.OpLast, in: tStr}, in(1, "a"), in(2, "b"), "b", "b"},
		{spec{op: api.OpFirstK, in: tStr, args: k("3")},
			[]Input{{Value: "a1", Ts: 1}, {Value: "a2", Ts: 2}}, []Input{{Value: "b1", Ts: 1}, {Value: "b0", Ts: 0}},
			[]any{"b0", "a1", "b1"}, []any{"b0", "b1", "a1"}},
		{spec{op: api.OpLastK, in: tStr, args: k("3")},
			[]Input{{Value: "a1", Ts: 1}, {Value: "a2", Ts: 2}}, []Input{{Value: "b2", Ts: 2}, {Value: "b3", Ts: 3}},
			[]any{"b3", "a2", "b2"}, []any{"b3", "b2", "a2"}},
		{spec{op: api.OpLastK, in: tStr, args: k("1")}, in(5, "a"), in(5, "b"), []any{"a"}, []any{"b"}},
	}
	for _, c := range cases {
		t.Run(c.s.String(), func(t *testing.T) {
			a := mustNew(t, c.s)
			x, y := fold(a, nil, c.a), fold(a, nil, c.b)
			if got := a.Finalize(a.Merge(a.Clone(x), y)); !equalVals(got, c.ab, 0) {
				t.Fatalf("Merge(a, b) = %s, want %s", show(got), show(c.ab))
			}
			if got := a.Finalize(a.Merge(a.Clone(y), x)); !equalVals(got, c.ba, 0) {
				t.Fatalf("Merge(b, a) = %s, want %s", show(got), show(c.ba))
			}
			// Same as updating a's inputs then b's.
			if got := a.Finalize(fold(a, nil, append(append([]Input{}, c.a...), c.b...))); !equalVals(got, c.ab, 0) {
				t.Fatalf("Update(a..., b...) = %s, want %s", show(got), show(c.ab))
			}
		})
	}
}

// TestKahan checks a long update/delete chain of floats stays within
// 1e-9 * sum(|x|) of the exact value.
func TestKahan(t *testing.T) {
	a := mustNew(t, spec{op: api.OpSum, in: tF64})
	var ir IR
	// A sliding window of 10 values over 200000 updates of mixed magnitudes.
	xs := make([]float64, 200000)
	for i := range xs {
		xs[i] = math.Pow(10, float64(i%17-8)) * float64(1+i%7) * float64(1-2*(i%2))
	}
	const w = 10
	for i, x := range xs {
		ir = a.Update(ir, Input{Value: x})
		if i >= w {
			ir = a.Delete(ir, Input{Value: xs[i-w]})
		}
	}
	var exact, abs float64
	for _, x := range xs[len(xs)-w:] {
		exact += x
		abs += math.Abs(x)
	}
	got := a.Finalize(ir).(float64)
	if math.Abs(got-exact) > 1e-9*abs {
		t.Fatalf("sum after chain = %v, want %v (sum|x| = %v)", got, exact, abs)
	}
}

func TestOutputTypes(t *testing.T) {
	cases := []struct {
		s    spec
		want arrow.DataType
	}{
		{spec{op: api.OpSum, in: tBool}, tI64},
		{spec{op: api.OpSum, in: tI8}, tI64},
		{spec{op: api.OpSum, in: tF32}, tF64},
		{spec{op: api.OpCount, in: tLStr}, tI64},
		{spec{op: api.OpAverage, in: tI32}, tF64},
		{spec{op: api.OpMin, in: tI16}, tI16},
		{spec{op: api.OpLast, in: tLI64}, tLI64},
		{spec{op: api.OpLastK, in: tStr, args: k("2")}, arrow.ListOf(tStr)},
		{spec{op: api.OpTopK, in: tF32, args: k("2")}, arrow.ListOf(tF32)},
		{spec{op: api.OpApproxPercentile, in: tI64}, arrow.ListOf(tF32)},
		{spec{op: api.OpHistogram, in: tStr}, arrow.MapOf(tStr, tI32)},
		{spec{op: api.OpApproxHistogramK, in: tI64}, arrow.MapOf(tStr, tI64)},
		{spec{op: api.OpSum, in: tI64, bucket: true}, arrow.MapOf(tStr, tI64)},
		{spec{op: api.OpMax, in: tMF64}, arrow.MapOf(tStr, tF64)},
		{spec{op: api.OpSum, in: tLF64, elemWise: true}, arrow.ListOf(tF64)},
		{spec{op: api.OpAverage, in: tLF64}, tF64},
	}
	for _, c := range cases {
		a := mustNew(t, c.s)
		if !arrow.TypeEqual(a.OutputType(), c.want) {
			t.Errorf("%v: output type %s, want %s", c.s, a.OutputType(), c.want)
		}
	}
}
