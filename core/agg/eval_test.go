// SPDX-License-Identifier: Apache-2.0

package agg_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/testing/oracle"
)

// opCase is one operation on one input type, as the property tests run it.
type opCase struct {
	op    api.Operation
	input arrow.DataType
	args  map[string]string
}

func (c opCase) String() string {
	return fmt.Sprintf("%s(%s)%v", c.op, c.input, c.args)
}

var (
	i64  = arrow.PrimitiveTypes.Int64
	i32  = arrow.PrimitiveTypes.Int32
	f64  = arrow.PrimitiveTypes.Float64
	str  = arrow.BinaryTypes.String
	boo  = arrow.FixedWidthTypes.Boolean
	k3   = map[string]string{"k": "3"}
	pcts = map[string]string{"percentiles": "[0.1, 0.5, 0.9]"}
)

// opCases covers every operation and the input types that exercise distinct
// code paths (integer, float, string; list and map inputs).
var opCases = []opCase{
	{api.OpSum, i64, nil}, {api.OpSum, f64, nil}, {api.OpSum, boo, nil}, {api.OpSum, i32, nil},
	{api.OpCount, str, nil}, {api.OpCount, f64, nil},
	{api.OpAverage, i64, nil}, {api.OpAverage, f64, nil},
	{api.OpVariance, f64, nil}, {api.OpSkew, f64, nil}, {api.OpKurtosis, i64, nil},
	{api.OpMin, i64, nil}, {api.OpMin, str, nil}, {api.OpMax, f64, nil}, {api.OpMax, str, nil},
	{api.OpFirst, str, nil}, {api.OpLast, i64, nil},
	{api.OpFirstK, str, k3}, {api.OpLastK, f64, k3},
	{api.OpTopK, i64, k3}, {api.OpBottomK, str, k3}, {api.OpTopK, f64, k3},
	{api.OpUniqueCount, str, nil}, {api.OpUniqueCount, i64, nil},
	{api.OpApproxUniqueCount, str, nil},
	{api.OpBoundedUniqueCount, str, map[string]string{"k": "5"}},
	{api.OpApproxPercentile, f64, pcts},
	{api.OpHistogram, str, nil}, {api.OpHistogram, str, map[string]string{"k": "2"}},
	{api.OpApproxHistogramK, str, k3},
	// Vector and map inputs.
	{api.OpSum, arrow.ListOf(i64), nil},
	{api.OpAverage, arrow.MapOf(str, f64), nil},
	{api.OpLast, arrow.ListOf(str), nil},
}

var testWindows = []api.Window{api.Hours(1), api.Days(1), api.Days(7), api.Days(30)}

// toEvents converts oracle events to engine events with columns [x, b].
func toEvents(evs []oracle.Event) []agg.Event {
	out := make([]agg.Event, len(evs))
	for i, e := range evs {
		out[i] = agg.Event{Ts: e.Ts, Values: []any{e.Values["x"], e.Values["b"]}}
	}
	return out
}

// sortStable sorts events by ts keeping arrival order among ties, as the
// offline engine does.
func sortStable(evs []oracle.Event) {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Ts < evs[j].Ts })
}

