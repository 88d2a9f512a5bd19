// SPDX-License-Identifier: Apache-2.0

package blob

import (
	"bytes"
	"context"
	"testing"

	"github.com/chronon-go/chronon/plugins/warehouse/blob/blobtest"
)

// TestGCSReadAhead checks how many requests a GCS reader makes: the footer
// region comes with Open, small reads share blocks, large reads go direct.
func TestGCSReadAhead(t *testing.T) {
	srv := blobtest.Emulator(t)
	ctx := context.Background()
	st, err := Open(ctx, srv.NewBucket(t)+"/wh")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	data := make([]byte, 5*ReadAhead)
	for i := range data {
		data[i] = byte(i * 7)
	}
	w, err := st.Create(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rd, err := st.Open(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	r := rd.(*gcsReader)
	n := int64(len(data))
	for _, step := range []struct {
		off, len int64
		fetches  int64 // total after the read
	}{
		{n - 8, 8, 1},             // footer length: fetched by Open
		{n - 70_000, 69_992, 1},   // footer: same block
		{0, 100, 2},               // first column chunk: a new block
		{100, 5000, 2},            // next chunks: cached
		{200_000, 300_000, 2},     // still in the first block
		{ReadAhead - 10, 100, 3},  // across the block end: a new block
		{ReadAhead + 50, 1000, 3}, // in that block
		{ReadAhead + 60, 10, 3},   // that block again
		{n - 100, 100, 4},         // the tail block was evicted (two blocks are kept)
		{ReadAhead, 2 * ReadAhead, 5},
		{ReadAhead, 2 * ReadAhead, 6}, // large reads are not cached
	} {
		p := make([]byte, step.len)
		if _, err := r.ReadAt(p, step.off); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p, data[step.off:step.off+step.len]) {
			t.Fatalf("ReadAt(%d at %d): wrong content", step.len, step.off)
		}
		if got := r.fetches.Load(); got != step.fetches {
			t.Errorf("after ReadAt(%d at %d): %d requests, want %d", step.len, step.off, got, step.fetches)
		}
	}
}
