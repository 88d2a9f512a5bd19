// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"math/rand/v2"
	"testing"
)

// FuzzDecodeIR feeds random bytes to DecodeIR of every aggregator of
// propSpecs: it must return an error or a usable IR, never panic. The seed
// corpus holds valid encodings.
func FuzzDecodeIR(f *testing.F) {
	specs := propSpecs()
	aggs := make([]Aggregator, len(specs))
	samples := make([][]Input, len(specs))
	for i, s := range specs {
		aggs[i] = mustNew(f, s)
		g := gen{r: rand.New(rand.NewPCG(uint64(i), 1)), s: s}
		samples[i] = g.inputs(30)
		f.Add(aggs[i].AppendIR(nil, fold(aggs[i], nil, samples[i])))
		f.Add(aggs[i].AppendIR(nil, fold(aggs[i], nil, g.inputs(3))))
	}
	f.Add([]byte{})
	f.Add([]byte{0})
	f.Add([]byte{1})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, a := range aggs {
			ir, rest, err := a.DecodeIR(data)
			if err != nil {
				continue
			}
			if len(rest) > len(data) {
				t.Fatalf("%v: rest longer than input", specs[i])
			}
			// A decoded IR must be usable.
			_ = a.Finalize(ir)
			c := a.Clone(ir)
			_ = a.AppendIR(nil, ir)
			for _, in := range samples[i][:5] {
				ir = a.Update(ir, in)
			}
			_ = a.Finalize(a.Merge(c, ir))
			_ = a.Finalize(a.Merge(a.Clone(ir), c))
		}
	})
}
