// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// ServingBuffer is how long after its batch end a batch value serves exact
// windows (Chronon's tail buffer): fetch times in [BatchEnd, BatchEnd +
// ServingBuffer) get exact tails; later ones are answered from the same
// value and are stale.
const ServingBuffer = 2 * dayMillis

// ErrBeforeBatch is returned when a fetch asks for a time before the batch
// value's end. Use errors.Is.
var ErrBeforeBatch = errors.New("agg: query time is before the batch end")

// ErrTileCut is returned when a window edge falls inside a streaming tile
// that kept no finer entries. Use errors.Is.
var ErrTileCut = errors.New("agg: a window edge cuts a streaming tile")

// BatchValue is what a batch upload stores for one key of a TEMPORAL
// GroupBy: every column's aggregate of the events that stay inside its
// window for every fetch time in [BatchEnd, BatchEnd + ServingBuffer)
// (Collapsed), and the events that may leave the window during that time
// (Band), grouped by event time, so a fetch can take exactly the ones still
// inside. Unbounded columns are wholly collapsed.
type BatchValue struct {
	// BatchEnd is the (exclusive) end of the uploaded data, epoch ms:
	// midnight after the last uploaded partition.
	BatchEnd int64
	// Collapsed holds one IR per column of the Spec.
	Collapsed []IR
	// Band holds, sorted by Ts, the events that may leave some column's
	// window while the value is served.
	Band []BandEntry
}

// BandEntry aggregates the band events at one event time.
type BandEntry struct {
	Ts int64
	// IRs holds one IR per Base of the Spec (nil where no column of that
	// base needs events at Ts).
	IRs []IR
}

// Tile is an aggregate of streaming events of one key after a batch end.
// Start and End bound its events tightly: Start is the smallest event time
// and End the largest plus one, so a window edge between two of its events
// is detected rather than misread. A tile may keep Fine sub-tiles (one per
// event time) for the fetches whose window edge falls inside it; without
// them such a fetch fails with ErrTileCut.
type Tile struct {
	Start, End int64
	// IRs holds one IR per Base of the Spec.
	IRs []IR
	// Fine holds the same events as finer tiles sorted by Start, or nothing.
	Fine []Tile
	// lazy holds Fine still encoded (DecodeTileLazy), decoded only when a
	// window edge cuts the tile.
	lazy lazyFine
}

// lazyFine is an encoded list of fine sub-tiles: n tile bodies.
type lazyFine struct {
	n   uint64
	src []byte
}

// hasFine reports whether tl has fine sub-tiles, decoded or not.
func (tl *Tile) hasFine() bool { return len(tl.Fine) > 0 || tl.lazy.n > 0 }

// TileMillis is the span of the streaming tiles Tiles builds: five minutes,
// Chronon's smallest hop.
const TileMillis = 5 * minuteMillis

// bandRange returns, for a windowed column, the band [from, to): events
// there may leave the window during the serving buffer; events in [to,
// batchEnd) never do.
func (s *Spec) bandRange(c *Column, batchEnd int64) (from, to int64) {
	from = Tail(batchEnd, c.Window, s.Mode)
	to = batchEnd - c.Window + ServingBuffer
	if to > batchEnd {
		to = batchEnd
	}
	return from, to
}

