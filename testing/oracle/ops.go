// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"math"
	"math/big"
	"sort"
	"strconv"

	"github.com/chronon-go/chronon/core/api"
)

// Precisions (mantissa bits) of the math/big computations. sumPrec makes any
// sum of fewer than 2^100 float64 or int64 values exact (their bits span
// 2^-1074 .. 2^1024). momentPrec leaves central moments with a relative
// error around n * 2^-500, far below float64 rounding.
const (
	sumPrec    = 2200
	momentPrec = 512
)

// leafValue computes the op's value over the inputs of one leaf (non-empty,
// in arrival order).
func (p *plan) leafValue(items []item) any {
	switch p.part.Operation {
	case api.OpCount:
		return int64(len(items))
	case api.OpSum:
		if !isFloat(p.elem) {
			var s int64 // wraps on overflow, as Java's long does
			for _, it := range items {
				s += toInt64(it.v)
			}
			return s
		}
		if !allFinite(items) {
			return nil
		}
		f, _ := exactSum(items).Float64()
		return sane(f)
	case api.OpAverage:
		if !allFinite(items) {
			return nil
		}
		s := exactSum(items)
		q := new(big.Float).SetPrec(sumPrec).Quo(s, big.NewFloat(float64(len(items))))
		f, _ := q.Float64()
		return sane(f)
	case api.OpVariance, api.OpSkew, api.OpKurtosis:
		if !allFinite(items) {
			return nil
		}
		return moment(p.part.Operation, items)
	case api.OpMin, api.OpMax:
		best := items[0].v
		for _, it := range items[1:] {
			c := compareValues(it.v, best)
			if p.part.Operation == api.OpMin && c < 0 || p.part.Operation == api.OpMax && c > 0 {
				best = it.v
			}
		}
		return saneScalar(best)
	case api.OpFirst, api.OpLast:
		best := items[0]
		for _, it := range items[1:] {
			if p.part.Operation == api.OpFirst && it.ts < best.ts || p.part.Operation == api.OpLast && it.ts > best.ts {
				best = it
			}
		}
		return saneScalar(best.v)
	case api.OpFirstK, api.OpLastK:
		s := append([]item(nil), items...)
		if p.part.Operation == api.OpFirstK {
			sort.SliceStable(s, func(i, j int) bool { return s[i].ts < s[j].ts })
		} else {
			sort.SliceStable(s, func(i, j int) bool { return s[i].ts > s[j].ts })
		}
		out := make([]any, 0, min(p.k, len(s)))
		for _, it := range s[:min(p.k, len(s))] {
			out = append(out, it.v)
		}
		return out
	case api.OpTopK, api.OpBottomK:
		vals := values(items)
		sign := 1
		if p.part.Operation == api.OpTopK {
			sign = -1
		}
		sort.SliceStable(vals, func(i, j int) bool { return sign*compareValues(vals[i], vals[j]) < 0 })
		return append([]any{}, vals[:min(p.k, len(vals))]...)
	case api.OpUniqueCount, api.OpApproxUniqueCount:
		return int64(distinct(items))
	case api.OpBoundedUniqueCount:
		return int64(min(distinct(items), p.k))
	case api.OpApproxPercentile:
		s := sortedFloats(items)
		if len(s) == 0 {
			return nil
		}
		out := make([]any, len(p.percentiles))
		for i, q := range p.percentiles {
			out[i] = float32(s[percentileIndex(q, len(s))])
		}
		return out
	case api.OpHistogram:
		out := map[string]any{}
		for k, c := range topCounts(histogram(items), p.k) {
			out[k] = int32(c)
		}
		return out
	case api.OpApproxHistogramK:
		out := map[string]any{}
		for k, c := range topCounts(histogram(items), p.k) {
			out[k] = int64(c)
		}
		return out
	}
	panic("unreachable")
}

// saneScalar nulls a NaN or infinite float and returns anything else as is.
func saneScalar(v any) any {
	switch x := v.(type) {
	case float64:
		if !finite(x) {
			return nil
		}
	case float32:
		if !finite(float64(x)) {
			return nil
		}
	}
	return v
}

func values(items []item) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

// allFinite reports whether no input is a NaN or infinite float.
func allFinite(items []item) bool {
	for _, it := range items {
		switch x := it.v.(type) {
		case float32:
			if !finite(float64(x)) {
				return false
			}
		case float64:
			if !finite(x) {
				return false
			}
		}
	}
	return true
}

