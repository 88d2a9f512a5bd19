// SPDX-License-Identifier: Apache-2.0

package online

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
)

var (
	tI64  = arrow.PrimitiveTypes.Int64
	tI32  = arrow.PrimitiveTypes.Int32
	tF64  = arrow.PrimitiveTypes.Float64
	tStr  = arrow.BinaryTypes.String
	tBool = arrow.FixedWidthTypes.Boolean
)

func TestKeyEncodingWidths(t *testing.T) {
	a, err := AppendKey(nil, []any{int32(5), "x"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := AppendKey(nil, []any{int64(5), "x"})
	if string(a) != string(b) {
		t.Errorf("int32 and int64 keys differ: %q %q", a, b)
	}
	c, _ := AppendKey(nil, []any{"5", "x"})
	if string(a) == string(c) {
		t.Errorf("the string key \"5\" encodes like the integer 5")
	}
	// Concatenation cannot collide: ("ab","c") vs ("a","bc").
	d, _ := AppendKey(nil, []any{"ab", "c"})
	e, _ := AppendKey(nil, []any{"a", "bc"})
	if string(d) == string(e) {
		t.Error("length prefixes missing")
	}
	if _, err := AppendKey(nil, []any{struct{}{}}); err == nil {
		t.Error("an unsupported key type is accepted")
	}
}

func TestCoerceKey(t *testing.T) {
	for _, tc := range []struct {
		in   any
		t    arrow.DataType
		want any
		ok   bool
	}{
		{"5", tStr, "5", true},
		{float64(5), tStr, "5", true},
		{json.Number("5"), tStr, "5", true},
		{"5", tI64, int64(5), true},
		{float64(5), tI64, int64(5), true},
		{float64(5.5), tI64, nil, false},
		{json.Number("7"), tI32, int32(7), true},
		{"3000000000", tI32, nil, false},
		{"x", tI64, nil, false},
		{"2.5", tF64, 2.5, true},
		{int64(2), tF64, 2.0, true},
		{"true", tBool, true, true},
		{nil, tI64, nil, true},
	} {
		got, err := CoerceKey(tc.in, tc.t)
		if (err == nil) != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("CoerceKey(%#v, %s) = %#v, %v; want %#v (ok %v)", tc.in, tc.t, got, err, tc.want, tc.ok)
		}
	}
}

func rowTypes() []arrow.DataType {
	return []arrow.DataType{tI64, tF64, tStr, tBool, tI32, arrow.ListOf(tI64), arrow.MapOf(tStr, tF64), arrow.BinaryTypes.Binary}
}

func TestRowRoundTrip(t *testing.T) {
	types := rowTypes()
	for _, row := range [][]any{
		{int64(-3), 2.5, "héllo", true, int32(7), []any{int64(1), nil, int64(3)}, map[string]any{"a": 1.5, "b": nil}, []byte{0, 1}},
		{nil, nil, nil, nil, nil, nil, nil, nil},
		{int64(0), 0.0, "", false, int32(0), []any{}, map[string]any{}, []byte{}},
	} {
		b, err := AppendRow(nil, types, row)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeRow(b, types)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, row) {
			t.Errorf("round trip: got %#v, want %#v", got, row)
		}
	}
	if _, err := AppendRow(nil, types[:1], []any{"not an int"}); err == nil {
		t.Error("a value of the wrong type is accepted")
	}
	if _, err := DecodeRow([]byte{1, 1}, types[:1]); !errors.Is(err, ErrCorruptRow) {
		t.Errorf("truncated row: err = %v", err)
	}
}

func FuzzDecodeRow(f *testing.F) {
	types := rowTypes()
	good, _ := AppendRow(nil, types, []any{int64(1), 1.0, "x", true, int32(2), []any{int64(4)}, map[string]any{"k": 2.0}, []byte("z")})
	f.Add(good)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		row, err := DecodeRow(b, types)
		if err != nil {
			return
		}
		again, err := AppendRow(nil, types, row)
		if err != nil {
			t.Fatalf("a decoded row does not encode: %v", err)
		}
		if _, err := DecodeRow(again, types); err != nil {
			t.Fatalf("re-encoded row does not decode: %v", err)
		}
	})
}