// Batch computes the batch value of one key from its events (sorted by Ts
// in arrival order); events at or after batchEnd are ignored.
func (s *Spec) Batch(events []Event, batchEnd int64) *BatchValue {
	b := &BatchValue{BatchEnd: batchEnd, Collapsed: make([]IR, len(s.Columns))}
	// Each base keeps the band events of the widest band of its columns; a
	// fetch takes from it only what lies in its own column's band.
	type span struct{ from, to int64 }
	bands := make([]span, len(s.Bases))
	for i := range bands {
		bands[i] = span{batchEnd, batchEnd} // empty
	}
	collapseFrom := make([]int64, len(s.Columns))
	for c := range s.Columns {
		col := &s.Columns[c]
		if col.Window <= 0 {
			collapseFrom[c] = minTs
			continue
		}
		from, to := s.bandRange(col, batchEnd)
		collapseFrom[c] = to
		sp := &bands[col.Base]
		if sp.from == sp.to {
			*sp = span{from, to}
		} else {
			*sp = span{min(sp.from, from), max(sp.to, to)}
		}
	}
	for i := range events {
		e := &events[i]
		if e.Ts >= batchEnd {
			break
		}
		for c := range s.Columns {
			col := &s.Columns[c]
			if e.Ts >= collapseFrom[c] {
				b.Collapsed[c] = s.Bases[col.Base].Agg.Update(b.Collapsed[c], s.Bases[col.Base].input(e))
			}
		}
		var entry *BandEntry
		for bi := range s.Bases {
			sp := bands[bi]
			if e.Ts < sp.from || e.Ts >= sp.to {
				continue
			}
			if entry == nil {
				if n := len(b.Band); n > 0 && b.Band[n-1].Ts == e.Ts {
					entry = &b.Band[n-1]
				} else {
					b.Band = append(b.Band, BandEntry{Ts: e.Ts, IRs: make([]IR, len(s.Bases))})
					entry = &b.Band[len(b.Band)-1]
				}
			}
			base := &s.Bases[bi]
			entry.IRs[bi] = base.Agg.Update(entry.IRs[bi], base.input(e))
		}
	}
	return b
}

// Stale reports whether a fetch at t is past the exact serving range of b.
func (b *BatchValue) Stale(t int64) bool { return t >= b.BatchEnd+ServingBuffer }

// Fetch merges a batch value (nil: no batch data) and the streaming tiles
// after its batch end (any order) into every column's value at t. With a
// batch value, t must not be before its BatchEnd (ErrBeforeBatch); tiles
// starting before BatchEnd are ignored (the batch has their events). The
// result is exact for t < BatchEnd + ServingBuffer; later it still counts
// collapsed events that have since left short windows (see Stale).
func (s *Spec) Fetch(b *BatchValue, tiles []Tile, t int64) ([]any, error) {
	irs, err := s.columnIRs(b, tiles, t)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(s.Columns))
	for c := range s.Columns {
		out[c] = s.Bases[s.Columns[c].Base].Agg.Finalize(irs[c])
	}
	return out, nil
}

// columnIRs merges, per column, the batch value's part inside the window
// at t and the tiles'.
func (s *Spec) columnIRs(b *BatchValue, tiles []Tile, t int64) ([]IR, error) {
	batchEnd := int64(minTs)
	if b != nil {
		if t < b.BatchEnd {
			return nil, fmt.Errorf("%w: %d < %d", ErrBeforeBatch, t, b.BatchEnd)
		}
		if len(b.Collapsed) != len(s.Columns) {
			return nil, fmt.Errorf("%w: batch value has %d columns, the definition %d", ErrCorruptIR, len(b.Collapsed), len(s.Columns))
		}
		batchEnd = b.BatchEnd
	}
	sorted := make([]Tile, 0, len(tiles))
	for _, tl := range tiles {
		if tl.Start >= batchEnd {
			sorted = append(sorted, tl)
		}
	}
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })

	out := make([]IR, len(s.Columns))
	for c := range s.Columns {
		col := &s.Columns[c]
		agg := s.Bases[col.Base].Agg
		tail := s.windowTail(col, t)
		var ir IR
		if b != nil {
			if col.Window > 0 {
				_, to := s.bandRange(col, b.BatchEnd)
				first := sort.Search(len(b.Band), func(i int) bool { return b.Band[i].Ts >= tail })
				for i := first; i < len(b.Band) && b.Band[i].Ts < to; i++ {
					ir = agg.Merge(ir, b.Band[i].IRs[col.Base])
				}
			}
			ir = agg.Merge(ir, b.Collapsed[c])
		}
		var err error
		if ir, err = s.mergeTiles(agg, ir, sorted, col.Base, tail, t); err != nil {
			return nil, fmt.Errorf("column %s: %w", col.Name, err)
		}
		out[c] = ir
	}
	return out, nil
}

