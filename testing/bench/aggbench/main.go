// SPDX-License-Identifier: Apache-2.0

// Aggbench measures core/agg: updates per second for every operation, and
// the offline sweep's cost per event as a key's events grow from 1e5 to 1e7
// (it must stay flat: the sweep is O(events + queries)), and the size and
// fetch cost of a heavy key's batch value. The baseline is a plain Go loop
// summing the same values, measured in the same run.
//
//	go run ./testing/bench/aggbench [--max-events 10000000]
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
)

func main() {
	maxEvents := flag.Int("max-events", 10_000_000, "largest sweep size")
	flag.Parse()
	if err := run(*maxEvents); err != nil {
		fmt.Fprintln(os.Stderr, "aggbench:", err)
		os.Exit(1)
	}
}

type opInput struct {
	op    api.Operation
	input arrow.DataType
	args  map[string]string
	value func(r *rand.Rand) any
}

func run(maxEvents int) error {
	i64 := func(r *rand.Rand) any { return r.Int64N(1000) }
	f64 := func(r *rand.Rand) any { return r.Float64() * 1000 }
	str := func(r *rand.Rand) any { return fmt.Sprintf("v%d", r.IntN(500)) }
	k := map[string]string{"k": "10"}
	cases := []opInput{
		{api.OpSum, arrow.PrimitiveTypes.Int64, nil, i64},
		{api.OpSum, arrow.PrimitiveTypes.Float64, nil, f64},
		{api.OpCount, arrow.PrimitiveTypes.Int64, nil, i64},
		{api.OpAverage, arrow.PrimitiveTypes.Float64, nil, f64},
		{api.OpVariance, arrow.PrimitiveTypes.Float64, nil, f64},
		{api.OpSkew, arrow.PrimitiveTypes.Float64, nil, f64},
		{api.OpKurtosis, arrow.PrimitiveTypes.Float64, nil, f64},
		{api.OpMin, arrow.PrimitiveTypes.Int64, nil, i64},
		{api.OpMax, arrow.BinaryTypes.String, nil, str},
		{api.OpFirst, arrow.PrimitiveTypes.Int64, nil, i64},
		{api.OpLast, arrow.PrimitiveTypes.Int64, nil, i64},
		{api.OpFirstK, arrow.PrimitiveTypes.Int64, k, i64},
		{api.OpLastK, arrow.PrimitiveTypes.Int64, k, i64},
		{api.OpTopK, arrow.PrimitiveTypes.Int64, k, i64},
		{api.OpBottomK, arrow.PrimitiveTypes.Float64, k, f64},
		{api.OpUniqueCount, arrow.BinaryTypes.String, nil, str},
		{api.OpApproxUniqueCount, arrow.BinaryTypes.String, nil, str},
		{api.OpBoundedUniqueCount, arrow.BinaryTypes.String, nil, str},
		{api.OpApproxPercentile, arrow.PrimitiveTypes.Float64, nil, f64},
		{api.OpHistogram, arrow.BinaryTypes.String, nil, str},
		{api.OpApproxHistogramK, arrow.BinaryTypes.String, nil, str},
	}
	// Results are kept alive so the compiler cannot drop the measured work.
	var sink int64
	var sinkIR agg.IR
	defer runtime.KeepAlive(&sink)
	defer runtime.KeepAlive(&sinkIR)
	// Baseline: a plain loop adding int64 values held in interfaces.
	base := testing.Benchmark(func(b *testing.B) {
		vals := values(b.N, i64)
		var s int64
		b.ResetTimer()
		for _, v := range vals {
			s += v.(int64)
		}
		sink = s
	})
	baseNs := float64(base.T.Nanoseconds()) / float64(base.N)
	fmt.Printf("updates per second (baseline: plain loop adding boxed int64s, %.1f ns/value)\n", baseNs)
	fmt.Printf("%-26s %14s %10s %10s\n", "op(input)", "updates/s", "ns/update", "x baseline")
	for _, c := range cases {
		a, err := agg.New(api.AggregationPart{InputColumn: "x", Operation: c.op, ArgMap: c.args}, c.input)
		if err != nil {
			return fmt.Errorf("%s: %w", c.op, err)
		}
		res := testing.Benchmark(func(b *testing.B) {
			vals := values(b.N, c.value)
			var ir agg.IR
			b.ResetTimer()
			for i, v := range vals {
				ir = a.Update(ir, agg.Input{Value: v, Ts: int64(i)})
			}
			sinkIR = ir
		})
		ns := float64(res.T.Nanoseconds()) / float64(res.N)
		fmt.Printf("%-26s %14.0f %10.1f %10.1f\n", fmt.Sprintf("%s(%s)", c.op, c.input), 1e9/ns, ns, ns/baseNs)
	}

	fmt.Printf("\nsweep cost per event, one key, SUM+LAST_K(10) over 1h/1d/7d/30d windows, one query per event\n")
	spec, err := agg.NewSpec([]*api.Aggregation{
		{InputColumn: "x", Operation: api.OpSum, Windows: []api.Window{api.Hours(1), api.Days(1), api.Days(7), api.Days(30)}},
		{InputColumn: "x", Operation: api.OpLastK, ArgMap: k, Windows: []api.Window{api.Hours(1), api.Days(1), api.Days(7), api.Days(30)}},
	}, []arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, agg.ExactTails)
	if err != nil {
		return err
	}
	fmt.Printf("%10s %12s %14s\n", "events", "seconds", "ns/event")
	for n := 100_000; n <= maxEvents; n *= 10 {
		r := rand.New(rand.NewPCG(1, 2))
		events := make([]agg.Event, n)
		queries := make([]int64, n)
		ts := int64(1_700_000_000_000)
		for i := range events {
			ts += r.Int64N(60_000) // about one event a minute over the key's history
			events[i] = agg.Event{Ts: ts, Values: []any{r.Int64N(1000)}}
			queries[i] = ts + 1
		}
		start := time.Now()
		rows := 0
		spec.SweepEach(events, queries, func(int, []any) { rows++ })
		el := time.Since(start)
		runtime.KeepAlive(rows)
		fmt.Printf("%10d %12.3f %14.1f\n", n, el.Seconds(), float64(el.Nanoseconds())/float64(n))
	}
	return heavyKey()
}

