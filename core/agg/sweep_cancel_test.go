// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// TestSweepFloatSumCancellation slides a float SUM and AVERAGE window past
// huge values: the window is slid by subtraction, and the compensated sum
// must still give the small values' sum once the huge ones have left.
func TestSweepFloatSumCancellation(t *testing.T) {
	aggs := []*api.Aggregation{api.Sum("x", api.Hours(1)), api.Avg("x", api.Hours(1))}
	spec, err := NewSpec(aggs, []arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Float64}}, ExactTails)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := newWindowState(spec.Bases[0].Agg, 1).(*subtractState); !ok {
		t.Fatal("a float SUM window is not slid by subtraction")
	}
	const hour = 3600 * 1000
	var events []Event
	for i, x := range []float64{1e16, -3e15, 7e15, 1e-3} {
		events = append(events, Event{Ts: int64(i), Values: []any{x}})
	}
	var small []float64
	for i := 0; i < 1000; i++ {
		x := 0.1 * float64(i%7+1)
		small = append(small, x)
		events = append(events, Event{Ts: hour + 10 + int64(i), Values: []any{x}})
	}
	got := spec.Sweep(events, []int64{hour + 2000})
	want := 0.0
	for _, x := range small {
		want += x // well within double precision: 1000 terms of ~0.4
	}
	sum := got[0][0].(float64)
	avg := got[0][1].(float64)
	if math.Abs(sum-want) > 1e-9*want {
		t.Errorf("sum %v, want %v", sum, want)
	}
	if math.Abs(avg-want/1000) > 1e-9*want/1000 {
		t.Errorf("average %v, want %v", avg, want/1000)
	}
}