// windowTail is the first event time inside col's window at t.
func (s *Spec) windowTail(col *Column, t int64) int64 {
	if col.Window > 0 {
		return Tail(t, col.Window, s.Mode)
	}
	return minTs
}

// Mutation is an entity mutation row: the row's values at its row time Ts,
// applied at MutationTs as an update or, for a before-image, a retraction.
type Mutation struct {
	Event
	MutationTs int64
	Before     bool
}

// FetchMutations is Fetch for an entity GroupBy with mutations: the batch
// value (the day's snapshot; nil: none) and the mutations (any order) with
// MutationTs in [batch end, t), applied in mutation-time order as the
// offline backfill applies them: updates add their row, before-images
// retract theirs from deletable operations (the others ignore retractions,
// as Chronon's do). A row counts in a window by its Ts.
func (s *Spec) FetchMutations(b *BatchValue, muts []Mutation, t int64) ([]any, error) {
	irs, err := s.columnIRs(b, nil, t)
	if err != nil {
		return nil, err
	}
	from := int64(minTs)
	if b != nil {
		from = b.BatchEnd
	}
	ordered := make([]*Mutation, 0, len(muts))
	for i := range muts {
		if m := &muts[i]; m.MutationTs >= from && m.MutationTs < t {
			ordered = append(ordered, m)
		}
	}
	sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].MutationTs < ordered[j].MutationTs })
	out := make([]any, len(s.Columns))
	for c := range s.Columns {
		col := &s.Columns[c]
		base := &s.Bases[col.Base]
		tail := s.windowTail(col, t)
		ir := irs[c]
		for _, m := range ordered {
			switch {
			case m.Ts < tail || m.Ts >= t:
			case !m.Before:
				ir = base.Agg.Update(ir, base.input(&m.Event))
			case base.Agg.Deletable() && ir != nil:
				ir = base.Agg.Delete(ir, base.input(&m.Event))
			}
		}
		out[c] = base.Agg.Finalize(ir)
	}
	return out, nil
}

// mergeTiles merges into ir the base's IRs of the tiles (sorted by Start)
// inside [tail, t), descending into a tile's fine sub-tiles (decoding them
// if they are still encoded) where an edge cuts it.
func (s *Spec) mergeTiles(agg Aggregator, ir IR, tiles []Tile, base int, tail, t int64) (IR, error) {
	for i := range tiles {
		tl := &tiles[i]
		switch {
		case tl.End <= tail || tl.Start >= t:
			continue
		case tl.Start >= tail && tl.End <= t:
			ir = agg.Merge(ir, tl.IRs[base])
		case tl.hasFine():
			if err := s.decodeFine(tl); err != nil {
				return nil, err
			}
			var err error
			if ir, err = s.mergeTiles(agg, ir, tl.Fine, base, tail, t); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("%w: tile [%d, %d), window [%d, %d)", ErrTileCut, tl.Start, tl.End, tail, t)
		}
	}
	return ir, nil
}

// decodeFine decodes a lazily decoded tile's fine sub-tiles in place.
func (s *Spec) decodeFine(tl *Tile) error {
	if tl.lazy.n == 0 {
		return nil
	}
	r := reader{b: tl.lazy.src}
	fine := make([]Tile, 0, tl.lazy.n)
	for i := uint64(0); i < tl.lazy.n && r.err == nil; i++ {
		fine = append(fine, *s.readTile(&r, 1))
	}
	if r.err == nil && len(r.b) > 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return fmt.Errorf("fine sub-tiles of tile [%d, %d): %w", tl.Start, tl.End, r.err)
	}
	tl.Fine, tl.lazy = fine, lazyFine{}
	return nil
}

