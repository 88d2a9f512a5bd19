// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// propSpecs are the configurations the property tests cover: every op over
// its main input types, and every shape.
func propSpecs() []spec {
	var out []spec
	add := func(op api.Operation, args map[string]string, types ...arrow.DataType) {
		for _, t := range types {
			out = append(out, spec{op: op, in: t, args: args})
		}
	}
	add(api.OpSum, nil, tBool, tI8, tI32, tI64, tF32, tF64)
	add(api.OpCount, nil, tStr, tF64, tLI64, tMI64)
	add(api.OpAverage, nil, tI64, tF64)
	add(api.OpVariance, nil, tI32, tF64)
	add(api.OpSkew, nil, tI64, tF64)
	add(api.OpKurtosis, nil, tI64, tF64)
	add(api.OpMin, nil, tI16, tF64, tStr)
	add(api.OpMax, nil, tI64, tF32, tStr)
	add(api.OpFirst, nil, tI64, tStr, tBin, tBool, tF64, tLI64)
	add(api.OpLast, nil, tI8, tStr, tMStr, tF32)
	add(api.OpFirstK, k("3"), tI64, tStr, tLI64)
	add(api.OpLastK, k("4"), tI32, tStr, tBin, tMI64)
	add(api.OpTopK, k("3"), tI64, tF64, tStr)
	add(api.OpBottomK, k("5"), tI16, tF32, tStr)
	add(api.OpUniqueCount, nil, tI64, tF64, tStr, tBin)
	add(api.OpBoundedUniqueCount, k("4"), tI64, tF32, tStr, tBin)
	add(api.OpApproxUniqueCount, nil, tI64, tF64, tStr, tBin)
	add(api.OpApproxPercentile, map[string]string{"percentiles": "[0, 0.1, 0.5, 0.9, 1]"}, tI64, tF64)
	add(api.OpApproxPercentile, map[string]string{"k": "8"}, tF32)
	add(api.OpHistogram, nil, tStr)
	add(api.OpHistogram, k("2"), tStr)
	add(api.OpApproxHistogramK, nil, tI64, tF64, tStr)
	add(api.OpApproxHistogramK, k("1"), tI8)
	// Vector and map modes.
	add(api.OpSum, nil, tLI64, tMI64, tMF64)
	add(api.OpAverage, nil, tLF64)
	add(api.OpTopK, k("3"), tLI64)
	add(api.OpHistogram, nil, tLStr, tMStr)
	add(api.OpMax, nil, tMF64)
	add(api.OpUniqueCount, nil, tMStr, tLStr)
	// Buckets and elementWise.
	for _, s := range []spec{
		{op: api.OpSum, in: tI64}, {op: api.OpAverage, in: tF64}, {op: api.OpLastK, in: tStr, args: k("2")},
		{op: api.OpHistogram, in: tStr}, {op: api.OpApproxPercentile, in: tF64}, {op: api.OpCount, in: tLI64},
		{op: api.OpFirst, in: tStr},
	} {
		s.bucket = true
		out = append(out, s)
	}
	for _, s := range []spec{
		{op: api.OpSum, in: tLI64}, {op: api.OpSum, in: tLF64}, {op: api.OpLast, in: tLStr},
		{op: api.OpCount, in: tLI64}, {op: api.OpHistogram, in: tLStr}, {op: api.OpMin, in: tLF64},
		{op: api.OpSum, in: tLI64, bucket: true},
	} {
		s.elemWise = true
		out = append(out, s)
	}
	return out
}

// gen generates random inputs for a spec: values from small domains (so
// that ties and duplicates are common), some nulls, ts in a small range.
type gen struct {
	r *rand.Rand
	s spec
}

func (g gen) scalar(dt arrow.DataType) any {
	r := g.r
	switch dt.ID() {
	case arrow.BOOL:
		return r.IntN(2) == 0
	case arrow.INT8:
		return int8(r.IntN(21) - 10)
	case arrow.INT16:
		return int16(r.IntN(2001) - 1000)
	case arrow.INT32:
		return int32(r.IntN(41) - 20)
	case arrow.INT64:
		if r.IntN(10) == 0 {
			return r.Int64N(1<<40) - 1<<39
		}
		return int64(r.IntN(41) - 20)
	case arrow.FLOAT32:
		return float32(r.IntN(200)-100) / 8
	case arrow.FLOAT64:
		if r.IntN(4) == 0 {
			return r.NormFloat64() * 1e3
		}
		return float64(r.IntN(200)-100) / 4
	case arrow.STRING:
		return string(rune('a' + r.IntN(12)))
	case arrow.BINARY:
		return []byte{byte(r.IntN(10)), byte(r.IntN(2))}
	}
	panic("gen: " + dt.String())
}

