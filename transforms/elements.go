// SPDX-License-Identifier: Apache-2.0

package transforms

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/batch"
)

// Elements are []byte: a tag byte, the join part index (uvarint) and one
// Arrow IPC stream. []byte is the cheapest element Beam codes.
const (
	tagLeft      byte = 'L' // a join's left rows (by day)
	tagQueries   byte = 'Q' // a join part's queries (by shard)
	tagEvents    byte = 'E' // a source's rows (by shard)
	tagMutations byte = 'M' // an entity source's mutation rows (by shard)
	tagValues    byte = 'V' // a join part's values (by day)
	tagPartTable byte = 'P' // a join part's table rows (by day)
)

func encodeElement(tag byte, part int, rec arrow.RecordBatch) ([]byte, error) {
	dst := binary.AppendUvarint([]byte{tag}, uint64(part))
	return batch.AppendIPC(dst, rec)
}

// element is a decoded element.
type element struct {
	tag  byte
	part int
	recs []arrow.RecordBatch
}

func decodeElement(b []byte) (element, error) {
	if len(b) < 2 {
		return element{}, fmt.Errorf("short element (%d bytes)", len(b))
	}
	part, n := binary.Uvarint(b[1:])
	if n <= 0 {
		return element{}, fmt.Errorf("element: bad part index")
	}
	recs, err := batch.DecodeIPC(b[1+n:])
	if err != nil {
		return element{}, err
	}
	return element{tag: b[0], part: int(part), recs: recs}, nil
}

func shardKey(part, shard int) string { return fmt.Sprintf("%d/%d", part, shard) }

func parseShardKey(k string) (part, shard int, err error) {
	if _, err := fmt.Sscanf(k, "%d/%d", &part, &shard); err != nil {
		return 0, 0, fmt.Errorf("shard key %q: %w", k, err)
	}
	return part, shard, nil
}

func releaseRecs(recs []arrow.RecordBatch) {
	for _, r := range recs {
		if r != nil {
			r.Release()
		}
	}
}
