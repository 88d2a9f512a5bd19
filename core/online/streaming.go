// SPDX-License-Identifier: Apache-2.0

package online

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/agg"
)

// StreamTile is what the streaming job stores per key and TileMillis span
// in a GroupBy's _STREAMING dataset, at TsMillis = the span's start: the
// aggregated tile (with one fine sub-tile per event time, so any window
// edge resolves exactly) and the ids of the messages folded into it, so a
// message delivered twice (Pub/Sub delivers at least once) is counted once.
type StreamTile struct {
	Tile agg.Tile
	// IDs are the folded messages' id hashes (MessageID), sorted.
	IDs []uint64
}

// MessageID hashes a message id (a Pub/Sub message id, or any id unique
// per event) for StreamTile.IDs.
func MessageID(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// Add folds an event with message id hash id into the tile, unless that
// message was folded already; it reports whether the tile changed.
func (st *StreamTile) Add(spec *agg.Spec, e agg.Event, id uint64) bool {
	i, found := slices.BinarySearch(st.IDs, id)
	if found {
		return false
	}
	st.IDs = slices.Insert(st.IDs, i, id)
	spec.AddToTile(&st.Tile, e)
	return true
}

// streamTileVersion is the first byte of an encoded StreamTile.
const streamTileVersion = 1

// AppendStreamTile appends st's encoding to dst: a version byte, the id
// count and ids (fixed 8 bytes each), then the tile (core/agg encoding).
func AppendStreamTile(spec *agg.Spec, dst []byte, st *StreamTile) []byte {
	dst = append(dst, streamTileVersion)
	dst = binary.AppendUvarint(dst, uint64(len(st.IDs)))
	for _, id := range st.IDs {
		dst = binary.LittleEndian.AppendUint64(dst, id)
	}
	return spec.AppendTile(dst, &st.Tile)
}

// DecodeStreamTile decodes what AppendStreamTile wrote for the same spec.
func DecodeStreamTile(spec *agg.Spec, src []byte) (*StreamTile, error) {
	if len(src) == 0 || src[0] != streamTileVersion {
		return nil, fmt.Errorf("%w: stream tile format version (supported: %d)", ErrCorruptRow, streamTileVersion)
	}
	n, k := binary.Uvarint(src[1:])
	if k <= 0 || n > uint64(len(src))/8 {
		return nil, fmt.Errorf("%w: stream tile id count", ErrCorruptRow)
	}
	rest := src[1+k:]
	if uint64(len(rest)) < 8*n {
		return nil, fmt.Errorf("%w: stream tile ids truncated", ErrCorruptRow)
	}
	st := &StreamTile{IDs: make([]uint64, n)}
	for i := range st.IDs {
		st.IDs[i] = binary.LittleEndian.Uint64(rest[8*i:])
	}
	if !slices.IsSorted(st.IDs) {
		return nil, fmt.Errorf("%w: stream tile ids not sorted", ErrCorruptRow)
	}
	tl, err := spec.DecodeTile(rest[8*n:])
	if err != nil {
		return nil, err
	}
	st.Tile = *tl
	return st, nil
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