func (g gen) value(dt arrow.DataType, top bool) any {
	r := g.r
	if top && r.IntN(8) == 0 {
		return nil
	}
	switch t := dt.(type) {
	case *arrow.ListType:
		n := r.IntN(4)
		l := make([]any, n)
		for i := range l {
			if g.s.elemWise || r.IntN(5) > 0 {
				l[i] = g.scalar(t.Elem())
			}
		}
		return l
	case *arrow.MapType:
		m := map[string]any{}
		for range r.IntN(4) {
			key := string(rune('p' + r.IntN(4)))
			if r.IntN(5) == 0 {
				m[key] = nil
			} else {
				m[key] = g.scalar(t.ItemType())
			}
		}
		return m
	}
	return g.scalar(dt)
}

func (g gen) inputs(n int) []Input {
	ins := make([]Input, n)
	for i := range ins {
		ins[i] = Input{Value: g.value(g.s.in, true), Ts: g.r.Int64N(20)}
		if g.s.bucket {
			switch g.r.IntN(5) {
			case 0:
			case 1, 2:
				ins[i].Bucket = "x"
			default:
				ins[i].Bucket = "y"
			}
		}
	}
	return ins
}

// tolFor is the tolerance when comparing results computed in different
// orders: exact for integers, ordered and timed ops; relative for float
// sums and moments.
func tolFor(s spec) float64 {
	switch s.op {
	case api.OpSum, api.OpAverage:
		return 1e-9
	case api.OpVariance, api.OpSkew, api.OpKurtosis:
		return 1e-7
	}
	return 0
}

// approxOp reports whether results may differ with the merge tree (sketches
// past their exact range): those are compared within error elsewhere.
func approxOp(s spec) bool {
	switch s.op {
	case api.OpApproxUniqueCount, api.OpApproxPercentile:
		return true
	case api.OpApproxHistogramK:
		// Exact (order-independent) while the values fit the counters: the
		// small int8 and string domains do, random int64 and float64 not.
		return s.in == tI64 || s.in == tF64
	}
	return false
}

func roundTrip(t *testing.T, a Aggregator, ir IR) IR {
	t.Helper()
	enc := a.AppendIR([]byte{0xAA}, ir)[1:]
	got, rest, err := a.DecodeIR(append(enc, 0xBB))
	if err != nil {
		t.Fatalf("DecodeIR: %v (bytes % x)", err, enc)
	}
	if !bytes.Equal(rest, []byte{0xBB}) {
		t.Fatalf("DecodeIR left % x, want bb", rest)
	}
	if (got == nil) != (ir == nil) {
		t.Fatalf("DecodeIR nil-ness: got %v for %v", got, ir)
	}
	return got
}

