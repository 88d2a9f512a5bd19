// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/plugins/warehouse"
)

// TestWriteBufferBudget writes many partitions in round robin and checks that
// the transaction never holds more than bufferedRowGroups row groups' worth of
// rows in open row groups, and that every row still reads back.
func TestWriteBufferBudget(t *testing.T) {
	forEachBackend(t, testWriteBufferBudget)
}

func testWriteBufferBudget(t *testing.T, e *env) {
	const rgRows, parts, perWrite, rounds = 100, 12, 30, 20
	w := e.open(t, &Options{RowGroupRows: rgRows})
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	ctx := context.Background()
	tx, err := w.Begin(ctx, "ns.t", schema, warehouse.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewInt64Builder(memory.DefaultAllocator)
	for i := 0; i < perWrite; i++ {
		b.Append(int64(i))
	}
	col := b.NewArray()
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, perWrite)
	defer rec.Release()
	col.Release()
	for r := 0; r < rounds; r++ {
		for p := 0; p < parts; p++ {
			if err := tx.Write(ctx, fmt.Sprintf("2024-01-%02d", p+1), rec); err != nil {
				t.Fatal(err)
			}
			if got := tx.(*txn).buffered; got > bufferedRowGroups*rgRows {
				t.Fatalf("buffered %d rows, budget %d", got, bufferedRowGroups*rgRows)
			}
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	info, err := w.Describe(ctx, "ns.t")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, p := range info.Partitions {
		total += p.Rows
	}
	if len(info.Partitions) != parts || total != parts*rounds*perWrite {
		t.Fatalf("partitions %d rows %d", len(info.Partitions), total)
	}
	if res := scanAll(t, w, "ns.t", warehouse.ScanOptions{}); len(res.rows) != parts*rounds*perWrite {
		t.Fatalf("scanned %d rows", len(res.rows))
	}
}
