// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// TestAddToTileMatchesTiles: events added one by one, in a shuffled order,
// give the tile Tiles builds from them sorted, and fetches over tiles built
// either way agree at every time.
func TestAddToTileMatchesTiles(t *testing.T) {
	spec, err := NewSpec([]*api.Aggregation{
		{InputColumn: "x", Operation: api.OpSum, Windows: []api.Window{api.Hours(1)}},
		{InputColumn: "x", Operation: api.OpLastK, ArgMap: map[string]string{"k": "3"}},
		{InputColumn: "x", Operation: api.OpCount},
	}, []arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, ExactTails)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	base := int64(1_700_000_100_000) / TileMillis * TileMillis
	var events []Event
	for i := 0; i < 200; i++ {
		events = append(events, Event{Ts: base + rng.Int64N(4*TileMillis), Values: []any{rng.Int64N(50)}})
	}
	sorted := append([]Event(nil), events...)
	sortEvents(sorted)
	want := spec.Tiles(sorted, true)

	byStart := map[int64]*Tile{}
	for _, i := range rng.Perm(len(events)) {
		e := events[i]
		st := TileStart(e.Ts)
		if byStart[st] == nil {
			byStart[st] = &Tile{}
		}
		spec.AddToTile(byStart[st], e)
	}
	var got []Tile
	for _, w := range want {
		tl := byStart[TileStart(w.Start)]
		if tl == nil {
			t.Fatalf("no tile for %d", w.Start)
		}
		// Encodings compare IRs by value.
		if a, b := spec.AppendTile(nil, tl), spec.AppendTile(nil, &w); !reflect.DeepEqual(a, b) && !sameFetches(t, spec, []Tile{*tl}, []Tile{w}, base) {
			t.Errorf("tile at %d differs", w.Start)
		}
		got = append(got, *tl)
	}
	if !sameFetches(t, spec, got, want, base) {
		t.Error("fetches over added and built tiles differ")
	}
}

func sortEvents(evs []Event) {
	for i := 1; i < len(evs); i++ {
		for j := i; j > 0 && evs[j].Ts < evs[j-1].Ts; j-- {
			evs[j], evs[j-1] = evs[j-1], evs[j]
		}
	}
}

func sameFetches(t *testing.T, spec *Spec, a, b []Tile, base int64) bool {
	t.Helper()
	for ts := base; ts <= base+5*TileMillis; ts += 7919 {
		x, err1 := spec.Fetch(nil, a, ts)
		y, err2 := spec.Fetch(nil, b, ts)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(x, y) {
			t.Logf("at %d: %v (%v) vs %v (%v)", ts, x, err1, y, err2)
			return false
		}
	}
	return true
}
