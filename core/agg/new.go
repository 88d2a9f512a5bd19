// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

var (
	// ErrUnsupportedInput is returned by New when an operation does not accept
	// the input column's type (SUM of string, HISTOGRAM of long, any op over
	// DATE or TIMESTAMP, ...). Use errors.Is.
	ErrUnsupportedInput = errors.New("agg: unsupported input type")
	// ErrBadArg is returned by New for a missing or malformed argMap entry
	// (`k`, `percentiles`). Use errors.Is.
	ErrBadArg = errors.New("agg: bad argument")
	// ErrCorruptIR is returned by DecodeIR, DecodeBatchValue and DecodeTile
	// for bytes that are not a valid encoding for that Aggregator or Spec.
	// Use errors.Is.
	ErrCorruptIR = errors.New("agg: corrupt IR encoding")
)

// InputError reports an input that breaks the value conventions of this
// package: a value whose Go type does not match the input column's Arrow type,
// a non-string bucket, or a null element in an elementWise list. Update and
// Delete have no error result, so they panic with a *InputError; callers that
// take untrusted rows use UpdateChecked or DeleteChecked, which recover it.
type InputError struct {
	// Op is the operation, e.g. "sum".
	Op string
	// Input is the Arrow type the Aggregator was built for.
	Input arrow.DataType
	// Value is the offending value.
	Value any
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *InputError) Error() string {
	return fmt.Sprintf("agg: %s over %s: %s (got %T %v)", e.Op, e.Input, e.Reason, e.Value, e.Value)
}

// UpdateChecked is a.Update that returns an *InputError instead of panicking
// on an input that breaks the value conventions. On error the returned IR is
// ir, possibly partly updated (vector, map and elementWise inputs apply their
// elements one by one).
func UpdateChecked(a Aggregator, ir IR, in Input) (out IR, err error) {
	defer recoverInputError(ir, &out, &err)
	return a.Update(ir, in), nil
}

// DeleteChecked is a.Delete that returns an *InputError instead of panicking;
// see UpdateChecked.
func DeleteChecked(a Aggregator, ir IR, in Input) (out IR, err error) {
	defer recoverInputError(ir, &out, &err)
	return a.Delete(ir, in), nil
}

// recoverInputError, deferred, recovers a panic with an *InputError into
// *out = ir and *err; it re-panics with any other value.
func recoverInputError(ir IR, out *IR, err *error) {
	if r := recover(); r != nil {
		ie, ok := r.(*InputError)
		if !ok {
			panic(r)
		}
		*out, *err = ir, ie
	}
}

// Defaults and limits of the argMap arguments.
const (
	// DefaultApproxUniqueLgK is APPROX_UNIQUE_COUNT's default k (log2 of the
	// number of HyperLogLog registers).
	DefaultApproxUniqueLgK = 8
	// MinApproxUniqueLgK and MaxApproxUniqueLgK bound APPROX_UNIQUE_COUNT's k;
	// values outside are clamped (the range of github.com/axiomhq/hyperloglog).
	MinApproxUniqueLgK = 4
	// MaxApproxUniqueLgK: see MinApproxUniqueLgK.
	MaxApproxUniqueLgK = 18
	// DefaultBoundedUniqueK is BOUNDED_UNIQUE_COUNT's default k.
	DefaultBoundedUniqueK = 8
	// DefaultPercentileK is APPROX_PERCENTILE's default KLL k.
	DefaultPercentileK = 128
	// MinPercentileK and MaxPercentileK bound APPROX_PERCENTILE's k.
	MinPercentileK = 8
	// MaxPercentileK: see MinPercentileK.
	MaxPercentileK = 65535
	// DefaultApproxHistogramK is APPROX_HISTOGRAM_K's default k.
	DefaultApproxHistogramK = 8
	// maxK bounds every other k so that a typo cannot ask for absurd memory.
	maxK = 1 << 24
)

// args holds an AggregationPart's parsed argMap.
type args struct {
	k           int
	percentiles []float64
}

