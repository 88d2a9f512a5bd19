// SPDX-License-Identifier: Apache-2.0

// Package exprload is the shared workload of the expression benchmarks: a
// 64K-row batch of prices, taxes, quantities and countries, and hand-written
// Go loops computing Expression over it, the baseline core/expr is measured
// against (in core/expr's Go benchmarks and in `make bench`).
package exprload

import (
	"math/rand"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Rows is the number of rows of Batch.
const Rows = 64 * 1024

// Expression is what HandLoop computes.
const Expression = "(price * 1.1 + tax) / qty"

// Schema is the schema of Batch.
var Schema = arrow.NewSchema([]arrow.Field{
	{Name: "price", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "tax", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "qty", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "country", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// Batch builds Rows rows with about 1% nulls per column and some zero
// quantities.
func Batch() arrow.RecordBatch {
	r := rand.New(rand.NewSource(1))
	b := array.NewRecordBuilder(memory.DefaultAllocator, Schema)
	defer b.Release()
	price := b.Field(0).(*array.Float64Builder)
	tax := b.Field(1).(*array.Float64Builder)
	qty := b.Field(2).(*array.Int64Builder)
	country := b.Field(3).(*array.StringBuilder)
	countries := []string{"US", "CA", "FR", "DE", "JP"}
	for i := 0; i < Rows; i++ {
		if r.Intn(100) == 0 {
			price.AppendNull()
		} else {
			price.Append(r.Float64() * 100)
		}
		if r.Intn(100) == 0 {
			tax.AppendNull()
		} else {
			tax.Append(r.Float64() * 10)
		}
		if r.Intn(100) == 0 {
			qty.AppendNull()
		} else {
			qty.Append(int64(r.Intn(10)))
		}
		country.Append(countries[r.Intn(len(countries))])
	}
	return b.NewRecordBatch()
}

// HandLoop computes (price * 1.1 + tax) / qty over the Arrow buffers in one
// plain Go loop with Spark's null rules (null in, null out; x / 0 is null).
func HandLoop(rec arrow.RecordBatch) arrow.Array {
	price := rec.Column(0).(*array.Float64)
	tax := rec.Column(1).(*array.Float64)
	qty := rec.Column(2).(*array.Int64)
	n := int(rec.NumRows())
	pv, tv, qv := price.Float64Values(), tax.Float64Values(), qty.Int64Values()
	out := make([]float64, n)
	valid := make([]byte, (n+7)/8)
	nulls := 0
	for i := 0; i < n; i++ {
		if price.IsNull(i) || tax.IsNull(i) || qty.IsNull(i) || qv[i] == 0 {
			nulls++
			continue
		}
		out[i] = (pv[i]*1.1 + tv[i]) / float64(qv[i])
		bitutil.SetBit(valid, i)
	}
	data := array.NewData(arrow.PrimitiveTypes.Float64, n, []*memory.Buffer{memory.NewBufferBytes(valid), memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(out))}, nil, nulls, 0)
	defer data.Release()
	return array.NewFloat64Data(data)
}

// HandLoopTight is a tuned hand-written version of HandLoop: validity by
// ANDing the input bitmaps a byte at a time, arithmetic unconditionally.
func HandLoopTight(rec arrow.RecordBatch) arrow.Array {
	price := rec.Column(0).(*array.Float64)
	tax := rec.Column(1).(*array.Float64)
	qty := rec.Column(2).(*array.Int64)
	n := int(rec.NumRows())
	pv, tv, qv := price.Float64Values()[:n], tax.Float64Values()[:n], qty.Int64Values()[:n]
	out := make([]float64, n)
	valid := make([]byte, (n+7)/8)
	bm := func(a arrow.Array) []byte {
		if a.NullN() == 0 {
			return nil
		}
		return a.NullBitmapBytes() // offset 0 in the benchmark batch
	}
	pb, tb, qb := bm(price), bm(tax), bm(qty)
	for j := range valid {
		v := byte(0xff)
		if pb != nil {
			v &= pb[j]
		}
		if tb != nil {
			v &= tb[j]
		}
		if qb != nil {
			v &= qb[j]
		}
		valid[j] = v
	}
	for i := range out {
		q := qv[i]
		if q == 0 {
			valid[i>>3] &^= 1 << (i & 7)
		}
		out[i] = (pv[i]*1.1 + tv[i]) / float64(q)
	}
	nulls := n - bitutil.CountSetBits(valid, 0, n)
	data := array.NewData(arrow.PrimitiveTypes.Float64, n, []*memory.Buffer{memory.NewBufferBytes(valid), memory.NewBufferBytes(arrow.Float64Traits.CastToBytes(out))}, nil, nulls, 0)
	defer data.Release()
	return array.NewFloat64Data(data)
}
