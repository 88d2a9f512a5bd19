// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/plugins/warehouse"
)

// TestLargeBoundedMemory writes and scans a million rows (about 90 MB of
// Arrow data) in two partitions and checks that memory stays bounded by the
// row group size instead of growing with the data.
func TestLargeBoundedMemory(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("large test: skipped with -short and -race")
	}
	const (
		rows      = 1_000_000
		batchRows = 10_000
		groupRows = 16 << 10
		limit     = 32 << 20 // bytes of live heap or Arrow memory allowed
	)
	ctx := context.Background()
	alloc := &peakAllocator{Allocator: memory.NewGoAllocator()}
	w := openTest(t, &Options{Allocator: alloc, RowGroupRows: groupRows})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "payload", Type: arrow.BinaryTypes.String},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)

	var peakHeap uint64
	sample := func() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, ms.HeapAlloc)
	}
	sample()
	base := peakHeap

	txn, err := w.Begin(ctx, "ns.big", schema, warehouse.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(alloc, schema)
	for i := 0; i < rows; i += batchRows {
		for j := i; j < i+batchRows; j++ {
			b.Field(0).(*array.Int64Builder).Append(int64(j))
			// 64 hard-to-compress bytes per row.
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("%016x%016x%016x%016x", j*7919, j*104729, j*1299709, j*15485863))
			b.Field(2).(*array.Float64Builder).Append(float64(j) / 3)
		}
		rec := b.NewRecordBatch()
		// Two partitions written at once: two open writers.
		ds := "2024-01-01"
		if (i/batchRows)%2 == 1 {
			ds = "2024-01-02"
		}
		if err := txn.Write(ctx, ds, rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		if (i/batchRows)%10 == 0 {
			sample()
		}
	}
	b.Release()
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	writePeak, writeAlloc := peakHeap-min(base, peakHeap), alloc.peak.Load()
	t.Logf("write: peak live heap +%d MB, peak Arrow memory %d MB", writePeak>>20, writeAlloc>>20)

	s, err := w.Scan(ctx, "ns.big", warehouse.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	alloc.peak.Store(alloc.cur.Load())
	peakHeap = 0
	var n, sum int64
	var batches int
	for {
		rec, err := s.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.NumRows() > groupRows {
			t.Fatalf("batch of %d rows", rec.NumRows())
		}
		for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
			sum += v
		}
		n += rec.NumRows()
		rec.Release()
		if batches++; batches%5 == 0 {
			sample()
		}
	}
	s.Close()
	readPeak, readAlloc := peakHeap-min(base, peakHeap), alloc.peak.Load()
	t.Logf("scan: %d batches, peak live heap +%d MB, peak Arrow memory %d MB", batches, readPeak>>20, readAlloc>>20)
	if n != rows || sum != rows*(rows-1)/2 {
		t.Errorf("scanned %d rows with id sum %d, want %d and %d", n, sum, rows, rows*(rows-1)/2)
	}
	for name, v := range map[string]uint64{"write heap": writePeak, "write Arrow": uint64(writeAlloc), "scan heap": readPeak, "scan Arrow": uint64(readAlloc)} {
		if v > limit {
			t.Errorf("%s peaked at %d MB, over %d MB", name, v>>20, limit>>20)
		}
	}
}
