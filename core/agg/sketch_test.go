// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/chronon-go/chronon/core/api"
)

// TestHLLAccuracy checks APPROX_UNIQUE_COUNT within 3 standard errors
// (1.04/sqrt(2^p)) on 1e4..1e5 distinct values, directly and merged.
func TestHLLAccuracy(t *testing.T) {
	for _, c := range []struct {
		lgk  int
		n    int
		strs bool
	}{
		{8, 10000, false}, {8, 100000, true}, {12, 10000, true}, {12, 100000, false}, {14, 50000, false}, {4, 10000, false},
	} {
		t.Run(fmt.Sprintf("lgk=%d/n=%d/strings=%v", c.lgk, c.n, c.strs), func(t *testing.T) {
			s := spec{op: api.OpApproxUniqueCount, in: tI64, args: k(strconv.Itoa(c.lgk))}
			if c.strs {
				s.in = tStr
			}
			a := mustNew(t, s)
			value := func(i int) any {
				if c.strs {
					return "user-" + strconv.Itoa(i)
				}
				return int64(i) * 7919
			}
			var all, left, right IR
			for i := 0; i < c.n; i++ {
				in := Input{Value: value(i)}
				all = a.Update(all, in)
				// Halves overlap by 10% to exercise the union.
				if i < c.n*6/10 {
					left = a.Update(left, in)
				}
				if i >= c.n/2 {
					right = a.Update(right, in)
				}
			}
			se := 1.04 / math.Sqrt(float64(int(1)<<c.lgk))
			for name, ir := range map[string]IR{"all": all, "merged": a.Merge(left, right), "decoded": roundTrip(t, a, all)} {
				est := a.Finalize(ir).(int64)
				rel := math.Abs(float64(est)-float64(c.n)) / float64(c.n)
				t.Logf("%s: estimate %d of %d (error %.2f%%, 3σ = %.2f%%)", name, est, c.n, 100*rel, 300*se)
				if rel > 3*se {
					t.Errorf("%s: estimate %d of %d: error %.3f > 3σ %.3f", name, est, c.n, rel, 3*se)
				}
			}
		})
	}
}

// TestHLLSmallExact checks the sparse sketch is exact for small counts.
func TestHLLSmallExact(t *testing.T) {
	a := mustNew(t, spec{op: api.OpApproxUniqueCount, in: tF64})
	var ir IR
	for i := 1; i <= 50; i++ {
		ir = a.Update(ir, Input{Value: float64(i) / 3})
		ir = a.Update(ir, Input{Value: float64(i) / 3})
		if got := a.Finalize(ir).(int64); got != int64(i) {
			t.Fatalf("after %d distinct: %d", i, got)
		}
	}
}

// rankError returns how far v's rank range in sorted is from target, as a
// fraction of n.
func rankError(sorted []float32, v float32, target float64) float64 {
	lo := sort.Search(len(sorted), func(i int) bool { return sorted[i] >= v })
	hi := sort.Search(len(sorted), func(i int) bool { return sorted[i] > v }) - 1
	n := float64(len(sorted))
	switch {
	case hi < lo:
		return math.Inf(1) // not an input value
	case target < float64(lo):
		return (float64(lo) - target) / n
	case target > float64(hi):
		return (target - float64(hi)) / n
	}
	return 0
}