// TestEvaluatorsAgreeWithOracle is the acceptance property test: for every
// op x {unbounded, 1h, 1d, 7d, 30d} x buckets on/off x both tail modes, on
// random events and query times, the offline sweep and the online
// batch+streaming merge equal the oracle.
func TestEvaluatorsAgreeWithOracle(t *testing.T) {
	seeds := 4
	if testing.Short() {
		seeds = 1
	}
	fields := func(c opCase) []arrow.Field {
		return []arrow.Field{{Name: "x", Type: c.input, Nullable: true}, {Name: "b", Type: str, Nullable: true}}
	}
	const day = int64(24 * 3600 * 1000)
	start := int64(1700000000000) - 1700000000000%day // a midnight
	end := start + 40*day
	batchEnd := start + 34*day
	for _, c := range opCases {
		for _, bucketed := range []bool{false, true} {
			if _, isMap := c.input.(*arrow.MapType); isMap && bucketed {
				continue // Chronon does not bucket map inputs
			}
			for _, mode := range []agg.TailMode{agg.ExactTails, agg.HopTails} {
				name := fmt.Sprintf("%s/bucketed=%v/%s", c, bucketed, mode)
				t.Run(name, func(t *testing.T) {
					a := &api.Aggregation{InputColumn: "x", Operation: c.op, ArgMap: c.args, Windows: append([]api.Window{{}}, testWindows...)}
					if bucketed {
						a.Buckets = []string{"b"}
					}
					spec, err := agg.NewSpec([]*api.Aggregation{a}, fields(c), mode)
					if err != nil {
						t.Fatal(err)
					}
					parts := a.Unpack()
					omode := oracle.Exact
					if mode == agg.HopTails {
						omode = oracle.Hop
					}
					for seed := 0; seed < seeds; seed++ {
						rng := rand.New(rand.NewPCG(uint64(seed), 7))
						evs := oracle.RandomEvents(rng, 400, map[string]arrow.DataType{"x": c.input, "b": str}, start, end)
						sortStable(evs)
						events := toEvents(evs)
						queries := oracle.RandomQueryTimes(rng, evs, testWindows, 120, start, end)
						check := func(how string, T int64, got []any) {
							t.Helper()
							for ci, p := range parts {
								if err := oracle.Check(p, c.input, evs, T, omode, got[ci], oracle.CheckOptions{}); err != nil {
									t.Fatalf("seed %d %s: %v", seed, how, err)
								}
							}
						}
						for qi, row := range spec.Sweep(events, queries) {
							check("sweep", queries[qi], row)
						}
						// Online: batch value of the events before batchEnd
						// plus one tile per streaming event time, fetched
						// within the serving buffer.
						batch := spec.Batch(events, batchEnd)
						enc := spec.AppendBatchValue(nil, batch)
						batch, err = spec.DecodeBatchValue(enc)
						if err != nil {
							t.Fatal(err)
						}
						tiles := streamingTiles(t, spec, events, batchEnd)
						for _, T := range queries {
							if T < batchEnd || T >= batchEnd+agg.ServingBuffer {
								continue
							}
							got, err := spec.Fetch(batch, tiles, T)
							if err != nil {
								t.Fatal(err)
							}
							check("online", T, got)
						}
					}
				})
			}
		}
	}
}

// streamingTiles makes encoded-and-decoded five-minute tiles with fine
// sub-tiles of the events at or after batchEnd, so every window edge can be
// resolved.
func streamingTiles(t *testing.T, spec *agg.Spec, events []agg.Event, batchEnd int64) []agg.Tile {
	first := sort.Search(len(events), func(i int) bool { return events[i].Ts >= batchEnd })
	var tiles []agg.Tile
	for _, tl := range spec.Tiles(events[first:], true) {
		dec, err := spec.DecodeTile(spec.AppendTile(nil, &tl))
		if err != nil {
			t.Fatal(err)
		}
		tiles = append(tiles, *dec)
	}
	return tiles
}

func TestFetchEdges(t *testing.T) {
	a := &api.Aggregation{InputColumn: "x", Operation: api.OpSum, Windows: []api.Window{api.Hours(1)}}
	spec, err := agg.NewSpec([]*api.Aggregation{a}, []arrow.Field{{Name: "x", Type: i64}}, agg.ExactTails)
	if err != nil {
		t.Fatal(err)
	}
	const B = int64(1700006400000) // a midnight
	events := []agg.Event{{Ts: B - 3600000, Values: []any{int64(1)}}, {Ts: B - 1, Values: []any{int64(2)}},
		{Ts: B + 10, Values: []any{int64(4)}}, {Ts: B + 20, Values: []any{int64(8)}}}
	batch := spec.Batch(events, B)
	if _, err := spec.Fetch(batch, nil, B-1); !errors.Is(err, agg.ErrBeforeBatch) {
		t.Errorf("fetch before batch end: %v", err)
	}
	fine := []agg.Tile{spec.NewTile(events[2:3]), spec.NewTile(events[3:4])}
	for _, tc := range []struct {
		T    int64
		want any
	}{
		{B, int64(3)},                // both batch events; the one at B-1h is exactly at the tail
		{B + 1, int64(2)},            // B-1h left
		{B + 21, int64(14)},          // 2 + 4 + 8
		{B + 3600000 + 11, int64(8)}, // only the event at B+20 is left
		{B + 3600000 + 21, nil},      // empty window is null
		{B + 2*24*3600000, nil},      // stale but still answered
	} {
		got, err := spec.Fetch(batch, fine, tc.T)
		if err != nil {
			t.Fatalf("T=B+%d: %v", tc.T-B, err)
		}
		if got[0] != tc.want {
			t.Errorf("T=B+%d: got %v, want %v", tc.T-B, got[0], tc.want)
		}
	}
	// One tile over both streaming events serves queries whose window edges
	// fall outside it, and reports the ones that cut it: the head at B+15,
	// the tail at B+1h+15. With fine sub-tiles it resolves them.
	withFine := spec.Tiles(events[2:], true)
	for _, T := range []int64{B + 15, B + 3600000 + 15} {
		if got, err := spec.Fetch(batch, withFine, T); err != nil || got[0] == nil {
			t.Errorf("T=B+%d with fine tiles: %v, %v", T-B, got, err)
		}
	}
	coarse := spec.Tiles(events[2:], false)
	if got, err := spec.Fetch(batch, coarse, B+21); err != nil || got[0] != int64(14) {
		t.Errorf("coarse tile inside the window: %v, %v", got, err)
	}
	for _, T := range []int64{B + 15, B + 3600000 + 15} {
		if _, err := spec.Fetch(batch, coarse, T); !errors.Is(err, agg.ErrTileCut) {
			t.Errorf("T=B+%d: want ErrTileCut, got %v", T-B, err)
		}
	}
}

