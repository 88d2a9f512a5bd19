// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
)

var randomCols = map[string]arrow.DataType{
	"b":    tStr,
	"bool": tBool,
	"i8":   tI8,
	"i16":  tI16,
	"i32":  tI32,
	"i64":  tI64,
	"f32":  tF32,
	"f64":  tF64,
	"str":  tStr,
	"bin":  tBin,
	"li":   arrow.ListOf(tI64),
	"lf":   arrow.ListOf(tF64),
	"ls":   arrow.ListOf(tStr),
	"mi":   arrow.MapOf(tStr, tI32),
	"mf":   arrow.MapOf(tStr, tF64),
	"ms":   arrow.MapOf(tStr, tStr),
}

const (
	rStart = int64(19700) * OneDay
	rEnd   = rStart + 20*OneDay
)

func TestRandomEventsDeterministic(t *testing.T) {
	a := RandomEvents(rand.New(rand.NewPCG(7, 7)), 200, randomCols, rStart, rEnd)
	b := RandomEvents(rand.New(rand.NewPCG(7, 7)), 200, randomCols, rStart, rEnd)
	c := RandomEvents(rand.New(rand.NewPCG(7, 8)), 200, randomCols, rStart, rEnd)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("same seed, different events")
	}
	if fmt.Sprint(a) == fmt.Sprint(c) {
		t.Error("different seeds, same events")
	}
}

func TestRandomEventsProperties(t *testing.T) {
	evs := RandomEvents(rand.New(rand.NewPCG(1, 1)), 500, randomCols, rStart, rEnd)
	if len(evs) != 500 {
		t.Fatalf("%d events", len(evs))
	}
	seenTs := map[int64]int{}
	nulls := map[string]int{}
	nans := map[string]int{}
	outOfOrder, aligned := 0, 0
	for i, e := range evs {
		if e.Ts < rStart || e.Ts >= rEnd {
			t.Fatalf("ts %d outside the range", e.Ts)
		}
		seenTs[e.Ts]++
		if i > 0 && e.Ts < evs[i-1].Ts {
			outOfOrder++
		}
		if e.Ts%FiveMinutes == 0 {
			aligned++
		}
		for name, typ := range randomCols {
			v := e.Values[name]
			if err := batch.CheckValue(v, typ); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if v == nil {
				nulls[name]++
			}
			if f, ok := v.(float64); ok && math.IsNaN(f) {
				nans[name]++
			}
			if f, ok := v.(float32); ok && f != f {
				nans[name]++
			}
			if l, ok := v.([]any); ok && len(l) > 0 {
				if f, ok := l[0].(float64); ok && math.IsNaN(f) {
					nans[name]++
				}
			}
		}
	}
	ties := 0
	for _, n := range seenTs {
		if n > 1 {
			ties++
		}
	}
	if ties < 10 || outOfOrder < 100 || aligned < 20 {
		t.Errorf("ties %d, out of order %d, aligned %d: want more edge cases", ties, outOfOrder, aligned)
	}
	for name := range randomCols {
		if nulls[name] < 20 {
			t.Errorf("column %s: %d nulls", name, nulls[name])
		}
	}
	for _, name := range []string{"f32", "f64", "lf"} {
		if nans[name] != 1 {
			t.Errorf("column %s: %d NaNs, want 1", name, nans[name])
		}
	}
	for _, e := range RandomEventsWith(rand.New(rand.NewPCG(1, 1)), 200, randomCols, rStart, rEnd,
		GenOptions{NullRate: -1, NoNaN: true, NoNullElements: true}) {
		for name, v := range e.Values {
			if v == nil {
				t.Fatalf("%s: null with NullRate < 0", name)
			}
			if l, ok := v.([]any); ok {
				for _, x := range l {
					if x == nil {
						t.Fatalf("%s: null element with NoNullElements", name)
					}
					if f, ok := x.(float64); ok && math.IsNaN(f) {
						t.Fatalf("%s: NaN with NoNaN", name)
					}
				}
			}
			if f, ok := v.(float64); ok && math.IsNaN(f) {
				t.Fatalf("%s: NaN with NoNaN", name)
			}
		}
	}
}