// bigOf returns a finite numeric (or bool) input exactly as a big.Float.
func bigOf(v any, prec uint) *big.Float {
	f := new(big.Float).SetPrec(prec)
	switch x := v.(type) {
	case float32:
		return f.SetFloat64(float64(x))
	case float64:
		return f.SetFloat64(x)
	}
	return f.SetInt64(toInt64(v))
}

// exactSum returns the exact sum of finite numeric inputs.
func exactSum(items []item) *big.Float {
	s := new(big.Float).SetPrec(sumPrec)
	for _, it := range items {
		s.Add(s, bigOf(it.v, sumPrec))
	}
	return s
}

// centralMoments returns n and the central moment sums m2, m3, m4
// (sum of (x - mean)^k) of finite numeric inputs.
func centralMoments(items []item) (n float64, m2, m3, m4 *big.Float) {
	newF := func() *big.Float { return new(big.Float).SetPrec(momentPrec) }
	n = float64(len(items))
	mean := newF().Quo(exactSum(items), big.NewFloat(n))
	m2, m3, m4 = newF(), newF(), newF()
	for _, it := range items {
		d := newF().Sub(bigOf(it.v, sumPrec), mean)
		d2 := newF().Mul(d, d)
		m2.Add(m2, d2)
		m3.Add(m3, newF().Mul(d2, d))
		m4.Add(m4, newF().Mul(d2, d2))
	}
	return n, m2, m3, m4
}

// moment computes VARIANCE (m2/n), SKEW (sqrt(n)*m3/m2^1.5; null if n < 3 or
// m2 == 0) or KURTOSIS (n*m4/m2^2 - 3; null if n < 4 or m2 == 0).
func moment(op api.Operation, items []item) any {
	n, m2, m3, m4 := centralMoments(items)
	newF := func() *big.Float { return new(big.Float).SetPrec(momentPrec) }
	bn := big.NewFloat(n)
	var r *big.Float
	switch op {
	case api.OpVariance:
		r = newF().Quo(m2, bn)
	case api.OpSkew:
		if n < 3 || m2.Sign() == 0 {
			return nil
		}
		den := newF().Mul(m2, newF().Sqrt(m2))
		r = newF().Quo(newF().Mul(newF().Sqrt(bn), m3), den)
	case api.OpKurtosis:
		if n < 4 || m2.Sign() == 0 {
			return nil
		}
		r = newF().Quo(newF().Mul(bn, m4), newF().Mul(m2, m2))
		r.Sub(r, big.NewFloat(3))
	}
	f, _ := r.Float64()
	return sane(f)
}

// distinct counts distinct inputs (see distinctKey).
func distinct(items []item) int {
	seen := map[any]bool{}
	for _, it := range items {
		seen[distinctKey(it.v)] = true
	}
	return len(seen)
}

// sortedFloats returns the numeric inputs as float64, NaNs dropped, sorted
// ascending.
func sortedFloats(items []item) []float64 {
	var s []float64
	for _, it := range items {
		if f := toFloat64(it.v); !math.IsNaN(f) {
			s = append(s, f)
		}
	}
	sort.Float64s(s)
	return s
}

// percentileIndex is the oracle's exact percentile rule: the index
// round-half-down(p*(n-1)) = ceil(p*(n-1) - 0.5) of n sorted values.
func percentileIndex(p float64, n int) int {
	i := int(math.Ceil(p*float64(n-1) - 0.5))
	return max(0, min(n-1, i))
}

// HistogramKey is the key of a value in HISTOGRAM and APPROX_HISTOGRAM_K
// outputs: a string as is, an integer in decimal, a float as the shortest
// decimal that reads back to the same float32 or float64 (strconv 'g', -1;
// "NaN", "+Inf", "-Inf").
func HistogramKey(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strconv.FormatInt(toInt64(v), 10)
}

// histogram counts inputs per HistogramKey.
func histogram(items []item) map[string]int {
	h := map[string]int{}
	for _, it := range items {
		h[HistogramKey(it.v)]++
	}
	return h
}

// rankedKeys returns h's keys by count descending, ties by key ascending
// (byte order).
func rankedKeys(h map[string]int) []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if h[keys[i]] != h[keys[j]] {
			return h[keys[i]] > h[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// topCounts keeps the k entries of h with the largest counts (ties: smaller
// key first); k <= 0 keeps all.
func topCounts(h map[string]int, k int) map[string]int {
	if k <= 0 || len(h) <= k {
		return h
	}
	out := map[string]int{}
	for _, key := range rankedKeys(h)[:k] {
		out[key] = h[key]
	}
	return out
}