// Tiles groups streaming events (sorted by Ts, in arrival order) into
// TileMillis-aligned tiles; with fine, each tile keeps one fine sub-tile per
// event time so that any window edge can be resolved.
func (s *Spec) Tiles(events []Event, fine bool) []Tile {
	var out []Tile
	for i := 0; i < len(events); {
		j := i
		start := floorTo(events[i].Ts, TileMillis)
		for j < len(events) && events[j].Ts < start+TileMillis {
			j++
		}
		tl := s.NewTile(events[i:j])
		if fine {
			for a := i; a < j; {
				b := a
				for b < j && events[b].Ts == events[a].Ts {
					b++
				}
				tl.Fine = append(tl.Fine, s.NewTile(events[a:b]))
				a = b
			}
		}
		out = append(out, tl)
		i = j
	}
	return out
}

// Encoding. A batch value and a tile each start with a format version byte;
// integers are varints; IRs use their Aggregator's own encoding.
const (
	batchValueVersion = 1
	tileVersion       = 1
)

// AppendBatchValue appends b's encoding to dst.
func (s *Spec) AppendBatchValue(dst []byte, b *BatchValue) []byte {
	dst = append(dst, batchValueVersion)
	dst = binary.AppendVarint(dst, b.BatchEnd)
	dst = binary.AppendUvarint(dst, uint64(len(s.Columns)))
	dst = binary.AppendUvarint(dst, uint64(len(s.Bases)))
	for c := range s.Columns {
		dst = s.Bases[s.Columns[c].Base].Agg.AppendIR(dst, b.Collapsed[c])
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.Band)))
	prev := b.BatchEnd
	for _, e := range b.Band {
		dst = binary.AppendVarint(dst, e.Ts-prev)
		prev = e.Ts
		for bi := range s.Bases {
			dst = s.Bases[bi].Agg.AppendIR(dst, e.IRs[bi])
		}
	}
	return dst
}

// DecodeBatchValue decodes a batch value written by AppendBatchValue for the
// same Spec. It returns an error wrapping ErrCorruptIR, never panics, on bad
// input.
func (s *Spec) DecodeBatchValue(src []byte) (*BatchValue, error) {
	r := reader{b: src}
	if v := r.u8(); v != batchValueVersion {
		return nil, fmt.Errorf("%w: batch value format version %d (supported: %d)", ErrCorruptIR, v, batchValueVersion)
	}
	b := &BatchValue{BatchEnd: r.zv()}
	ncols, nbases := r.uv(), r.uv()
	if r.err == nil && (ncols != uint64(len(s.Columns)) || nbases != uint64(len(s.Bases))) {
		return nil, fmt.Errorf("%w: batch value has %d columns and %d aggregators, the definition %d and %d (written for another version of the GroupBy?)",
			ErrCorruptIR, ncols, nbases, len(s.Columns), len(s.Bases))
	}
	b.Collapsed = make([]IR, len(s.Columns))
	for c := range s.Columns {
		b.Collapsed[c] = r.ir(s.Bases[s.Columns[c].Base].Agg)
	}
	n := r.uv()
	if r.err == nil && n > uint64(len(r.b)) {
		r.fail("band length %d exceeds the value", n)
	}
	prev := b.BatchEnd
	for i := uint64(0); i < n && r.err == nil; i++ {
		e := BandEntry{Ts: prev + r.zv(), IRs: make([]IR, len(s.Bases))}
		prev = e.Ts
		for bi := range s.Bases {
			e.IRs[bi] = r.ir(s.Bases[bi].Agg)
		}
		b.Band = append(b.Band, e)
	}
	if r.err == nil && len(r.b) > 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	return b, nil
}

// AppendTile appends tl's encoding (fine sub-tiles included) to dst.
func (s *Spec) AppendTile(dst []byte, tl *Tile) []byte {
	dst = append(dst, tileVersion)
	return s.appendTileBody(dst, tl)
}