func streamSpec(t testing.TB) *agg.Spec {
	spec, err := agg.NewSpec([]*api.Aggregation{
		{InputColumn: "x", Operation: api.OpSum},
		{InputColumn: "x", Operation: api.OpCount, Windows: []api.Window{api.Hours(1)}},
		{InputColumn: "x", Operation: api.OpLastK, ArgMap: map[string]string{"k": "3"}, Windows: []api.Window{api.Hours(2)}},
	}, []arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, agg.ExactTails)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func TestStreamTileDeduplicates(t *testing.T) {
	spec := streamSpec(t)
	base := agg.TileStart(1_700_000_000_000)
	var st StreamTile
	msgs := []struct {
		id string
		ts int64
		x  int64
	}{{"m1", base + 10, 5}, {"m2", base + 3, 7}, {"m1", base + 10, 5}, {"m3", base + 10, 1}, {"m2", base + 3, 7}}
	changed := 0
	for _, m := range msgs {
		if st.Add(spec, agg.Event{Ts: m.ts, Values: []any{m.x}}, MessageID(m.id)) {
			changed++
		}
	}
	if changed != 3 {
		t.Errorf("%d messages changed the tile, want 3 (two are redeliveries)", changed)
	}
	got, err := spec.Fetch(nil, []agg.Tile{st.Summary}, base+agg.TileMillis)
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != int64(13) || got[1] != int64(3) {
		t.Errorf("fetched %v, want sum 13 and count 3", got)
	}
}

// TestStreamTileChunks writes a span's events as the streaming job does
// (batches of random size, each rewriting its last chunk and the summary),
// then checks what a fetch and a restarted job get from the stored
// entries: a fetch with the span's fine sub-tiles equals one over the
// events' own tiles at every window edge, and a tile rebuilt from the
// chunks has the summary and knows every message.
func TestStreamTileChunks(t *testing.T) {
	spec := streamSpec(t)
	rng := rand.New(rand.NewPCG(1, 2))
	span := agg.TileStart(1_700_000_000_000)
	var st StreamTile
	var events []agg.Event
	stored := map[int][]byte{} // chunk entries by seq
	summary := []byte(nil)
	for n := 0; n < 300; {
		for b := rng.IntN(40) + 1; b > 0 && n < 300; b-- {
			e := agg.Event{Ts: span + rng.Int64N(agg.TileMillis), Values: []any{rng.Int64N(100)}}
			if !st.Add(spec, e, MessageID(fmt.Sprint(n))) {
				t.Fatalf("message %d is not a duplicate", n)
			}
			events = append(events, e)
			n++
		}
		stored[st.Chunks] = AppendChunk(spec, nil, &st.Last)
		summary = st.AppendSummary(spec, nil)
		st.Written()
	}
	if st.Chunks < 300/(ChunkEvents+40) || st.Chunks > 300/ChunkEvents+1 || len(stored) != st.Chunks {
		t.Fatalf("%d chunks (%d stored) for 300 events", st.Chunks, len(stored))
	}
	// A write not committed by a summary is ignored by fetches.
	orphan := StreamTile{}
	orphan.Add(spec, agg.Event{Ts: span + 1, Values: []any{int64(1000)}}, MessageID("orphan"))
	var entries []ChunkEntry
	for seq, v := range stored {
		entries = append(entries, ChunkEntry{TsMillis: ChunkTs(span, seq), Value: v})
	}
	entries = append(entries, ChunkEntry{TsMillis: ChunkTs(span, st.Chunks+1), Value: AppendChunk(spec, nil, &orphan.Last)})

	tl, chunks, err := DecodeSummary(spec, summary)
	if err != nil || chunks != st.Chunks {
		t.Fatalf("summary: %d chunks, %v", chunks, err)
	}
	if tl.Fine, err = FineOf(spec, span, chunks, entries); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(events, func(a, b agg.Event) int { return cmp.Compare(a.Ts, b.Ts) })
	want := spec.Tiles(events, true)
	for i := 0; i < 200; i++ {
		at := span + rng.Int64N(agg.TileMillis+1) + []int64{0, 3600_000, 7200_000}[i%3]
		got, err := spec.Fetch(nil, []agg.Tile{tl}, at)
		if err != nil {
			t.Fatal(err)
		}
		exp, err := spec.Fetch(nil, want, at)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, exp) {
			t.Fatalf("fetch at span+%d: %v, want %v", at-span, got, exp)
		}
	}
	// Without fine sub-tiles, the spans a window edge cuts are named.
	tl.Fine = nil
	if cut := spec.CutTiles(span, []agg.Tile{tl}, tl.Start+3600_000+1); len(cut) != 1 {
		t.Errorf("CutTiles at the first event + 1h + 1ms: %v, want the span", cut)
	}
	if cut := spec.CutTiles(span, []agg.Tile{tl}, tl.End+agg.TileMillis); len(cut) != 0 {
		t.Errorf("CutTiles after the span: %v, want none", cut)
	}

	// A restarted job rebuilds the tile from its chunks (the orphan too:
	// its message was written and must not count twice).
	var back StreamTile
	for _, e := range entries {
		c, err := DecodeChunk(spec, e.Value)
		if err != nil {
			t.Fatal(err)
		}
		back.LoadChunk(spec, int(e.TsMillis-span), c)
	}
	if back.Chunks != st.Chunks+1 {
		t.Errorf("rebuilt %d chunks, want %d", back.Chunks, st.Chunks+1)
	}
	for n := 0; n < 300; n++ {
		if back.Add(spec, agg.Event{Ts: span, Values: []any{int64(1)}}, MessageID(fmt.Sprint(n))) {
			t.Fatalf("the rebuilt tile folded message %d again", n)
		}
	}
	gotSum, _ := spec.Fetch(nil, []agg.Tile{back.Summary}, span+agg.TileMillis)
	wantSum, _ := spec.Fetch(nil, spec.Tiles(append(events, agg.Event{Ts: span + 1, Values: []any{int64(1000)}}), false), span+agg.TileMillis)
	if !reflect.DeepEqual(gotSum, wantSum) {
		t.Errorf("rebuilt summary fetches %v, want %v", gotSum, wantSum)
	}

	for _, bad := range [][]byte{nil, {9}, summary[:3], {tileSummaryVersion, 200}} {
		if _, _, err := DecodeSummary(spec, bad); err == nil {
			t.Errorf("DecodeSummary(%x) succeeded", bad)
		}
		if _, err := DecodeChunk(spec, bad); err == nil {
			t.Errorf("DecodeChunk(%x) succeeded", bad)
		}
	}
}