// parseArgs parses and checks the argMap entries op uses; entries op does not
// use are ignored, as Chronon does.
func parseArgs(op api.Operation, m map[string]string) (args, error) {
	var a args
	name := opName(op)
	getK := func(def int, required bool, lo, hi int) (int, error) {
		s, ok := m["k"]
		if !ok {
			if required {
				return 0, fmt.Errorf("%w: %s needs `k` to be specified in the argMap", ErrBadArg, name)
			}
			return def, nil
		}
		k, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return 0, fmt.Errorf("%w: %s: k must be an integer, got %q", ErrBadArg, name, s)
		}
		if k < lo || k > hi {
			return 0, fmt.Errorf("%w: %s: k must be in [%d, %d], got %d", ErrBadArg, name, lo, hi, k)
		}
		return k, nil
	}
	var err error
	switch op {
	case api.OpFirstK, api.OpLastK, api.OpTopK, api.OpBottomK:
		a.k, err = getK(0, true, 1, maxK)
	case api.OpHistogram:
		a.k, err = getK(0, false, 0, maxK)
	case api.OpApproxHistogramK:
		a.k, err = getK(DefaultApproxHistogramK, false, 1, maxK)
	case api.OpBoundedUniqueCount:
		a.k, err = getK(DefaultBoundedUniqueK, false, 1, maxK)
	case api.OpApproxUniqueCount:
		a.k, err = getK(DefaultApproxUniqueLgK, false, math.MinInt, math.MaxInt)
		a.k = min(max(a.k, MinApproxUniqueLgK), MaxApproxUniqueLgK)
	case api.OpApproxPercentile:
		a.k, err = getK(DefaultPercentileK, false, MinPercentileK, MaxPercentileK)
		if err != nil {
			return a, err
		}
		a.percentiles = []float64{0.5}
		if s, ok := m["percentiles"]; ok {
			var ps []float64
			if jerr := json.Unmarshal([]byte(s), &ps); jerr != nil || len(ps) == 0 {
				return a, fmt.Errorf("%w: %s: percentiles must be a non-empty JSON array of numbers like [0.5, 0.99], got %q",
					ErrBadArg, name, s)
			}
			for _, p := range ps {
				if !(p >= 0 && p <= 1) {
					return a, fmt.Errorf("%w: %s: percentile %v is outside [0, 1]", ErrBadArg, name, p)
				}
			}
			a.percentiles = ps
		}
	}
	return a, err
}

// opName is the upper-case operation name used in errors, e.g. "LAST_K".
func opName(op api.Operation) string { return strings.ToUpper(op.String()) }

// kind classifies the Arrow types this package accepts.
type kind uint8

const (
	kOther kind = iota
	kBool
	kInt8
	kInt16
	kInt32
	kInt64
	kFloat32
	kFloat64
	kString
	kBinary
	kList
	kMap
)

func kindOf(dt arrow.DataType) kind {
	if dt == nil {
		return kOther
	}
	switch dt.ID() {
	case arrow.BOOL:
		return kBool
	case arrow.INT8:
		return kInt8
	case arrow.INT16:
		return kInt16
	case arrow.INT32:
		return kInt32
	case arrow.INT64:
		return kInt64
	case arrow.FLOAT32:
		return kFloat32
	case arrow.FLOAT64:
		return kFloat64
	case arrow.STRING, arrow.LARGE_STRING:
		return kString
	case arrow.BINARY, arrow.LARGE_BINARY:
		return kBinary
	case arrow.LIST, arrow.LARGE_LIST:
		return kList
	case arrow.MAP:
		if kindOf(dt.(*arrow.MapType).KeyType()) == kString {
			return kMap
		}
	}
	return kOther
}

func (k kind) isInt() bool     { return k >= kInt8 && k <= kInt64 }
func (k kind) isFloat() bool   { return k == kFloat32 || k == kFloat64 }
func (k kind) isNumeric() bool { return k.isInt() || k.isFloat() }
func (k kind) isScalar() bool  { return k >= kBool && k <= kBinary }

// elemType is the element type of a list, or the item type of a map.
func elemType(dt arrow.DataType) arrow.DataType {
	switch t := dt.(type) {
	case *arrow.MapType:
		return t.ItemField().Type
	case *arrow.ListType:
		return t.Elem()
	case *arrow.LargeListType:
		return t.Elem()
	}
	return nil
}

// isSimple reports whether op reads list and map inputs element by element
// (every op but FIRST, LAST, FIRST_K and LAST_K).
func isSimple(op api.Operation) bool {
	switch op {
	case api.OpFirst, api.OpLast, api.OpFirstK, api.OpLastK:
		return false
	}
	return true
}

var (
	stringType = arrow.BinaryTypes.String
	int64Type  = arrow.PrimitiveTypes.Int64
	int32Type  = arrow.PrimitiveTypes.Int32
	f64Type    = arrow.PrimitiveTypes.Float64
	f32Type    = arrow.PrimitiveTypes.Float32
)

