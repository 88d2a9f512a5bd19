// SPDX-License-Identifier: Apache-2.0

package online

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"

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