func TestRandomQueryTimes(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	evs := RandomEvents(rng, 300, map[string]arrow.DataType{"x": tI64}, rStart, rEnd)
	windows := []api.Window{api.Hours(1), api.Days(1), api.Days(14), {}}
	qs := RandomQueryTimes(rng, evs, windows, 400, rStart, rEnd)
	if len(qs) < 300 {
		t.Fatalf("%d query times", len(qs))
	}
	isEventTs, isEdge, isMidnight := 0, 0, 0
	ts := map[int64]bool{}
	for _, e := range evs {
		ts[e.Ts] = true
	}
	for i, q := range qs {
		if q < rStart || q >= rEnd {
			t.Fatalf("query time %d outside the range", q)
		}
		if i > 0 && q <= qs[i-1] {
			t.Fatalf("query times not sorted and distinct at %d", i)
		}
		if ts[q] {
			isEventTs++
		}
		for _, w := range windows {
			if ts[q-w.Millis()] && w.Millis() > 0 {
				isEdge++
			}
		}
		if q%OneDay == 0 {
			isMidnight++
		}
	}
	if isEventTs < 10 || isEdge < 10 || isMidnight < 3 {
		t.Errorf("event ts %d, window edges %d, midnights %d: want more edge cases", isEventTs, isEdge, isMidnight)
	}
	if RandomQueryTimes(rng, nil, nil, 10, rStart, rStart+5) == nil {
		t.Error("no query times without events")
	}
}

type partCol struct {
	part api.AggregationPart
	col  string
}

// randomParts lists every (part, input column) combination the oracle
// supports over randomCols, in each shape.
func randomParts() []partCol {
	ops := []struct {
		op   api.Operation
		args map[string]string
	}{
		{api.OpSum, nil}, {api.OpCount, nil}, {api.OpAverage, nil}, {api.OpVariance, nil},
		{api.OpSkew, nil}, {api.OpKurtosis, nil}, {api.OpMin, nil}, {api.OpMax, nil},
		{api.OpFirst, nil}, {api.OpLast, nil}, {api.OpFirstK, map[string]string{"k": "3"}},
		{api.OpLastK, map[string]string{"k": "3"}}, {api.OpTopK, map[string]string{"k": "3"}},
		{api.OpBottomK, map[string]string{"k": "3"}}, {api.OpUniqueCount, nil},
		{api.OpApproxUniqueCount, nil}, {api.OpBoundedUniqueCount, map[string]string{"k": "4"}},
		{api.OpApproxPercentile, map[string]string{"percentiles": "[0, 0.25, 0.5, 0.99, 1]"}},
		{api.OpHistogram, map[string]string{"k": "3"}}, {api.OpApproxHistogramK, map[string]string{"k": "4"}},
	}
	windows := []*api.Window{nil, {Length: 1, TimeUnit: api.UnitHours}, {Length: 1, TimeUnit: api.UnitDays}, {Length: 12, TimeUnit: api.UnitDays}}
	var out []partCol
	for _, o := range ops {
		for col, typ := range randomCols {
			for _, bucket := range []string{"", "b"} {
				for _, ew := range []bool{false, true} {
					p := api.AggregationPart{InputColumn: col, Operation: o.op, ArgMap: o.args, Bucket: bucket, ElementWise: api.Bool(ew)}
					if _, err := OutputType(p, typ); err != nil {
						continue
					}
					p.Window = windows[len(out)%len(windows)]
					out = append(out, partCol{p, col})
				}
			}
		}
	}
	return out
}