// New returns the Aggregator of one output column: part's operation, argMap,
// bucket and elementWise flag over an input column of Arrow type input.
// part.Window is ignored (windows are applied by the evaluators).
//
// Shapes follow docs/aggregations.md: with part.Bucket set, inputs carry a
// string bucket and the output is map<string, T>; a list<scalar> input feeds
// each element to every op but FIRST, LAST, FIRST_K and LAST_K (vector mode);
// a map<string, scalar> input aggregates per map key (map mode, output
// map<string, T>); with part.ElementWise a list input aggregates per index
// (output list<T>).
//
// New returns an error wrapping ErrUnsupportedInput for an input type the
// operation does not accept, and ErrBadArg for a missing or malformed `k` or
// `percentiles`. The returned Aggregator is immutable and safe for concurrent
// use.
//
// Ownership: IRs copy the strings, byte slices, lists and maps they keep, so
// inputs may alias reused buffers (Arrow arrays). IRs never modify a kept
// value in place, so clones and merged IRs may share them, and a Finalize
// output may share them too: callers must not modify Finalize's []byte,
// []any or map[string]any results. Finalize of APPROX_UNIQUE_COUNT may
// reorganize its sketch without changing it logically; like every use of an
// IR it must not run concurrently with another use of the same IR.
//
// Update and Delete panic with an *InputError for a value that breaks the
// value conventions (see UpdateChecked). Delete of a non-deletable
// operation returns ir unchanged (Chronon skips such deletes).
func New(part api.AggregationPart, input arrow.DataType) (Aggregator, error) {
	op := part.Operation
	if !op.Valid() {
		return nil, fmt.Errorf("%w: unknown operation %d", ErrUnsupportedInput, int32(op))
	}
	if input == nil {
		return nil, fmt.Errorf("%w: %s: no input type", ErrUnsupportedInput, opName(op))
	}
	a, err := parseArgs(op, part.ArgMap)
	if err != nil {
		return nil, err
	}
	k := kindOf(input)
	elemScalar := (k == kList || k == kMap) && kindOf(elemType(input)).isScalar()
	var agg Aggregator
	switch {
	case bool(part.ElementWise):
		if k != kList {
			return nil, fmt.Errorf("%w: %s with elementWise needs a list input, got %s", ErrUnsupportedInput, opName(op), input)
		}
		inner, err := newScalar(op, a, elemType(input))
		if err != nil {
			return nil, fmt.Errorf("%w, as elements of elementWise %s", err, input)
		}
		agg = newElementWise(inner, input)
	case isSimple(op) && k == kList && elemScalar:
		inner, err := newScalar(op, a, elemType(input))
		if err != nil {
			return nil, fmt.Errorf("%w, as elements of %s", err, input)
		}
		agg = newVector(inner, input)
	case isSimple(op) && k == kMap && elemScalar:
		if part.Bucket != "" {
			return nil, fmt.Errorf("%w: %s over %s: bucketing over map inputs is not supported", ErrUnsupportedInput, opName(op), input)
		}
		inner, err := newScalar(op, a, elemType(input))
		if err != nil {
			return nil, fmt.Errorf("%w, as values of %s", err, input)
		}
		agg = newKeyed(inner, input, false)
	default:
		// Includes lists and maps of non-scalars: one opaque value (COUNT).
		agg, err = newScalar(op, a, input)
		if err != nil {
			return nil, err
		}
	}
	if part.Bucket != "" {
		agg = newKeyed(agg, input, true)
	}
	return agg, nil
}

// unsupported builds New's error for op over dt.
func unsupported(op api.Operation, dt arrow.DataType, accepted string) error {
	return fmt.Errorf("%w: %s over %s (accepted: %s)", ErrUnsupportedInput, opName(op), dt, accepted)
}

// newScalar builds op over a single value of type dt (no shape).
func newScalar(op api.Operation, a args, dt arrow.DataType) (Aggregator, error) {
	k := kindOf(dt)
	b := base{op: op, in: dt}
	switch op {
	case api.OpSum:
		return newSum(b, k)
	case api.OpCount:
		if _, err := newVType(dt); err != nil {
			return nil, unsupported(op, dt, "bool, int8..int64, float32/64, string, binary, list, map<string, T>")
		}
		b.out = int64Type
		return &count{base: b}, nil
	case api.OpAverage, api.OpVariance, api.OpSkew, api.OpKurtosis:
		return newMoments(b, k)
	case api.OpMin, api.OpMax, api.OpTopK, api.OpBottomK:
		return newOrder(b, k, a.k)
	case api.OpFirst, api.OpLast, api.OpFirstK, api.OpLastK:
		vt, err := newVType(dt)
		if err != nil {
			return nil, fmt.Errorf("%w: %s over %s: %v", ErrUnsupportedInput, opName(op), dt, err)
		}
		return newTimed(b, vt, a.k)
	case api.OpUniqueCount, api.OpBoundedUniqueCount, api.OpApproxUniqueCount, api.OpApproxHistogramK:
		return newDistinct(b, k, a.k)
	case api.OpApproxPercentile:
		return newPercentile(b, k, a)
	case api.OpHistogram:
		if k != kString {
			return nil, unsupported(op, dt, "string")
		}
		b.out = arrow.MapOf(stringType, int32Type)
		return &histogram{base: b, k: a.k}, nil
	}
	return nil, fmt.Errorf("%w: unknown operation %d", ErrUnsupportedInput, int32(op))
}

// base holds what every Aggregator has: its operation and types. Its methods
// make an op non-deletable; deletable ops override Deletable and Delete.
type base struct {
	op  api.Operation
	in  arrow.DataType
	out arrow.DataType
}

// OutputType implements Aggregator.
func (b *base) OutputType() arrow.DataType { return b.out }

// Deletable implements Aggregator.
func (b *base) Deletable() bool { return false }

// Delete implements Aggregator: deletes are silently skipped for operations
// that cannot subtract (as Chronon does), so ir is returned unchanged.
func (b *base) Delete(ir IR, _ Input) IR { return ir }

// bad panics with an *InputError for v.
func (b *base) bad(v any, reason string) {
	panic(&InputError{Op: b.op.String(), Input: b.in, Value: v, Reason: reason})
}

// badType panics with an *InputError saying v has the wrong Go type.
func (b *base) badType(v any) {
	b.bad(v, fmt.Sprintf("value does not match the column type %s", b.in))
}
