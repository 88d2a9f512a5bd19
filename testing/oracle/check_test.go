// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

type checkCase struct {
	name   string
	part   api.AggregationPart
	input  arrow.DataType
	events []Event
	opts   CheckOptions
	got    any
	ok     bool
	substr string // in the error when !ok
}

func runCheckCases(t *testing.T, cases []checkCase) {
	t.Helper()
	for _, c := range cases {
		err := Check(c.part, c.input, c.events, tQuery, Exact, c.got, c.opts)
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: rejected: %v", c.name, err)
		case !c.ok && err == nil:
			t.Errorf("%s: accepted %s", c.name, show(c.got))
		case !c.ok && !strings.Contains(err.Error(), c.substr):
			t.Errorf("%s: error %q does not contain %q", c.name, err, c.substr)
		}
	}
}

func TestCheckExact(t *testing.T) {
	ints := xs(int64(1), int64(2), int64(3))
	runCheckCases(t, []checkCase{
		{"COUNT exact", part(api.OpCount), tI64, ints, CheckOptions{}, int64(3), true, ""},
		{"COUNT off by one", part(api.OpCount), tI64, ints, CheckOptions{}, int64(4), false, "x_count at T=1000: got 4 (int64), want 3 (int64)"},
		{"COUNT wrong Go type", part(api.OpCount), tI64, ints, CheckOptions{}, 3, false, "got 3 (int), want 3 (int64)"},
		{"COUNT 0 for null", part(api.OpCount), tI64, nil, CheckOptions{}, int64(0), false, "no counted input"},
		{"null for null", part(api.OpCount), tI64, nil, CheckOptions{}, nil, true, ""},
		{"SUM int must be exact", part(api.OpSum), tI64, ints, CheckOptions{}, int64(7), false, "want 6"},
		{"MIN int16 type", part(api.OpMin), tI16, xs(int16(2)), CheckOptions{}, int64(2), false, "want 2 (int16)"},
		{"LAST_K order matters", part(api.OpLastK, "k", "2"), tStr, xs("a", "b"), CheckOptions{}, l("a", "b"), false, `want ["b", "a"]`},
		{"LAST_K ok", part(api.OpLastK, "k", "2"), tStr, xs("a", "b"), CheckOptions{}, l("b", "a"), true, ""},
		{"TOP_K NaN equals NaN", part(api.OpTopK, "k", "1"), tF64, xs(nan, 1.0), CheckOptions{}, l(nan), true, ""},
		{"UNIQUE_COUNT exact", part(api.OpUniqueCount), tBin, xs([]byte{1}, []byte{1}), CheckOptions{}, int64(1), true, ""},
		{"HISTOGRAM int32 counts", part(api.OpHistogram), tStr, xs("a", "a"), CheckOptions{}, m{"a": int64(2)}, false, "want {\"a\": 2 (int32)}"},
		{"bucket keys must match", bucketed(part(api.OpSum)), tI64, xb(int64(1), "u", int64(2), "v"), CheckOptions{},
			m{"u": int64(1), "w": int64(2)}, false, `keys missing ["v"], unexpected ["w"]`},
		{"bucket value names its path", bucketed(part(api.OpSum)), tI64, xb(int64(1), "u", int64(2), "v"), CheckOptions{},
			m{"u": int64(1), "v": int64(3)}, false, `x_sum_by_b at T=1000 ["v"]: got 3 (int64), want 2 (int64)`},
		{"empty bucket map is not null", bucketed(part(api.OpSum)), tI64, xb(int64(1), nil), CheckOptions{}, m{}, false, "no counted input"},
		{"typed nil map is not null", bucketed(part(api.OpSum)), tI64, nil, CheckOptions{}, map[string]any(nil), false, "untyped nil"},
		{"elementWise length", elementWise(part(api.OpSum)), arrow.ListOf(tI64), xs(l(int64(1), int64(2))), CheckOptions{},
			l(int64(1)), false, "length 2"},
		{"elementWise index path", elementWise(part(api.OpSum)), arrow.ListOf(tI64), xs(l(int64(1), int64(2))), CheckOptions{},
			l(int64(1), int64(3)), false, "[1]: got 3"},
	})
}

