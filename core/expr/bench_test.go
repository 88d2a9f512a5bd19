// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/chronon-go/chronon/testing/bench/exprload"
)

const benchRows = exprload.Rows

var benchSchema = exprload.Schema

func benchBatch(testing.TB) arrow.RecordBatch { return exprload.Batch() }

// benchArrays times f over the benchmark batch; bytes > 0 reports
// throughput as bytes per batch.
func benchArrays(b *testing.B, bytes int64, f func(arrow.RecordBatch) (arrow.Array, error)) {
	rec := benchBatch(b)
	defer rec.Release()
	b.SetBytes(bytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		arr, err := f(rec)
		if err != nil {
			b.Fatal(err)
		}
		arr.Release()
	}
}

// benchProgram times EvalBatch of src over the benchmark batch.
func benchProgram(b *testing.B, src string, bytes int64) {
	p, err := Compile(src, benchSchema)
	if err != nil {
		b.Fatal(err)
	}
	benchArrays(b, bytes, p.EvalBatch)
}

// handLoop adapts a hand-written loop to benchArrays.
func handLoop(f func(arrow.RecordBatch) arrow.Array) func(arrow.RecordBatch) (arrow.Array, error) {
	return func(rec arrow.RecordBatch) (arrow.Array, error) { return f(rec), nil }
}

func BenchmarkEvalBatch(b *testing.B) { benchProgram(b, exprload.Expression, benchRows*8) }

func BenchmarkHandLoop(b *testing.B) { benchArrays(b, benchRows*8, handLoop(exprload.HandLoop)) }

func BenchmarkHandLoopTight(b *testing.B) {
	benchArrays(b, benchRows*8, handLoop(exprload.HandLoopTight))
}

func BenchmarkEvalBatchFilter(b *testing.B) {
	benchProgram(b, "price > 50 AND country IN ('US', 'CA') AND qty IS NOT NULL", 0)
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
	for _, h := range []func(arrow.RecordBatch) arrow.Array{exprload.HandLoop, exprload.HandLoopTight} {
		want := h(rec)
		if !array.Equal(got, want) {
			t.Errorf("EvalBatch and the hand loop disagree")
		}
		want.Release()
	}
}
