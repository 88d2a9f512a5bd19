// SPDX-License-Identifier: Apache-2.0

package online

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/agg"
)

// StreamTile is the streaming job's state of one key's TileMillis span
// of events in a GroupBy's _STREAMING dataset. It is stored as two kinds of
// entries, so that each write costs in proportion to the new events rather
// than to the whole span:
//
//   - the summary, under the key at TsMillis = the span's start: the
//     span's IRs (no fine sub-tiles) and its chunk count. A fetch merges
//     it whole when no window edge cuts the span, which is almost always.
//   - the chunks, under ChunkKey(key, span) at TsMillis = span + seq
//     (seq from 1): each holds up to ChunkEvents events' message-id
//     hashes and fine sub-tiles (one per event time). A fetch reads them
//     only for a span a window edge cuts; the job reads them back, after a
//     restart, to know which messages it has folded (Pub/Sub delivers at
//     least once, so a redelivered message must count once).
//
// New events go to the last chunk until it is full, so a write rewrites
// one chunk of at most ChunkEvents events and the summary. The chunks are
// the truth: a job writes them before the summary, counts only chunks
// 1..Chunks, and rebuilds the summary from the chunks it reads back, so a
// crash between the two writes loses nothing.
type StreamTile struct {
	// Summary aggregates every event of the span (no fine sub-tiles).
	Summary agg.Tile
	// Chunks is the number of chunks; Last is chunk number Chunks.
	Chunks int
	Last   TileChunk
	ids    map[uint64]struct{}
	// full says Last is stored with ChunkEvents events or more: the next
	// event starts a new chunk. A chunk fills up only between writes, so
	// each write has one chunk to store.
	full bool
}

// TileChunk is a stored chunk of a StreamTile: its events' IRs with one
// fine sub-tile per event time, and their message-id hashes.
type TileChunk struct {
	Tile agg.Tile
	IDs  []uint64
}

// ChunkEvents is how many events a chunk takes before a new one starts
// (more when they come in one write).
const ChunkEvents = 64