func TestCheckFloat(t *testing.T) {
	f := xs(1.0, 2.0, 3.0) // sum |x| = 6: SUM and AVERAGE tolerance 6e-9
	runCheckCases(t, []checkCase{
		{"SUM within", part(api.OpSum), tF64, f, CheckOptions{}, 6 + 5e-9, true, ""},
		{"SUM outside", part(api.OpSum), tF64, f, CheckOptions{}, 6 + 7e-9, false, "exceeds tolerance 6e-09"},
		{"SUM below", part(api.OpSum), tF64, f, CheckOptions{}, 6 - 7e-9, false, "exceeds tolerance"},
		{"SUM custom tolerance", part(api.OpSum), tF64, f, CheckOptions{FloatTol: 1e-6}, 6 + 5e-6, true, ""},
		{"AVERAGE within", part(api.OpAverage), tI64, xs(int64(1), int64(2), int64(3)), CheckOptions{}, 2 + 5e-9, true, ""},
		{"AVERAGE outside", part(api.OpAverage), tI64, xs(int64(1), int64(2), int64(3)), CheckOptions{}, 2 + 1e-8, false, "exceeds"},
		{"AVERAGE float32 is not float64", part(api.OpAverage), tI64, xs(int64(2)), CheckOptions{}, float32(2), false, "want a float64"},
		{"AVERAGE null vs 0", part(api.OpAverage), tF64, xs(nan), CheckOptions{}, 0.0, false, "want null"},
		{"AVERAGE NaN is not null", part(api.OpAverage), tF64, xs(nan), CheckOptions{}, nan, false, "want null"},
		{"AVERAGE 0 vs null", part(api.OpAverage), tF64, xs(0.0), CheckOptions{}, nil, false, "got null"},
		// VARIANCE of 1,2,3 = 2/3; tolerance 1e-9 * (6 + 14/3)
		{"VARIANCE within", part(api.OpVariance), tF64, f, CheckOptions{}, 2.0/3 + 1e-8, true, ""},
		{"VARIANCE outside", part(api.OpVariance), tF64, f, CheckOptions{}, 2.0/3 + 1.1e-8, false, "exceeds"},
		// KURTOSIS of 1,2,3,4 = -1.36; c = 16/1.25 = 12.8; tolerance 1e-9 * (10 + 12.8^2 * 5.36) = 8.88e-7
		{"KURTOSIS within", part(api.OpKurtosis), tI64, xs(int64(1), int64(2), int64(3), int64(4)), CheckOptions{}, -1.36 + 8e-7, true, ""},
		{"KURTOSIS outside", part(api.OpKurtosis), tI64, xs(int64(1), int64(2), int64(3), int64(4)), CheckOptions{}, -1.36 + 1e-6, false, "exceeds"},
		{"SKEW null for n < 3", part(api.OpSkew), tF64, xs(1.0, 2.0), CheckOptions{}, 0.0, false, "want null"},
		{"bucketed float per bucket", bucketed(part(api.OpSum)), tF64, xb(1.0, "u", 1000.0, "v"), CheckOptions{},
			m{"u": 1 + 2e-9, "v": 1000.0}, false, `["u"]`},
		{"bucketed NaN bucket is null", bucketed(part(api.OpSum)), tF64, xb(nan, "u"), CheckOptions{}, m{"u": nil}, true, ""},
	})
}

func TestCheckApproxUniqueCount(t *testing.T) {
	var evs []Event
	for i := range 100 {
		evs = append(evs, Event{Ts: int64(i), Values: m{"x": int64(i % 100)}})
	}
	p := part(api.OpApproxUniqueCount) // lgK 8: default relative error 0.325
	runCheckCases(t, []checkCase{
		{"exact", p, tI64, evs, CheckOptions{}, int64(100), true, ""},
		{"within default", p, tI64, evs, CheckOptions{}, int64(132), true, ""},
		{"outside default", p, tI64, evs, CheckOptions{}, int64(134), false, "HLLRelErr 0.325"},
		{"outside given", p, tI64, evs, CheckOptions{HLLRelErr: 0.1}, int64(112), false, "exceeds"},
		{"within given", p, tI64, evs, CheckOptions{HLLRelErr: 0.1}, int64(111), true, ""},
		{"larger lgK is stricter", part(api.OpApproxUniqueCount, "k", "12"), tI64, evs, CheckOptions{}, int64(110), false, "exceeds"},
		{"small counts may be off by one", p, tI64, xs(int64(1), int64(2)), CheckOptions{}, int64(1), true, ""},
		{"int64 type", p, tI64, evs, CheckOptions{}, 100.0, false, "want an int64"},
	})
}