// TestProperties checks, on random inputs and several seeds:
// Update-all == Merge of Updates over any split; Decode(Encode) at any
// point changes nothing; Clone is deep; for deletable ops,
// Update-all-then-Delete-some == Update of the rest.
func TestProperties(t *testing.T) {
	for _, s := range propSpecs() {
		t.Run(s.String(), func(t *testing.T) {
			a := mustNew(t, s)
			tol := tolFor(s)
			for seed := uint64(1); seed <= 6; seed++ {
				g := gen{r: rand.New(rand.NewPCG(seed, 99)), s: s}
				n := []int{0, 1, 5, 40, 300, 1500}[seed-1]
				ins := g.inputs(n)
				all := fold(a, nil, ins)
				want := a.Finalize(all)

				// Encode/decode and clone at random points.
				var ir, snap IR
				var snapWant any
				for i, in := range ins {
					if g.r.IntN(7) == 0 {
						ir = roundTrip(t, a, ir)
					}
					if snap == nil && g.r.IntN(20) == 0 {
						snap, snapWant = a.Clone(ir), a.Finalize(ir)
					}
					ir = a.Update(ir, in)
					_ = i
				}
				ir = roundTrip(t, a, ir)
				if got := a.Finalize(ir); !equalVals(got, want, 0) {
					t.Fatalf("seed %d: with encode/decode %s, want %s", seed, show(got), show(want))
				}
				if snap != nil {
					if got := a.Finalize(snap); !equalVals(got, snapWant, 0) {
						t.Fatalf("seed %d: clone changed to %s, want %s", seed, show(got), show(snapWant))
					}
				}
				// Canonical encoding (HyperLogLog's sparse buffer is not).
				if s.op != api.OpApproxUniqueCount {
					e1 := a.AppendIR(nil, all)
					e2 := a.AppendIR(nil, roundTrip(t, a, all))
					if !bytes.Equal(e1, e2) {
						t.Fatalf("seed %d: encoding not canonical", seed)
					}
				}

				// Merge over random splits.
				if !approxOp(s) {
					for trial := 0; trial < 3; trial++ {
						var acc IR
						for lo := 0; lo < len(ins); {
							hi := lo + 1 + g.r.IntN(len(ins)-lo)
							part := fold(a, nil, ins[lo:hi])
							if g.r.IntN(2) == 0 {
								part = roundTrip(t, a, part)
							}
							acc = a.Merge(acc, part)
							lo = hi
						}
						if got := a.Finalize(acc); !equalVals(got, want, tol) {
							t.Fatalf("seed %d: merged %s, want %s", seed, show(got), show(want))
						}
						// Merge as a tree: (left) merged with (right).
						if len(ins) > 1 {
							mid := g.r.IntN(len(ins))
							l, r := fold(a, nil, ins[:mid]), fold(a, nil, ins[mid:])
							if got := a.Finalize(a.Merge(l, r)); !equalVals(got, want, tol) {
								t.Fatalf("seed %d: Merge(left, right) %s, want %s", seed, show(got), show(want))
							}
						}
					}
				}

				// Deletes.
				if a.Deletable() {
					ir := fold(a, nil, ins)
					var rest []Input
					for _, in := range ins {
						if g.r.IntN(2) == 0 {
							ir = a.Delete(ir, in)
						} else {
							rest = append(rest, in)
						}
					}
					wantRest := a.Finalize(fold(a, nil, rest))
					if got := a.Finalize(ir); !equalVals(got, wantRest, tol) {
						t.Fatalf("seed %d: after deletes %s, want %s", seed, show(got), show(wantRest))
					}
					for _, in := range rest {
						ir = a.Delete(ir, in)
					}
					if ir != nil {
						t.Fatalf("seed %d: IR %s after deleting everything", seed, show(a.Finalize(ir)))
					}
				}
			}
		})
	}
}

// TestPropertiesOracle compares ops with a simple reference on random
// inputs.
func TestPropertiesOracle(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	xs := make([]float64, 500)
	for i := range xs {
		xs[i] = r.NormFloat64()*10 + float64(r.IntN(3))
	}
	ins := make([]Input, len(xs))
	for i, x := range xs {
		ins[i] = Input{Value: x}
	}
	n := float64(len(xs))
	var mean float64
	for _, x := range xs {
		mean += x
	}
	mean /= n
	var m2, m3, m4 float64
	for _, x := range xs {
		d := x - mean
		m2 += d * d
		m3 += d * d * d
		m4 += d * d * d * d
	}
	want := map[api.Operation]float64{
		api.OpAverage:  mean,
		api.OpVariance: m2 / n,
		api.OpSkew:     math.Sqrt(n) * m3 / math.Pow(m2, 1.5),
		api.OpKurtosis: n*m4/(m2*m2) - 3,
	}
	for op, w := range want {
		a := mustNew(t, spec{op: op, in: tF64})
		got := a.Finalize(fold(a, nil, ins)).(float64)
		if !closeF(got, w, 1e-9) {
			t.Errorf("%s = %v, want %v", op, got, w)
		}
		// Merged from 10 parts.
		var acc IR
		for i := 0; i < len(ins); i += 50 {
			acc = a.Merge(acc, fold(a, nil, ins[i:i+50]))
		}
		if got := a.Finalize(acc).(float64); !closeF(got, w, 1e-9) {
			t.Errorf("%s merged = %v, want %v", op, got, w)
		}
	}
}

func Example() {
	sum, _ := New(api.AggregationPart{InputColumn: "amount", Operation: api.OpSum}, arrow.PrimitiveTypes.Int64)
	var ir IR
	for _, v := range []int64{3, 4, 5} {
		ir = sum.Update(ir, Input{Value: v})
	}
	ir = sum.Delete(ir, Input{Value: int64(3)})
	b := sum.AppendIR(nil, ir)
	back, _, _ := sum.DecodeIR(b)
	fmt.Println(sum.Finalize(back), len(b))
	// Output: 9 3
}
