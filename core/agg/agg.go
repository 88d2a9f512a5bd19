// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// Values.
//
// Inputs and outputs are plain Go values whose type follows the Arrow type of
// the column, so one convention serves Arrow batches offline and JSON-ish
// row maps online:
//
//	bool            bool
//	int8/16/32/64   int8, int16, int32, int64
//	float32/64      float32, float64
//	utf8            string
//	binary          []byte
//	list<T>         []any (elements as above, nil for a null element)
//	map<utf8,T>     map[string]any
//	null            nil (untyped)
//
// Finalize returns exactly the Go type of OutputType.

// IR is an aggregation's intermediate result. nil is the empty IR (no input
// seen); it finalizes to null. Non-nil IRs are owned by the Aggregator that
// made them: callers pass them back to the same Aggregator and never look
// inside.
type IR = any

// Input is one row's contribution to one output column.
type Input struct {
	// Value is the input column's value; nil (null) is ignored.
	Value any
	// Bucket is the bucket column's value for a bucketed aggregation (a
	// string; nil is ignored). Unused otherwise.
	Bucket any
	// Ts is the row's event time in epoch milliseconds; timed operations
	// (FIRST, LAST, FIRST_K, LAST_K) order by it.
	Ts int64
}

// Aggregator computes one output column: one Chronon AggregationPart without
// its window (windows are applied by the evaluators in this package).
//
// Order matters for ties: an Aggregator sees inputs in arrival order, and
// Merge(a, b) treats every input of a as arriving before every input of b.
// Among inputs with equal ts, the one that arrived first wins (FIRST keeps
// the first-arrived of the earliest ts; LAST keeps the first-arrived of the
// latest ts, as Chronon's strict comparisons do; FIRST_K and LAST_K prefer
// first-arrived inputs at the k boundary and list ties in arrival order).
//
// Aggregators are immutable and safe for concurrent use; IRs are not.
type Aggregator interface {
	// Update adds in to ir (nil: empty) and returns the resulting IR, which
	// may be ir itself, mutated.
	Update(ir IR, in Input) IR
	// Delete removes an input previously added with Update and returns the
	// resulting IR (nil once nothing is left). Only valid when Deletable.
	Delete(ir IR, in Input) IR
	// Merge combines a and b (either may be nil) and returns the result,
	// which may be a mutated; b is not modified and not retained.
	Merge(a, b IR) IR
	// Clone returns a deep copy of ir.
	Clone(ir IR) IR
	// Finalize returns the output value of ir: a value of OutputType, or nil
	// for null (empty IR; NaN or infinite floats).
	Finalize(ir IR) any
	// Deletable reports whether Delete is supported (SUM, COUNT, AVERAGE,
	// HISTOGRAM and their bucketed, vector and map forms).
	Deletable() bool
	// AppendIR appends ir's binary encoding (nil included) to dst.
	AppendIR(dst []byte, ir IR) []byte
	// DecodeIR decodes one IR from the front of src and returns the rest. It
	// returns an error, never panics, on malformed input.
	DecodeIR(src []byte) (IR, []byte, error)
	// OutputType is the Arrow type of the finalized column.
	OutputType() arrow.DataType
}