func FuzzDecodeBatchValue(f *testing.F) {
	a := []*api.Aggregation{
		{InputColumn: "x", Operation: api.OpSum, Windows: []api.Window{api.Days(1), {}}},
		{InputColumn: "x", Operation: api.OpLastK, ArgMap: map[string]string{"k": "2"}, Windows: []api.Window{api.Hours(3)}},
	}
	spec, err := agg.NewSpec(a, []arrow.Field{{Name: "x", Type: i64, Nullable: true}}, agg.ExactTails)
	if err != nil {
		f.Fatal(err)
	}
	const B = int64(1700006400000)
	var events []agg.Event
	for i := int64(0); i < 20; i++ {
		events = append(events, agg.Event{Ts: B - 3*86400000 + i*13*3600000, Values: []any{i}})
	}
	valid := spec.AppendBatchValue(nil, spec.Batch(events, B))
	f.Add(valid)
	tl := spec.NewTile(events[:3])
	f.Add(spec.AppendTile(nil, &tl))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, data []byte) {
		if b, err := spec.DecodeBatchValue(data); err == nil {
			if _, err := spec.Fetch(b, nil, b.BatchEnd); err != nil && !errors.Is(err, agg.ErrCorruptIR) {
				t.Fatalf("fetch of a decoded value: %v", err)
			}
		}
		_, _ = spec.DecodeTile(data)
	})
}

func TestNewSpecErrors(t *testing.T) {
	fields := []arrow.Field{{Name: "x", Type: i64}, {Name: "n", Type: i64}}
	for _, tc := range []struct {
		a    *api.Aggregation
		want string
	}{
		{&api.Aggregation{InputColumn: "y", Operation: api.OpSum}, `input column "y" is not a source column`},
		{&api.Aggregation{InputColumn: "x", Operation: api.OpSum, Buckets: []string{"z"}}, `bucket column "z" is not a source column`},
		{&api.Aggregation{InputColumn: "x", Operation: api.OpSum, Buckets: []string{"n"}}, `bucket column "n" must be a string`},
		{&api.Aggregation{InputColumn: "x", Operation: api.OpLastK}, "x_last"},
	} {
		_, err := agg.NewSpec([]*api.Aggregation{tc.a}, fields, agg.ExactTails)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSpec(%+v) error = %v, want %q", tc.a, err, tc.want)
		}
	}
	// Parts that differ only by window share one base aggregator.
	spec, err := agg.NewSpec([]*api.Aggregation{
		{InputColumn: "x", Operation: api.OpSum, Windows: []api.Window{api.Days(1), api.Days(7)}},
		{InputColumn: "x", Operation: api.OpSum, Windows: []api.Window{api.Hours(1)}},
		{InputColumn: "x", Operation: api.OpCount},
	}, fields, agg.ExactTails)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec.Bases) != 2 || len(spec.Columns) != 4 || spec.Columns[2].Base != 0 || spec.Columns[3].Base != 1 {
		t.Errorf("bases %d columns %+v", len(spec.Bases), spec.Columns)
	}
}
