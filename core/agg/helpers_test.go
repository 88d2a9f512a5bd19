// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

var (
	tBool   = arrow.FixedWidthTypes.Boolean
	tI8     = arrow.PrimitiveTypes.Int8
	tI16    = arrow.PrimitiveTypes.Int16
	tI32    = arrow.PrimitiveTypes.Int32
	tI64    = arrow.PrimitiveTypes.Int64
	tF32    = arrow.PrimitiveTypes.Float32
	tF64    = arrow.PrimitiveTypes.Float64
	tStr    = arrow.BinaryTypes.String
	tBin    = arrow.BinaryTypes.Binary
	tLI64   = arrow.ListOf(arrow.PrimitiveTypes.Int64)
	tLStr   = arrow.ListOf(arrow.BinaryTypes.String)
	tLF64   = arrow.ListOf(arrow.PrimitiveTypes.Float64)
	tMI64   = arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)
	tMStr   = arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String)
	tMF64   = arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64)
	tLLI64  = arrow.ListOf(tLI64)
	tDate   = arrow.FixedWidthTypes.Date32
	tTstamp = arrow.FixedWidthTypes.Timestamp_ms
)

// spec describes one output column for tests.
type spec struct {
	op       api.Operation
	in       arrow.DataType
	args     map[string]string
	bucket   bool
	elemWise bool
}

func (s spec) part() api.AggregationPart {
	p := api.AggregationPart{InputColumn: "x", Operation: s.op, ArgMap: s.args, ElementWise: api.Bool(s.elemWise)}
	if s.bucket {
		p.Bucket = "b"
	}
	return p
}

func (s spec) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s", s.op, s.in)
	for _, k := range sortedKeys(s.args) {
		fmt.Fprintf(&b, "/%s=%s", k, s.args[k])
	}
	if s.bucket {
		b.WriteString("/bucket")
	}
	if s.elemWise {
		b.WriteString("/elementWise")
	}
	return b.String()
}

func mustNew(t testing.TB, s spec) Aggregator {
	t.Helper()
	a, err := New(s.part(), s.in)
	if err != nil {
		t.Fatalf("New(%v): %v", s, err)
	}
	return a
}

func fold(a Aggregator, ir IR, ins []Input) IR {
	for _, in := range ins {
		ir = a.Update(ir, in)
	}
	return ir
}

// vals makes inputs with ts 0, 1, 2, ...
func vals(vs ...any) []Input {
	out := make([]Input, len(vs))
	for i, v := range vs {
		out[i] = Input{Value: v, Ts: int64(i)}
	}
	return out
}

// equalVals compares finalized values; floats within a relative tolerance
// (0: bit-exact, NaN equal to NaN).
func equalVals(a, b any, tol float64) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case float64:
		y, ok := b.(float64)
		return ok && closeF(x, y, tol)
	case float32:
		y, ok := b.(float32)
		return ok && closeF(float64(x), float64(y), tol)
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalVals(x[i], y[i], tol) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !equalVals(v, w, tol) {
				return false
			}
		}
		return true
	case []byte:
		y, ok := b.([]byte)
		return ok && string(x) == string(y)
	}
	return a == b
}

func closeF(x, y, tol float64) bool {
	if math.IsNaN(x) || math.IsNaN(y) {
		return math.IsNaN(x) && math.IsNaN(y)
	}
	if x == y {
		return tol != 0 || math.Signbit(x) == math.Signbit(y)
	}
	if tol == 0 {
		return math.Float64bits(x) == math.Float64bits(y)
	}
	return math.Abs(x-y) <= tol*math.Max(1, math.Max(math.Abs(x), math.Abs(y)))
}

func show(v any) string { return fmt.Sprintf("%#v", v) }