func FuzzDecodeStreamTile(f *testing.F) {
	spec, err := agg.NewSpec([]*api.Aggregation{{InputColumn: "x", Operation: api.OpLastK, ArgMap: map[string]string{"k": "2"}}},
		[]arrow.Field{{Name: "x", Type: arrow.BinaryTypes.String, Nullable: true}}, agg.ExactTails)
	if err != nil {
		f.Fatal(err)
	}
	var st StreamTile
	st.Add(spec, agg.Event{Ts: 100, Values: []any{"a"}}, 1)
	st.Add(spec, agg.Event{Ts: 50, Values: []any{"b"}}, 2)
	f.Add(st.AppendSummary(spec, nil))
	f.Add(AppendChunk(spec, nil, &st.Last))
	f.Fuzz(func(t *testing.T, b []byte) {
		if tl, n, err := DecodeSummary(spec, b); err == nil {
			back := StreamTile{Summary: tl, Chunks: n}
			back.AppendSummary(spec, nil)
		}
		if c, err := DecodeChunk(spec, b); err == nil {
			AppendChunk(spec, nil, c)
		}
		// A fetch cutting a chunk decodes its fine sub-tiles lazily.
		fine, err := FineOf(spec, 0, 1, []ChunkEntry{{TsMillis: 1, Value: b}})
		if err == nil && len(fine) == 1 && fine[0].End-fine[0].Start > 1 {
			spec.Fetch(nil, fine, fine[0].Start+1)
		}
	})
}

func TestMutationTileRoundTrip(t *testing.T) {
	types := []arrow.DataType{tI64, arrow.BinaryTypes.String}
	var mt MutationTile
	muts := []agg.Mutation{
		{Event: agg.Event{Ts: 10, Values: []any{int64(5), "a"}}, MutationTs: 100, Before: false},
		{Event: agg.Event{Ts: 10, Values: []any{int64(5), nil}}, MutationTs: 120, Before: true},
	}
	if !mt.Add(muts[0], 1) || !mt.Add(muts[1], 2) || mt.Add(muts[0], 1) {
		t.Fatal("Add must accept two messages and refuse a redelivery")
	}
	enc, err := AppendMutationTile(nil, types, &mt)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeMutationTile(enc, types)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Muts, muts) || !reflect.DeepEqual(back.IDs, []uint64{1, 2}) {
		t.Errorf("decoded %+v", back)
	}
	for n := 0; n < len(enc); n++ {
		if _, err := DecodeMutationTile(enc[:n], types); err == nil {
			t.Errorf("a tile cut to %d bytes decoded", n)
		}
	}
}

func FuzzDecodeMutationTile(f *testing.F) {
	types := []arrow.DataType{tI64, arrow.BinaryTypes.String}
	var mt MutationTile
	mt.Add(agg.Mutation{Event: agg.Event{Ts: 1, Values: []any{int64(2), "x"}}, MutationTs: 3, Before: true}, 9)
	enc, _ := AppendMutationTile(nil, types, &mt)
	f.Add(enc)
	f.Fuzz(func(t *testing.T, b []byte) {
		if mt, err := DecodeMutationTile(b, types); err == nil {
			if _, err := AppendMutationTile(nil, types, mt); err != nil {
				t.Fatalf("re-encode: %v", err)
			}
		}
	})
}
