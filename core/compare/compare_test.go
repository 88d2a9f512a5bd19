// SPDX-License-Identifier: Apache-2.0

package compare

import (
	"math"
	"testing"
)

func TestSMAPE(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	for _, c := range []struct {
		a, b, want float64
	}{
		{10, 10, 0},
		{0, 0, 0},    // Chronon: denominator 0 gives 0
		{10, 0, 2},   // 2*10/10
		{-10, 10, 2}, // 2*20/20
		{100, 110, 2 * 10.0 / 210},
		{1, 3, 1},     // 2*2/4
		{-1, -3, 1},   // signs do not matter
		{nan, nan, 0}, // identical non-finite values
		{inf, inf, 0},
		{inf, -inf, 2}, // different non-finite values: the maximum
		{nan, 1, 2},
		{5, inf, 2},
	} {
		if got := SMAPE(c.a, c.b); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("SMAPE(%v, %v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestEqual(t *testing.T) {
	var tol Tolerance
	for _, c := range []struct {
		a, b any
		want bool
	}{
		{int64(3), int64(3), true},
		{int64(3), int32(3), true}, // widths differ, values agree
		{int64(3), int64(4), false},
		{int64(math.MaxInt64), int64(math.MaxInt64 - 1), false}, // exact, not through float64
		{int64(3), 3.0, true},
		{0.1 + 0.2, 0.3, true},         // rounding residue
		{0.1 + 0.2 - 0.3, 0.0, true},   // cancellation near zero: absolute bound
		{1e12, 1e12 + 1e-1, true},      // relative 1e-13
		{1e12, 1e12 + 1e4, false},      // relative 1e-8
		{1.0, 1.0 + 1e-8, false},       // beyond both bounds
		{math.NaN(), math.NaN(), true}, // NaN equals NaN
		{math.NaN(), 1.0, false},
		{math.Inf(1), math.Inf(1), true},
		{math.Inf(1), math.MaxFloat64, false},
		{"a", "a", true},
		{"a", "b", false},
		{"1", int64(1), false},
		{true, true, true},
		{true, false, false},
		{[]byte("x"), []byte("x"), true},
		{[]any{int64(1), 2.0, nil}, []any{int64(1), 2.0 + 1e-15, nil}, true},
		{[]any{int64(1), int64(2)}, []any{int64(2), int64(1)}, false}, // order matters (LAST_K)
		{[]any{int64(1)}, []any{int64(1), int64(1)}, false},
		{[]any{nil}, []any{int64(0)}, false},
		{map[string]any{"a": int64(1), "b": 0.5}, map[string]any{"b": 0.5, "a": int64(1)}, true},
		{map[string]any{"a": int64(1)}, map[string]any{"a": int64(2)}, false},
		{map[string]any{"a": int64(1)}, map[string]any{"b": int64(1)}, false},
		{map[string]any{"a": int64(1)}, map[string]any{"a": int64(1), "b": nil}, false},
		{[]any{map[string]any{"k": []any{1.0}}}, []any{map[string]any{"k": []any{1.0}}}, true},
	} {
		if got := Equal(c.a, c.b, tol); got != c.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
	// A custom tolerance replaces the default; a negative bound is off.
	if !Equal(1.0, 1.001, Tolerance{Rel: 1e-2}) || Equal(1e-13, 0.0, Tolerance{Abs: -1}) {
		t.Error("custom tolerance not applied")
	}
}

// TestMetrics adds hand-classified pairs and checks every count, the
// rates and SMAPE.
func TestMetrics(t *testing.T) {
	var m Metrics
	var tol Tolerance
	pairs := []struct{ offline, online any }{
		{int64(10), int64(10)}, // equal, smape 0
		{int64(10), int64(30)}, // mismatch, smape 2*20/40 = 1
		{nil, nil},             // both null
		{int64(5), nil},        // missing: online null, offline present
		{nil, int64(5)},        // extra: online present, offline null
		{0.0, 0.0},             // equal, smape 0 (zero denominator)
		{math.NaN(), 1.0},      // mismatch, smape 2
	}
	for _, p := range pairs {
		m.Add(p.offline, p.online, tol)
	}
	want := Metrics{Total: 7, BothNull: 1, Missing: 1, Extra: 1, Mismatch: 2, SMAPESum: 3, SMAPECount: 4}
	if m != want {
		t.Fatalf("metrics %+v, want %+v", m, want)
	}
	if r, ok := m.MismatchRate(); !ok || r != 2.0/7 {
		t.Errorf("mismatch rate %v %v", r, ok)
	}
	if r, ok := m.InconsistentRate(); !ok || r != 4.0/7 {
		t.Errorf("inconsistent rate %v %v", r, ok)
	}
	if s, ok := m.SMAPE(); !ok || s != 0.75 {
		t.Errorf("smape %v %v, want 0.75", s, ok)
	}

	// Strings: no SMAPE; an empty Metrics has no rates.
	var s Metrics
	s.Add("a", "b", tol)
	s.Add("a", "a", tol)
	if _, ok := s.SMAPE(); ok || s.Mismatch != 1 || s.Total != 2 {
		t.Errorf("string metrics %+v", s)
	}
	var empty Metrics
	if _, ok := empty.MismatchRate(); ok {
		t.Error("empty metrics have a mismatch rate")
	}

	// Merge adds up: the halves merged equal the whole.
	var a, b Metrics
	for i, p := range pairs {
		if i%2 == 0 {
			a.Add(p.offline, p.online, tol)
		} else {
			b.Add(p.offline, p.online, tol)
		}
	}
	a.Merge(b)
	if a != m {
		t.Errorf("merged %+v, want %+v", a, m)
	}
}

// TestDatesAreNotNumbers: a named integer type (expr.Date) compares by
// value but gets no SMAPE term.
func TestDatesAreNotNumbers(t *testing.T) {
	type date int32
	var m Metrics
	m.Add(date(19000), date(19000), Tolerance{})
	m.Add(date(19000), date(19001), Tolerance{})
	if _, ok := m.SMAPE(); ok || m.Mismatch != 1 {
		t.Errorf("metrics %+v", m)
	}
}