// TestKLLAccuracy checks APPROX_PERCENTILE on 1e5 values against exact
// quantiles: the rank error stays within the documented bound (2% of n at
// k = 128, 1.3% at k = 200, 0.3% at k = 1024), directly, merged from parts
// and after encoding.
func TestKLLAccuracy(t *testing.T) {
	ps := []float64{0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1}
	psJSON := "[0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1]"
	const n = 100000
	for _, c := range []struct {
		name  string
		k     int
		bound float64
		data  func(r *rand.Rand, i int) float64
	}{
		{"uniform", 128, 0.02, func(r *rand.Rand, _ int) float64 { return r.Float64() }},
		{"normal", 128, 0.02, func(r *rand.Rand, _ int) float64 { return r.NormFloat64() }},
		{"sorted", 128, 0.02, func(_ *rand.Rand, i int) float64 { return float64(i) }},
		{"reversed", 128, 0.02, func(_ *rand.Rand, i int) float64 { return float64(n - i) }},
		{"few values", 128, 0.02, func(r *rand.Rand, _ int) float64 { return float64(r.IntN(10)) }},
		{"k=200", 200, 0.013, func(r *rand.Rand, _ int) float64 { return r.ExpFloat64() }},
		{"k=1024", 1024, 0.003, func(r *rand.Rand, _ int) float64 { return r.Float64() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := mustNew(t, spec{op: api.OpApproxPercentile, in: tF64,
				args: map[string]string{"k": strconv.Itoa(c.k), "percentiles": psJSON}})
			worst := 0.0
			for seed := uint64(1); seed <= 3; seed++ {
				r := rand.New(rand.NewPCG(seed, 3))
				xs := make([]float64, n)
				sorted := make([]float32, n)
				for i := range xs {
					xs[i] = c.data(r, i)
					sorted[i] = float32(xs[i])
				}
				slices.Sort(sorted)
				var all IR
				parts := make([]IR, 10)
				for i, x := range xs {
					all = a.Update(all, Input{Value: x})
					parts[i%10] = a.Update(parts[i%10], Input{Value: x})
				}
				var merged IR
				for _, p := range parts {
					merged = a.Merge(merged, p)
				}
				for name, ir := range map[string]IR{"all": all, "merged": merged, "decoded": roundTrip(t, a, all)} {
					got := a.Finalize(ir).([]any)
					for i, p := range ps {
						e := rankError(sorted, got[i].(float32), p*float64(n-1))
						worst = max(worst, e)
						if e > c.bound {
							t.Errorf("seed %d %s: p%v = %v, rank error %.4f > %.4f", seed, name, p, got[i], e, c.bound)
						}
					}
				}
			}
			t.Logf("k=%d worst rank error %.4f", c.k, worst)
		})
	}
}

// TestKLLSize checks the sketch stays small.
func TestKLLSize(t *testing.T) {
	a := mustNew(t, spec{op: api.OpApproxPercentile, in: tF64})
	var ir IR
	for i := 0; i < 1000000; i++ {
		ir = a.Update(ir, Input{Value: float64(i)})
	}
	b := a.AppendIR(nil, ir)
	s := ir.(*kllIR)
	t.Logf("1e6 inputs: %d levels, %d items, %d bytes", len(s.levels), s.size, len(b))
	if len(b) > 3000 {
		t.Fatalf("KLL encoding of %d bytes", len(b))
	}
}

// TestApproxHistogramAccuracy checks APPROX_HISTOGRAM_K on a Zipf stream:
// the top entries are the true top ones and every count is within
// [true - n/(capacity+1), true].
func TestApproxHistogramAccuracy(t *testing.T) {
	const n = 100000
	for _, kk := range []int{8, 20} {
		t.Run(fmt.Sprintf("k=%d", kk), func(t *testing.T) {
			a := mustNew(t, spec{op: api.OpApproxHistogramK, in: tI64, args: k(strconv.Itoa(kk))})
			r := rand.New(rand.NewPCG(5, 5))
			z := rand.NewZipf(r, 1.3, 2, 5000)
			truth := map[string]int64{}
			var all IR
			parts := make([]IR, 7)
			for i := 0; i < n; i++ {
				v := int64(z.Uint64())
				truth[strconv.FormatInt(v, 10)]++
				all = a.Update(all, Input{Value: v})
				parts[i%7] = a.Update(parts[i%7], Input{Value: v})
			}
			var merged IR
			for _, p := range parts {
				merged = a.Merge(merged, p)
			}
			type kv struct {
				k string
				c int64
			}
			var top []kv
			for key, c := range truth {
				top = append(top, kv{key, c})
			}
			slices.SortFunc(top, func(x, y kv) int {
				if c := cmp.Compare(y.c, x.c); c != 0 {
					return c
				}
				return cmp.Compare(x.k, y.k)
			})
			slack := int64(n / (approxHistogramCapacity(kk) + 1))
			for name, ir := range map[string]IR{"all": all, "merged": merged} {
				got := a.Finalize(ir).(map[string]any)
				if len(got) != kk {
					t.Fatalf("%s: %d entries, want %d", name, len(got), kk)
				}
				for key, v := range got {
					c := v.(int64)
					if c > truth[key] || c < truth[key]-slack {
						t.Errorf("%s: count[%s] = %d, true %d, slack %d", name, key, c, truth[key], slack)
					}
				}
				// The true top entries whose lead over the (k+1)-th exceeds
				// the slack must be reported.
				for _, e := range top[:kk] {
					if e.c-top[kk].c > slack {
						if _, ok := got[e.k]; !ok {
							t.Errorf("%s: missing top entry %s (%d)", name, e.k, e.c)
						}
					}
				}
				t.Logf("%s: %v (true top: %v)", name, got, top[:kk])
			}
		})
	}
}
