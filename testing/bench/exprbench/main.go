// SPDX-License-Identifier: Apache-2.0

// Exprbench measures core/expr over Arrow batches: rows per second of
// (price * 1.1 + tax) / qty over 64K-row batches, against hand-written Go
// loops computing the same thing in the same run (target: within 3x), and
// the same expression evaluated row by row as the fetcher does.
//
//	go run ./testing/bench/exprbench
package main

import (
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/expr"
	"github.com/chronon-go/chronon/testing/bench/exprload"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "exprbench:", err)
		os.Exit(1)
	}
}

func run() error {
	rec := exprload.Batch()
	defer rec.Release()
	prog, err := expr.Compile(exprload.Expression, exprload.Schema)
	if err != nil {
		return err
	}
	perBatch := func(f func() (arrow.Array, error)) (float64, error) {
		var ferr error
		res := testing.Benchmark(func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				arr, err := f()
				if err != nil {
					ferr = err
					b.FailNow()
				}
				arr.Release()
			}
		})
		return float64(res.T.Nanoseconds()) / float64(res.N), ferr
	}
	evalNs, err := perBatch(func() (arrow.Array, error) { return prog.EvalBatch(rec) })
	if err != nil {
		return err
	}
	handNs, _ := perBatch(func() (arrow.Array, error) { return exprload.HandLoop(rec), nil })
	tightNs, _ := perBatch(func() (arrow.Array, error) { return exprload.HandLoopTight(rec), nil })
	row := map[string]any{"price": 12.5, "tax": 1.5, "qty": int64(3)}
	var sink any
	rowRes := testing.Benchmark(func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sink, _ = prog.EvalRow(row)
		}
	})
	runtime.KeepAlive(sink)
	rows := float64(exprload.Rows)
	fmt.Printf("expression %q over %d-row Arrow batches\n", exprload.Expression, exprload.Rows)
	fmt.Printf("%-28s %14s %12s\n", "", "rows/s", "x hand loop")
	fmt.Printf("%-28s %14.0f %12.2f\n", "core/expr EvalBatch", rows/evalNs*1e9, evalNs/handNs)
	fmt.Printf("%-28s %14.0f %12.2f\n", "hand loop (baseline)", rows/handNs*1e9, 1.0)
	fmt.Printf("%-28s %14.0f %12.2f\n", "tuned hand loop", rows/tightNs*1e9, tightNs/handNs)
	fmt.Printf("EvalBatch vs tuned hand loop: %.2fx (target: within 3x)\n", evalNs/tightNs)
	fmt.Printf("EvalRow (online, one row): %.0f ns/row\n", float64(rowRes.T.Nanoseconds())/float64(rowRes.N))
	return nil
}