func TestCheckApproxPercentile(t *testing.T) {
	var evs []Event
	for i := 100; i >= 1; i-- {
		evs = append(evs, Event{Ts: int64(i), Values: m{"x": float64(i)}})
	}
	// n = 100, p = 0.5: rank 49.5 ± 5 -> ranks [44, 55] -> values [45, 56]
	p := part(api.OpApproxPercentile, "percentiles", "[0.5]")
	opts := CheckOptions{RankErr: 0.05}
	runCheckCases(t, []checkCase{
		{"exact", p, tF64, evs, opts, l(float32(50)), true, ""},
		{"low edge", p, tF64, evs, opts, l(float32(45)), true, ""},
		{"high edge", p, tF64, evs, opts, l(float32(56)), true, ""},
		{"between inputs", p, tF64, evs, opts, l(float32(50.5)), true, ""},
		{"below", p, tF64, evs, opts, l(float32(44.9)), false, "outside [45, 56]"},
		{"above", p, tF64, evs, opts, l(float32(56.1)), false, "outside"},
		{"default rank error (0.0616 for k=128)", p, tF64, evs, CheckOptions{}, l(float32(56.5)), true, ""},
		{"wrong length", p, tF64, evs, opts, l(float32(50), float32(50)), false, "want a []any of 1 float32"},
		{"float64 element", p, tF64, evs, opts, l(50.0), false, "not a float32"},
		{"null for NaN only", p, tF64, xs(nan), opts, nil, true, ""},
		{"not null for NaN only", p, tF64, xs(nan), opts, l(float32(0)), false, "want null"},
	})
}

func TestCheckApproxHistogram(t *testing.T) {
	runCheckCases(t, []checkCase{
		{"exact with <= k distinct", part(api.OpApproxHistogramK, "k", "2"), tI64, xs(int64(1), int64(1), int64(2)), CheckOptions{},
			m{"1": int64(2), "2": int64(1)}, true, ""},
		{"exact count required with <= k distinct", part(api.OpApproxHistogramK, "k", "2"), tI64, xs(int64(1), int64(1), int64(2)), CheckOptions{},
			m{"1": int64(1), "2": int64(1)}, false, "counted exactly"},
		{"float keys compare as numbers", part(api.OpApproxHistogramK), tF64, xs(1.0, 1.5, 1.0), CheckOptions{},
			m{"1.0": int64(2), "1.5E0": int64(1)}, true, ""},
		{"float32 keys", part(api.OpApproxHistogramK), tF32, xs(float32(0.1)), CheckOptions{},
			m{"0.10000000149011612": int64(1)}, true, ""},
		{"duplicate keys", part(api.OpApproxHistogramK), tF64, xs(1.0), CheckOptions{},
			m{"1.0": int64(1), "1": int64(1)}, false, "two keys"},
		{"bad key", part(api.OpApproxHistogramK), tI64, xs(int64(1)), CheckOptions{}, m{"one": int64(1)}, false, "not a int64"},
	})
	// More than k distinct: N = 13, HistErr 0.1 -> slack 1.3.
	evs := xs("a", "a", "a", "a", "a", "a", "a", "a", "a", "a", "b", "c", "d")
	p := part(api.OpApproxHistogramK, "k", "2")
	opts := CheckOptions{HistErr: 0.1}
	runCheckCases(t, []checkCase{
		{"sketch exact", p, tStr, evs, opts, m{"a": int64(10), "b": int64(1)}, true, ""},
		{"sketch within slack", p, tStr, evs, opts, m{"a": int64(9), "d": int64(2)}, true, ""},
		{"sketch outside slack", p, tStr, evs, opts, m{"a": int64(8), "c": int64(1)}, false, "beyond 1.3"},
		{"sketch too many entries", p, tStr, evs, opts, m{"a": int64(10), "b": int64(1), "c": int64(1)}, false, "more than k"},
		{"sketch unknown key", p, tStr, evs, opts, m{"a": int64(10), "z": int64(1)}, false, "no counted input"},
		// k-th largest count is 1, so "a" (10 > 1 + 2.6) must be present
		{"sketch misses a heavy hitter", p, tStr, evs, opts, m{"b": int64(1), "c": int64(1)}, false, `"a" (true count 10) missing`},
	})
}
