// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// BenchmarkUpdate measures one Update per op (ns/op; updates/s = 1e9/ns) on
// a long-lived IR with int64 inputs (strings for HISTOGRAM, float64 for the
// float variants), ts increasing.
func BenchmarkUpdate(b *testing.B) {
	type bc struct {
		name string
		s    spec
	}
	cases := []bc{
		{"SUM", spec{op: api.OpSum, in: tI64}},
		{"SUM_f64", spec{op: api.OpSum, in: tF64}},
		{"COUNT", spec{op: api.OpCount, in: tI64}},
		{"AVERAGE", spec{op: api.OpAverage, in: tI64}},
		{"VARIANCE", spec{op: api.OpVariance, in: tI64}},
		{"SKEW", spec{op: api.OpSkew, in: tI64}},
		{"KURTOSIS", spec{op: api.OpKurtosis, in: tI64}},
		{"MIN", spec{op: api.OpMin, in: tI64}},
		{"MAX", spec{op: api.OpMax, in: tI64}},
		{"MAX_string", spec{op: api.OpMax, in: tStr}},
		{"FIRST", spec{op: api.OpFirst, in: tI64}},
		{"LAST", spec{op: api.OpLast, in: tI64}},
		{"LAST_string", spec{op: api.OpLast, in: tStr}},
		{"FIRST_K", spec{op: api.OpFirstK, in: tI64, args: k("10")}},
		{"LAST_K", spec{op: api.OpLastK, in: tI64, args: k("10")}},
		{"TOP_K", spec{op: api.OpTopK, in: tI64, args: k("10")}},
		{"BOTTOM_K", spec{op: api.OpBottomK, in: tI64, args: k("10")}},
		{"UNIQUE_COUNT", spec{op: api.OpUniqueCount, in: tI64}},
		{"APPROX_UNIQUE_COUNT", spec{op: api.OpApproxUniqueCount, in: tI64}},
		{"APPROX_UNIQUE_COUNT_string", spec{op: api.OpApproxUniqueCount, in: tStr}},
		{"BOUNDED_UNIQUE_COUNT", spec{op: api.OpBoundedUniqueCount, in: tI64}},
		{"APPROX_PERCENTILE", spec{op: api.OpApproxPercentile, in: tI64}},
		{"HISTOGRAM", spec{op: api.OpHistogram, in: tStr}},
		{"APPROX_HISTOGRAM_K", spec{op: api.OpApproxHistogramK, in: tI64}},
		{"bucketed_SUM", spec{op: api.OpSum, in: tI64, bucket: true}},
	}
	const n = 4096
	r := rand.New(rand.NewPCG(1, 2))
	ints := make([]any, n)
	floats := make([]any, n)
	strs := make([]any, n)
	buckets := make([]any, n)
	for i := range n {
		v := r.Int64N(1000)
		ints[i] = v
		floats[i] = float64(v) / 7
		strs[i] = "v" + strconv.FormatInt(v%100, 10)
		buckets[i] = "b" + strconv.Itoa(i%4)
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			a := mustNew(b, c.s)
			vs := ints
			switch c.s.in.ID() {
			case arrow.FLOAT64:
				vs = floats
			case arrow.STRING:
				vs = strs
			}
			var ir IR
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				j := i & (n - 1)
				ir = a.Update(ir, Input{Value: vs[j], Ts: int64(i), Bucket: buckets[j]})
			}
			_ = a.Finalize(ir)
		})
	}
}

// BenchmarkMergeEncode measures Merge, AppendIR and DecodeIR of typical IRs.
func BenchmarkMergeEncode(b *testing.B) {
	for _, s := range []spec{
		{op: api.OpSum, in: tI64}, {op: api.OpAverage, in: tF64}, {op: api.OpLastK, in: tI64, args: k("10")},
		{op: api.OpApproxPercentile, in: tF64}, {op: api.OpApproxUniqueCount, in: tI64},
		{op: api.OpHistogram, in: tStr}, {op: api.OpUniqueCount, in: tI64},
	} {
		a := mustNew(b, s)
		g := gen{r: rand.New(rand.NewPCG(3, 3)), s: s}
		ins := g.inputs(2000)
		ir := fold(a, nil, ins)
		enc := a.AppendIR(nil, ir)
		b.Run(s.op.String()+"/merge", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				_ = a.Merge(a.Clone(ir), ir)
			}
		})
		b.Run(s.op.String()+"/encode", func(b *testing.B) {
			b.ReportMetric(float64(len(enc)), "bytes")
			var buf []byte
			for i := 0; i < b.N; i++ {
				buf = a.AppendIR(buf[:0], ir)
			}
		})
		b.Run(s.op.String()+"/decode", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, _, err := a.DecodeIR(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