// MessageID hashes a message id (a Pub/Sub message id, or any id unique
// per event) for deduplication.
func MessageID(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// chunkKeyMarker separates an entity key from a span start in ChunkKey. A
// GroupBy's entity keys all hold the same number of self-delimiting values
// (AppendKey), so an entity key followed by more bytes is never another
// entity key of that GroupBy: chunk keys cannot collide with summaries'.
const chunkKeyMarker = "\xffchunk"

// ChunkKey is the key of the chunks of key's span starting at span.
func ChunkKey(key []byte, span int64) []byte {
	out := make([]byte, 0, len(key)+len(chunkKeyMarker)+8)
	out = append(append(out, key...), chunkKeyMarker...)
	return binary.BigEndian.AppendUint64(out, uint64(span))
}

// ChunkTs is the TsMillis of chunk seq (from 1) of the span at span.
func ChunkTs(span int64, seq int) int64 { return span + int64(seq) }

// Add folds an event with message id hash id into the tile, unless that
// message was folded already; it reports whether the tile changed. A new
// chunk starts when the last one is full and stored (Written).
func (st *StreamTile) Add(spec *agg.Spec, e agg.Event, id uint64) bool {
	if _, dup := st.ids[id]; dup {
		return false
	}
	if st.ids == nil {
		st.ids = map[uint64]struct{}{}
	}
	st.ids[id] = struct{}{}
	spec.AddEvent(&st.Summary, e)
	if st.Chunks == 0 || st.full {
		st.Chunks++
		st.Last, st.full = TileChunk{}, false
	}
	st.Last.IDs = append(st.Last.IDs, id)
	spec.AddToTile(&st.Last.Tile, e)
	return true
}

// LoadChunk folds stored chunk number seq into a tile being rebuilt from
// the store (chunks in any order): its ids, its IRs into the summary, and,
// when it is the latest so far, it becomes Last.
func (st *StreamTile) LoadChunk(spec *agg.Spec, seq int, c *TileChunk) {
	if st.ids == nil {
		st.ids = map[uint64]struct{}{}
	}
	for _, id := range c.IDs {
		st.ids[id] = struct{}{}
	}
	spec.MergeTile(&st.Summary, &c.Tile)
	if seq > st.Chunks {
		st.Chunks, st.Last = seq, *c
		st.Written()
	}
}

// Written tells the tile that its summary and last chunk are stored.
func (st *StreamTile) Written() { st.full = len(st.Last.IDs) >= ChunkEvents }

// Stream tile entries start with a kind and version byte.
const (
	tileSummaryVersion = 2
	tileChunkVersion   = 3
)

// AppendSummary appends the encoding of the tile's summary entry.
func (st *StreamTile) AppendSummary(spec *agg.Spec, dst []byte) []byte {
	dst = append(dst, tileSummaryVersion)
	dst = binary.AppendUvarint(dst, uint64(st.Chunks))
	return spec.AppendTile(dst, &st.Summary)
}

// DecodeSummary decodes a summary entry: the span's tile (without fine
// sub-tiles) and its chunk count.
func DecodeSummary(spec *agg.Spec, src []byte) (agg.Tile, int, error) {
	if len(src) == 0 || src[0] != tileSummaryVersion {
		return agg.Tile{}, 0, fmt.Errorf("%w: stream tile summary format (supported: %d); a streaming job of an older version wrote it: restart the job", ErrCorruptRow, tileSummaryVersion)
	}
	n, k := binary.Uvarint(src[1:])
	if k <= 0 || n > 1<<31 {
		return agg.Tile{}, 0, fmt.Errorf("%w: stream tile chunk count", ErrCorruptRow)
	}
	tl, err := spec.DecodeTile(src[1+k:])
	if err != nil {
		return agg.Tile{}, 0, err
	}
	return *tl, int(n), nil
}

// AppendChunk appends the encoding of a chunk entry: the id count and ids
// (8 bytes each), then the tile with its fine sub-tiles.
func AppendChunk(spec *agg.Spec, dst []byte, c *TileChunk) []byte {
	dst = append(dst, tileChunkVersion)
	dst = binary.AppendUvarint(dst, uint64(len(c.IDs)))
	for _, id := range c.IDs {
		dst = binary.LittleEndian.AppendUint64(dst, id)
	}
	return spec.AppendTile(dst, &c.Tile)
}

// DecodeChunk decodes what AppendChunk wrote for the same spec.
func DecodeChunk(spec *agg.Spec, src []byte) (*TileChunk, error) {
	head, err := splitChunk(src)
	if err != nil {
		return nil, err
	}
	tl, err := spec.DecodeTile(head.tile)
	if err != nil {
		return nil, err
	}
	c := &TileChunk{IDs: make([]uint64, len(head.ids)/8), Tile: *tl}
	for i := range c.IDs {
		c.IDs[i] = binary.LittleEndian.Uint64(head.ids[8*i:])
	}
	return c, nil
}

// chunkParts are a chunk's encoded ids (8 bytes each) and tile.
type chunkParts struct {
	ids, tile []byte
}

// splitChunk checks a chunk's version and id count and splits it, without
// decoding (a fetch needs the tile only).
func splitChunk(src []byte) (chunkParts, error) {
	if len(src) == 0 || src[0] != tileChunkVersion {
		return chunkParts{}, fmt.Errorf("%w: stream tile chunk format (supported: %d)", ErrCorruptRow, tileChunkVersion)
	}
	n, k := binary.Uvarint(src[1:])
	if k <= 0 || n > uint64(len(src))/8 {
		return chunkParts{}, fmt.Errorf("%w: stream tile chunk id count", ErrCorruptRow)
	}
	rest := src[1+k:]
	if uint64(len(rest)) < 8*n {
		return chunkParts{}, fmt.Errorf("%w: stream tile chunk ids truncated", ErrCorruptRow)
	}
	return chunkParts{ids: rest[:8*n], tile: rest[8*n:]}, nil
}

// FineOf returns the fine sub-tiles of a span from its chunks (those
// numbered 1..chunks; a later one is a write not yet committed by its
// summary), sorted by start: what a fetch needs of a span a window edge
// cuts. They are the chunks themselves, each a tile of its events whose
// own fine sub-tiles stay encoded until an edge cuts that chunk: events
// mostly arrive in time order, so an edge cuts one chunk, and a fetch
// decodes its events only.
func FineOf(spec *agg.Spec, span int64, chunks int, entries []ChunkEntry) ([]agg.Tile, error) {
	var fine []agg.Tile
	for _, e := range entries {
		if seq := e.TsMillis - span; seq < 1 || seq > int64(chunks) {
			continue
		}
		head, err := splitChunk(e.Value)
		if err != nil {
			return nil, fmt.Errorf("chunk at %d: %w", e.TsMillis, err)
		}
		tl, err := spec.DecodeTileLazy(head.tile)
		if err != nil {
			return nil, fmt.Errorf("chunk at %d: %w", e.TsMillis, err)
		}
		fine = append(fine, *tl)
	}
	slices.SortStableFunc(fine, func(a, b agg.Tile) int { return cmp.Compare(a.Start, b.Start) })
	return fine, nil
}

// ChunkEntry is a stored chunk as read from the KV store.
type ChunkEntry struct {
	TsMillis int64
	Value    []byte
}

// MutationTile is what the streaming job stores per key and TileMillis span
// of mutation time for an entity GroupBy: the mutation rows themselves
// (a fetch applies those with mutation time before it, in order, as the
// backfill does) and the ids of the messages they came from.
type MutationTile struct {
	Muts []agg.Mutation
	IDs  []uint64
}

// Add appends a mutation with message id hash id, unless that message was
// added already; it reports whether the tile changed.
func (mt *MutationTile) Add(m agg.Mutation, id uint64) bool {
	i, found := slices.BinarySearch(mt.IDs, id)
	if found {
		return false
	}
	mt.IDs = slices.Insert(mt.IDs, i, id)
	mt.Muts = append(mt.Muts, m)
	return true
}

const mutationTileVersion = 1

// AppendMutationTile appends mt's encoding to dst; types are the types of
// the mutations' values (the GroupBy's event columns).
func AppendMutationTile(dst []byte, types []arrow.DataType, mt *MutationTile) ([]byte, error) {
	dst = append(dst, mutationTileVersion)
	dst = binary.AppendUvarint(dst, uint64(len(mt.IDs)))
	for _, id := range mt.IDs {
		dst = binary.LittleEndian.AppendUint64(dst, id)
	}
	dst = binary.AppendUvarint(dst, uint64(len(mt.Muts)))
	var row []byte
	for _, m := range mt.Muts {
		dst = binary.AppendVarint(dst, m.Ts)
		dst = binary.AppendVarint(dst, m.MutationTs)
		before := byte(0)
		if m.Before {
			before = 1
		}
		dst = append(dst, before)
		var err error
		if row, err = AppendRow(row[:0], types, m.Values); err != nil {
			return nil, err
		}
		dst = binary.AppendUvarint(dst, uint64(len(row)))
		dst = append(dst, row...)
	}
	return dst, nil
}

// DecodeMutationTile decodes what AppendMutationTile wrote.
func DecodeMutationTile(src []byte, types []arrow.DataType) (*MutationTile, error) {
	bad := func(what string) error { return fmt.Errorf("%w: mutation tile: %s", ErrCorruptRow, what) }
	if len(src) == 0 || src[0] != mutationTileVersion {
		return nil, bad("format version")
	}
	src = src[1:]
	uv := func() (uint64, bool) {
		v, k := binary.Uvarint(src)
		if k <= 0 {
			return 0, false
		}
		src = src[k:]
		return v, true
	}
	zv := func() (int64, bool) {
		v, k := binary.Varint(src)
		if k <= 0 {
			return 0, false
		}
		src = src[k:]
		return v, true
	}
	n, ok := uv()
	if !ok || n > uint64(len(src))/8 {
		return nil, bad("id count")
	}
	mt := &MutationTile{IDs: make([]uint64, n)}
	for i := range mt.IDs {
		mt.IDs[i] = binary.LittleEndian.Uint64(src)
		src = src[8:]
	}
	if !slices.IsSorted(mt.IDs) {
		return nil, bad("ids not sorted")
	}
	n, ok = uv()
	if !ok || n > uint64(len(src)) {
		return nil, bad("mutation count")
	}
	for i := uint64(0); i < n; i++ {
		var m agg.Mutation
		var ok1, ok2 bool
		m.Ts, ok1 = zv()
		m.MutationTs, ok2 = zv()
		if !ok1 || !ok2 || len(src) == 0 {
			return nil, bad("mutation times")
		}
		m.Before = src[0] == 1
		src = src[1:]
		size, ok := uv()
		if !ok || size > uint64(len(src)) {
			return nil, bad("row size")
		}
		vals, err := DecodeRow(src[:size], types)
		if err != nil {
			return nil, err
		}
		src = src[size:]
		m.Values = vals
		mt.Muts = append(mt.Muts, m)
	}
	if len(src) > 0 {
		return nil, bad("trailing bytes")
	}
	return mt, nil
}
