// SPDX-License-Identifier: Apache-2.0

package compare

import (
	"bytes"
	"math"
	"reflect"
	"time"
)

// Tolerance bounds how far two floating-point numbers may differ and still
// be equal: |a-b| <= Abs or |a-b| <= Rel * max(|a|, |b|). A zero field
// means the default (Rel 1e-9, Abs 1e-12); a negative one disables that
// bound.
type Tolerance struct {
	// Rel is the relative tolerance. The default value is 1e-9.
	Rel float64
	// Abs is the absolute tolerance, for results near zero where
	// cancellation leaves rounding residue (0.1+0.2-0.3). The default value
	// is 1e-12.
	Abs float64
}

// Default tolerances.
const (
	DefaultRel = 1e-9
	DefaultAbs = 1e-12
)

// EnsureDefaults returns t with zero fields set to their defaults.
func (t Tolerance) EnsureDefaults() Tolerance {
	if t.Rel == 0 {
		t.Rel = DefaultRel
	}
	if t.Abs == 0 {
		t.Abs = DefaultAbs
	}
	return t
}

// floatEqual compares two floats under t (defaults already applied).
func (t Tolerance) floatEqual(a, b float64) bool {
	if a == b || math.IsNaN(a) && math.IsNaN(b) {
		return true
	}
	if math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0) {
		return false
	}
	d := math.Abs(a - b)
	return d <= t.Abs || d <= t.Rel*math.Max(math.Abs(a), math.Abs(b))
}

// Equal reports whether two non-null values are the same feature value:
// numbers numerically (integers exactly, floats under t), lists element by
// element, maps and structs (map[string]any) key by key, anything else with
// ==. Values follow core/expr's Go value convention.
func Equal(a, b any, t Tolerance) bool {
	return equal(a, b, t.EnsureDefaults())
}

func equal(a, b any, t Tolerance) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if ai, ok := integer(a); ok {
		if bi, ok := integer(b); ok {
			return ai == bi
		}
	}
	if af, ok := Number(a); ok {
		bf, ok := Number(b)
		return ok && t.floatEqual(af, bf)
	}
	switch av := a.(type) {
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for i := range av {
			if !equal(av[i], bv[i], t) {
				return false
			}
		}
		return true
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k, x := range av {
			y, ok := bv[k]
			if !ok || !equal(x, y, t) {
				return false
			}
		}
		return true
	case []byte:
		bv, ok := b.([]byte)
		return ok && bytes.Equal(av, bv)
	case time.Time:
		bv, ok := b.(time.Time)
		return ok && av.Equal(bv)
	}
	if reflect.TypeOf(a).Comparable() && reflect.TypeOf(a) == reflect.TypeOf(b) {
		return a == b
	}
	return reflect.DeepEqual(a, b)
}

// integer returns v as an int64 if it is a signed or unsigned integer
// that fits. Named types (expr.Date) are not numbers.
func integer(v any) (int64, bool) {
	rv := builtin(v)
	switch {
	case rv.CanInt():
		return rv.Int(), true
	case rv.CanUint():
		return int64(rv.Uint()), rv.Uint() <= math.MaxInt64
	}
	return 0, false
}

// Number returns v as a float64 if it is a number (an integer or a float).
func Number(v any) (float64, bool) {
	rv := builtin(v)
	switch {
	case rv.CanInt():
		return float64(rv.Int()), true
	case rv.CanUint():
		return float64(rv.Uint()), true
	case rv.CanFloat():
		return rv.Float(), true
	}
	return 0, false
}

// builtin returns v's reflect.Value if its type is a predeclared one, and
// the zero Value (no number) otherwise.
func builtin(v any) reflect.Value {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || rv.Type().PkgPath() != "" {
		return reflect.Value{}
	}
	return rv
}

// SMAPE returns the symmetric absolute percentage error of one pair,
// 2|a-b| / (|a|+|b|), or 0 when |a|+|b| is 0 (Chronon's CompareMetrics
// smape expression). A pair with a non-finite value gives 0 if the two are
// identical (both NaN, or the same infinity) and 2 otherwise.
func SMAPE(a, b float64) float64 {
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
	if !finite(a) || !finite(b) {
		if a == b || math.IsNaN(a) && math.IsNaN(b) {
			return 0
		}
		return 2
	}
	denom := math.Abs(a) + math.Abs(b)
	if denom == 0 {
		return 0
	}
	return 2 * math.Abs(a-b) / denom
}

// Metrics accumulates the comparison of one column's (offline, online)
// value pairs. The zero value is ready to use. It is not safe for
// concurrent use; combine per-goroutine Metrics with Merge.
type Metrics struct {
	// Total counts every pair added.
	Total int64
	// BothNull, Missing, Extra and Mismatch count the pair classes (see
	// the package doc); pairs in none of them are equal.
	BothNull, Missing, Extra, Mismatch int64
	// SMAPESum and SMAPECount are the sum and number of SMAPE terms (pairs
	// of two numbers).
	SMAPESum   float64
	SMAPECount int64
}

// Add classifies one pair: offline is the value the offline engine
// computed, online the value served (and logged); nil is null.
func (m *Metrics) Add(offline, online any, t Tolerance) {
	m.Total++
	switch {
	case offline == nil && online == nil:
		m.BothNull++
		return
	case online == nil:
		m.Missing++
		return
	case offline == nil:
		m.Extra++
		return
	}
	if !Equal(offline, online, t) {
		m.Mismatch++
	}
	if a, ok := Number(offline); ok {
		if b, ok := Number(online); ok {
			m.SMAPESum += SMAPE(a, b)
			m.SMAPECount++
		}
	}
}

// Merge adds o's counts to m.
func (m *Metrics) Merge(o Metrics) {
	m.Total += o.Total
	m.BothNull += o.BothNull
	m.Missing += o.Missing
	m.Extra += o.Extra
	m.Mismatch += o.Mismatch
	m.SMAPESum += o.SMAPESum
	m.SMAPECount += o.SMAPECount
}

// MismatchRate is Mismatch / Total (Chronon's mismatch metric over the
// total count), and false when nothing was compared.
func (m Metrics) MismatchRate() (float64, bool) {
	return ratio(m.Mismatch, m.Total)
}

// InconsistentRate is (Mismatch + Missing + Extra) / Total: the share of
// rows whose online value differs from the offline one in any way, and
// false when nothing was compared.
func (m Metrics) InconsistentRate() (float64, bool) {
	return ratio(m.Inconsistent(), m.Total)
}

// Inconsistent counts the pairs that are not equal: Mismatch + Missing +
// Extra.
func (m Metrics) Inconsistent() int64 { return m.Mismatch + m.Missing + m.Extra }

// SMAPE is the mean SMAPE term, and false when no pair of two numbers was
// added (a non-numeric column, or only nulls).
func (m Metrics) SMAPE() (float64, bool) {
	if m.SMAPECount == 0 {
		return 0, false
	}
	return m.SMAPESum / float64(m.SMAPECount), true
}

func ratio(n, d int64) (float64, bool) {
	if d == 0 {
		return 0, false
	}
	return float64(n) / float64(d), true
}