// TestRandomSelfConsistent runs every supported part over random data: the
// answer has the output type, Check accepts it, and Check rejects a null for
// a value and a value for a null.
func TestRandomSelfConsistent(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	evs := RandomEvents(rng, 300, randomCols, rStart, rEnd)
	ewEvs := RandomEventsWith(rng, 300, randomCols, rStart, rEnd, GenOptions{NoNullElements: true})
	windows := []api.Window{api.Hours(1), api.Days(1), api.Days(12)}
	qs := RandomQueryTimes(rng, evs, windows, 25, rStart, rEnd)
	parts := randomParts()
	if len(parts) < 200 {
		t.Fatalf("only %d parts", len(parts))
	}
	nonNull := 0
	for _, pc := range parts {
		p := pc.part
		events := evs
		if p.ElementWise {
			events = ewEvs
		}
		ot, _ := OutputType(p, randomCols[pc.col])
		for i, T := range qs {
			mode := TailMode(i % 2)
			got, err := Value(p, randomCols[pc.col], events, T, mode)
			if err != nil {
				t.Fatalf("%s: %v", p.OutputColumnName(), err)
			}
			if err := batch.CheckValue(got, ot); err != nil {
				t.Fatalf("%s at %d: answer is not a %s: %v", p.OutputColumnName(), T, ot, err)
			}
			if err := Check(p, randomCols[pc.col], events, T, mode, got, CheckOptions{}); err != nil {
				t.Fatalf("Check rejects the oracle's own answer: %v", err)
			}
			if got == nil {
				if err := Check(p, randomCols[pc.col], events, T, mode, int64(0), CheckOptions{}); err == nil {
					t.Fatalf("%s at %d: Check accepts 0 for null", p.OutputColumnName(), T)
				}
				continue
			}
			nonNull++
			if err := Check(p, randomCols[pc.col], events, T, mode, nil, CheckOptions{}); err == nil {
				t.Fatalf("%s at %d: Check accepts null for %s", p.OutputColumnName(), T, show(got))
			}
		}
	}
	if nonNull < len(parts)*len(qs)/3 {
		t.Errorf("only %d of %d answers non-null", nonNull, len(parts)*len(qs))
	}
}

// naiveMoments is what a float64 engine computes: a running sum and
// Welford/Terriberry moment updates, in ts order.
func naiveMoments(xs []float64) (sum, avg, variance, skew, kurt float64) {
	var n, mean, m2, m3, m4 float64
	for _, x := range xs {
		sum += x
		n1 := n
		n++
		delta := x - mean
		dn := delta / n
		dn2 := dn * dn
		term1 := delta * dn * n1
		mean += dn
		m4 += term1*dn2*(n*n-3*n+3) + 6*dn2*m2 - 4*dn*m3
		m3 += term1*dn*(n-2) - 3*dn*m2
		m2 += term1
	}
	return sum, sum / n, m2 / n, math.Sqrt(n) * m3 / math.Pow(m2, 1.5), n*m4/(m2*m2) - 3
}

// TestToleranceFitsFloat64Engine checks that the float tolerances accept a
// straightforward float64 engine on random data (so they will not flake), and
// that SUM, AVERAGE and VARIANCE reject an answer just past the bound.
func TestToleranceFitsFloat64Engine(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cols := map[string]arrow.DataType{"f64": tF64, "i64": tI64, "f32": tF32}
	evs := SortedByTs(RandomEventsWith(rng, 400, cols, rStart, rEnd, GenOptions{NoNaN: true}))
	w := api.Days(3)
	qs := RandomQueryTimes(rng, evs, []api.Window{w}, 40, rStart, rEnd)
	for col, typ := range cols {
		for _, T := range qs {
			var xs []float64
			for _, e := range evs {
				if v := e.Values[col]; v != nil && Counts(e.Ts, T, &w, Exact) {
					xs = append(xs, toFloat64(v))
				}
			}
			if len(xs) < 4 {
				continue
			}
			sum, avg, variance, skew, kurt := naiveMoments(xs)
			for _, c := range []struct {
				op  api.Operation
				got float64
			}{{api.OpSum, sum}, {api.OpAverage, avg}, {api.OpVariance, variance}, {api.OpSkew, skew}, {api.OpKurtosis, kurt}} {
				if c.op == api.OpSum && !isFloat(typ) {
					continue
				}
				p := api.AggregationPart{InputColumn: col, Operation: c.op, Window: &w}
				if err := Check(p, typ, evs, T, Exact, c.got, CheckOptions{}); err != nil {
					t.Errorf("float64 engine rejected: %v", err)
				}
				if c.op == api.OpSkew || c.op == api.OpKurtosis {
					continue
				}
				var bound float64 // 1e-9 * (sum(|x|) [+ sum(x^2)/n for VARIANCE])
				for _, x := range xs {
					bound += math.Abs(x)
					if c.op == api.OpVariance {
						bound += x * x / float64(len(xs))
					}
				}
				want, _ := Value(p, typ, evs, T, Exact)
				if err := Check(p, typ, evs, T, Exact, want.(float64)+1.01e-9*bound, CheckOptions{}); err == nil {
					t.Errorf("%s at %d: Check accepts an error beyond the bound", p.OutputColumnName(), T)
				}
			}
		}
	}
}
