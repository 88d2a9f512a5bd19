// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"math/rand"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

const benchRows = 64 * 1024

var benchSchema = arrow.NewSchema([]arrow.Field{
	{Name: "price", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "tax", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "qty", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "country", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// benchBatch builds 64K rows with about 1% nulls per column and some zero
// quantities.
func benchBatch(tb testing.TB) arrow.RecordBatch {
	r := rand.New(rand.NewSource(1))
	b := array.NewRecordBuilder(memory.DefaultAllocator, benchSchema)
	defer b.Release()
	price := b.Field(0).(*array.Float64Builder)
	tax := b.Field(1).(*array.Float64Builder)
	qty := b.Field(2).(*array.Int64Builder)
	country := b.Field(3).(*array.StringBuilder)
	countries := []string{"US", "CA", "FR", "DE", "JP"}
	for i := 0; i < benchRows; i++ {
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

func BenchmarkEvalBatch(b *testing.B) {
	rec := benchBatch(b)
	defer rec.Release()
	p, err := Compile("(price * 1.1 + tax) / qty", benchSchema)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchRows * 8)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		arr, err := p.EvalBatch(rec)
		if err != nil {
			b.Fatal(err)
		}
		arr.Release()
	}
}

// handLoop computes (price * 1.1 + tax) / qty over the Arrow buffers in one
// plain Go loop with Spark's null rules (null in, null out; x / 0 is null).
func handLoop(rec arrow.RecordBatch) arrow.Array {
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

func BenchmarkHandLoop(b *testing.B) {
	rec := benchBatch(b)
	defer rec.Release()
	b.SetBytes(benchRows * 8)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		handLoop(rec).Release()
	}
}

func BenchmarkEvalBatchFilter(b *testing.B) {
	rec := benchBatch(b)
	defer rec.Release()
	p, err := Compile("price > 50 AND country IN ('US', 'CA') AND qty IS NOT NULL", benchSchema)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		arr, err := p.EvalBatch(rec)
		if err != nil {
			b.Fatal(err)
		}
		arr.Release()
	}
}

func BenchmarkEvalRow(b *testing.B) {
	p, err := Compile("(price * 1.1 + tax) / qty", benchSchema)
	if err != nil {
		b.Fatal(err)
	}
	row := map[string]any{"price": 12.5, "tax": 1.5, "qty": int64(3)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.EvalRow(row); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvalRowDerivation is the seed's map_zip_with derivation served
// online over 10-bucket maps.
func BenchmarkEvalRowDerivation(b *testing.B) {
	c := seedSpec[1]
	p, err := Compile(c.expr, c.schema)
	if err != nil {
		b.Fatal(err)
	}
	avg, vr := map[string]any{}, map[string]any{}
	for i := 0; i < 10; i++ {
		k := string(rune('a' + i))
		avg[k], vr[k] = float64(i), float64(i+1)
	}
	row := map[string]any{"txn_value": 5.0, c.schema.Field(1).Name: avg, c.schema.Field(2).Name: vr}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.EvalRow(row); err != nil {
			b.Fatal(err)
		}
	}
}

// handLoopTight is a tuned hand-written version: validity by ANDing the
// input bitmaps a byte at a time, arithmetic unconditionally.
func handLoopTight(rec arrow.RecordBatch) arrow.Array {
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

func BenchmarkHandLoopTight(b *testing.B) {
	rec := benchBatch(b)
	defer rec.Release()
	b.SetBytes(benchRows * 8)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		handLoopTight(rec).Release()
	}
}

// TestHandLoopsAgree makes sure the benchmark baselines compute what the
// program computes.
func TestHandLoopsAgree(t *testing.T) {
	rec := benchBatch(t)
	defer rec.Release()
	p, err := Compile("(price * 1.1 + tax) / qty", benchSchema)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.EvalBatch(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Release()
	for _, h := range []func(arrow.RecordBatch) arrow.Array{handLoop, handLoopTight} {
		want := h(rec)
		if !array.Equal(got, want) {
			t.Errorf("EvalBatch and the hand loop disagree")
		}
		want.Release()
	}
}