func (s *Spec) appendTileBody(dst []byte, tl *Tile) []byte {
	dst = binary.AppendVarint(dst, tl.Start)
	dst = binary.AppendVarint(dst, tl.End-tl.Start)
	dst = binary.AppendUvarint(dst, uint64(len(s.Bases)))
	for bi := range s.Bases {
		dst = s.Bases[bi].Agg.AppendIR(dst, tl.IRs[bi])
	}
	dst = binary.AppendUvarint(dst, uint64(len(tl.Fine)))
	for i := range tl.Fine {
		dst = s.appendTileBody(dst, &tl.Fine[i])
	}
	return dst
}

// DecodeTile decodes a tile written by AppendTile for the same Spec.
func (s *Spec) DecodeTile(src []byte) (*Tile, error) {
	r := reader{b: src}
	if v := r.u8(); v != tileVersion {
		return nil, fmt.Errorf("%w: tile format version %d (supported: %d)", ErrCorruptIR, v, tileVersion)
	}
	tl := s.readTile(&r, 0)
	if r.err == nil && len(r.b) > 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return nil, r.err
	}
	return tl, nil
}

// DecodeTileLazy is DecodeTile leaving the fine sub-tiles encoded: Fetch
// decodes them only if a window edge cuts the tile (their errors surface
// then).
func (s *Spec) DecodeTileLazy(src []byte) (*Tile, error) {
	r := reader{b: src}
	if v := r.u8(); v != tileVersion {
		return nil, fmt.Errorf("%w: tile format version %d (supported: %d)", ErrCorruptIR, v, tileVersion)
	}
	tl := &Tile{Start: r.zv()}
	tl.End = tl.Start + r.zv()
	s.readTileIRs(&r, tl)
	n := r.uv()
	if r.err == nil && n > uint64(len(r.b)) {
		r.fail("bad fine tile count %d", n)
	}
	if r.err != nil {
		return nil, r.err
	}
	if n > 0 {
		tl.lazy = lazyFine{n: n, src: r.b}
	} else if len(r.b) > 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorruptIR, len(r.b))
	}
	return tl, nil
}

// maxTileDepth bounds fine-tile nesting when decoding untrusted bytes.
const maxTileDepth = 4

func (s *Spec) readTile(r *reader, depth int) *Tile {
	tl := &Tile{Start: r.zv()}
	tl.End = tl.Start + r.zv()
	s.readTileIRs(r, tl)
	n := r.uv()
	if r.err == nil && (n > uint64(len(r.b)) || (n > 0 && depth >= maxTileDepth)) {
		r.fail("bad fine tile count %d", n)
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		tl.Fine = append(tl.Fine, *s.readTile(r, depth+1))
	}
	return tl
}

// readTileIRs reads a tile body's base count and IRs into tl.
func (s *Spec) readTileIRs(r *reader, tl *Tile) {
	if nb := r.uv(); r.err == nil && nb != uint64(len(s.Bases)) {
		r.fail("tile has %d aggregators, the definition %d", nb, len(s.Bases))
	}
	tl.IRs = make([]IR, len(s.Bases))
	for bi := range s.Bases {
		tl.IRs[bi] = r.ir(s.Bases[bi].Agg)
	}
}

// NewTile aggregates events (sorted by Ts, all after the batch end) into
// one tile.
func (s *Spec) NewTile(events []Event) Tile {
	tl := Tile{IRs: make([]IR, len(s.Bases))}
	for i := range events {
		e := &events[i]
		if i == 0 || e.Ts < tl.Start {
			tl.Start = e.Ts
		}
		if i == 0 || e.Ts+1 > tl.End {
			tl.End = e.Ts + 1
		}
		for bi := range s.Bases {
			tl.IRs[bi] = s.Bases[bi].Agg.Update(tl.IRs[bi], s.Bases[bi].input(e))
		}
	}
	return tl
}