// heavyKey measures what exact tails cost online for one key: the batch
// value's size and the time to decode it and fetch at T = batch end + 1
// day, for a key with 10 and with 100K events in the band (the 3 days
// before the batch end).
func heavyKey() error {
	fmt.Printf("\nbatch value of one key, SUM/COUNT/AVERAGE over 3d/14d/30d + LAST_K(10), events in the 3 days before the batch end\n")
	windows := []api.Window{api.Days(3), api.Days(14), api.Days(30)}
	spec, err := agg.NewSpec([]*api.Aggregation{
		{InputColumn: "x", Operation: api.OpSum, Windows: windows},
		{InputColumn: "x", Operation: api.OpCount, Windows: windows},
		{InputColumn: "x", Operation: api.OpAverage, Windows: windows},
		{InputColumn: "x", Operation: api.OpLastK, ArgMap: map[string]string{"k": "10"}},
	}, []arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, agg.ExactTails)
	if err != nil {
		return err
	}
	const day = int64(24 * 3600 * 1000)
	batchEnd := int64(1_700_000_000_000) / day * day
	fmt.Printf("%10s %12s %14s %14s\n", "events", "value bytes", "decode µs", "fetch µs")
	for _, n := range []int{10, 100_000} {
		r := rand.New(rand.NewPCG(3, 4))
		events := make([]agg.Event, n)
		for i := range events {
			events[i] = agg.Event{Ts: batchEnd - 3*day + int64(i)*(3*day/int64(n)), Values: []any{r.Float64() * 100}}
		}
		value := spec.AppendBatchValue(nil, spec.Batch(events, batchEnd))
		var bv *agg.BatchValue
		decode := testing.Benchmark(func(b *testing.B) {
			for b.Loop() {
				if bv, err = spec.DecodeBatchValue(value); err != nil {
					b.Fatal(err)
				}
			}
		})
		fetch := testing.Benchmark(func(b *testing.B) {
			for b.Loop() {
				if _, err := spec.Fetch(bv, nil, batchEnd+day); err != nil {
					b.Fatal(err)
				}
			}
		})
		fmt.Printf("%10d %12d %14.1f %14.1f\n", n, len(value), float64(decode.NsPerOp())/1e3, float64(fetch.NsPerOp())/1e3)
	}
	return nil
}

func values(n int, gen func(*rand.Rand) any) []any {
	r := rand.New(rand.NewPCG(3, 4))
	out := make([]any, n)
	for i := range out {
		out[i] = gen(r)
	}
	return out
}
