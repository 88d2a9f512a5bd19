// SPDX-License-Identifier: Apache-2.0

package online

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/chronon-go/chronon/core/agg"
)

// BenchmarkFetchSpan measures what a fetch pays for one full streaming
// span (1500 events: five minutes of a key at 5 events/s, in batches of
// 10, so 24 chunks): decoding its summary when no window edge cuts it, and
// decoding its chunks' fine sub-tiles and merging them when one does.
func BenchmarkFetchSpan(b *testing.B) {
	spec := streamSpec(b)
	rng := rand.New(rand.NewPCG(1, 1))
	span := agg.TileStart(1_700_000_000_000)
	var st StreamTile
	chunks := map[int][]byte{}
	for n := 0; n < 1500; {
		for i := 0; i < 10; i, n = i+1, n+1 {
			st.Add(spec, agg.Event{Ts: span + int64(n)*200, Values: []any{rng.Int64N(100)}}, MessageID(fmt.Sprint(n)))
		}
		chunks[st.Chunks] = AppendChunk(spec, nil, &st.Last)
		st.Written()
	}
	summary := st.AppendSummary(spec, nil)
	var entries []ChunkEntry
	for seq, v := range chunks {
		entries = append(entries, ChunkEntry{TsMillis: ChunkTs(span, seq), Value: v})
	}
	uncut := span + agg.TileMillis            // every window holds the whole span
	cut := span + agg.TileMillis/2 + 3600_000 // the 1h tail cuts it
	b.Run("summary", func(b *testing.B) {
		b.ReportMetric(float64(len(summary)), "bytes")
		for b.Loop() {
			tl, _, err := DecodeSummary(spec, summary)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := spec.Fetch(nil, []agg.Tile{tl}, uncut); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run(fmt.Sprintf("cut_%d_chunks", len(entries)), func(b *testing.B) {
		for b.Loop() {
			tl, n, err := DecodeSummary(spec, summary)
			if err != nil {
				b.Fatal(err)
			}
			if tl.Fine, err = FineOf(spec, span, n, entries); err != nil {
				b.Fatal(err)
			}
			if _, err := spec.Fetch(nil, []agg.Tile{tl}, cut); err != nil {
				b.Fatal(err)
			}
		}
	})
}