// ir decodes one IR of agg (sticky errors, like the other reads).
func (r *reader) ir(agg Aggregator) IR {
	if r.err != nil {
		return nil
	}
	ir, rest, err := agg.DecodeIR(r.b)
	if err != nil {
		r.fail("%v", err)
		return nil
	}
	r.b = rest
	return ir
}

// AddToTile folds one streaming event into tl, the tile of the event's
// TileMillis span (a zero Tile starts one), keeping one fine sub-tile per
// event time so that any window edge can be resolved. Events may arrive in
// any order: timed operations order their inputs by event time.
func (s *Spec) AddToTile(tl *Tile, e Event) {
	s.AddEvent(tl, e)
	i := sort.Search(len(tl.Fine), func(i int) bool { return tl.Fine[i].Start >= e.Ts })
	if i == len(tl.Fine) || tl.Fine[i].Start != e.Ts {
		tl.Fine = slices.Insert(tl.Fine, i, Tile{})
	}
	s.AddEvent(&tl.Fine[i], e)
}

// AddEvent updates a tile's bounds and IRs with one event, without fine
// sub-tiles (a zero Tile starts one).
func (s *Spec) AddEvent(tl *Tile, e Event) {
	if tl.IRs == nil {
		tl.IRs = make([]IR, len(s.Bases))
		tl.Start, tl.End = e.Ts, e.Ts+1
	}
	tl.Start = min(tl.Start, e.Ts)
	tl.End = max(tl.End, e.Ts+1)
	for bi := range s.Bases {
		tl.IRs[bi] = s.Bases[bi].Agg.Update(tl.IRs[bi], s.Bases[bi].input(&e))
	}
}

// MergeTile merges src's bounds and IRs into dst (a zero Tile starts one);
// fine sub-tiles are not merged. src's events count as arriving after
// dst's.
func (s *Spec) MergeTile(dst *Tile, src *Tile) {
	if src.IRs == nil {
		return
	}
	if dst.IRs == nil {
		dst.IRs = make([]IR, len(s.Bases))
		dst.Start, dst.End = src.Start, src.End
	}
	dst.Start = min(dst.Start, src.Start)
	dst.End = max(dst.End, src.End)
	for bi := range s.Bases {
		dst.IRs[bi] = s.Bases[bi].Agg.Merge(dst.IRs[bi], src.IRs[bi])
	}
}

// CutTiles returns the indices of the tiles (those starting at or after
// batchEnd) that some column's window at t cuts and that carry no fine
// sub-tiles: Fetch needs their fine sub-tiles (ErrTileCut otherwise).
func (s *Spec) CutTiles(batchEnd int64, tiles []Tile, t int64) []int {
	var out []int
	for i := range tiles {
		tl := &tiles[i]
		if tl.Start < batchEnd || tl.hasFine() || tl.Start >= t {
			continue
		}
		for c := range s.Columns {
			tail := s.windowTail(&s.Columns[c], t)
			if tl.End > tail && !(tl.Start >= tail && tl.End <= t) {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// TailSpans returns the starts of the TileMillis spans after batchEnd that
// a window tail at t falls inside (not on a span boundary): the tiles a
// fetch at t may find cut at their tail, whose fine sub-tiles a fetcher can
// read along with the tiles rather than after them. The head (t itself)
// cuts a tile only when it holds events at or after t, which a fetcher
// learns from the tiles.
func (s *Spec) TailSpans(batchEnd, t int64) []int64 {
	var out []int64
	for c := range s.Columns {
		col := &s.Columns[c]
		if col.Window <= 0 {
			continue
		}
		tail := s.windowTail(col, t)
		if tail < batchEnd || tail >= t || tail%TileMillis == 0 {
			continue
		}
		if span := TileStart(tail); !slices.Contains(out, span) {
			out = append(out, span)
		}
	}
	return out
}

// TileStart is the start of the TileMillis span holding ts.
func TileStart(ts int64) int64 { return floorTo(ts, TileMillis) }
