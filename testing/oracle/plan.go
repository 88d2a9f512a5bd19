// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// shape is how an input column's value turns into leaf inputs.
type shape int

const (
	shapeScalar      shape = iota // the value is one input
	shapeVector                   // list<scalar>, simple op: every non-null element is an input
	shapeMap                      // map<string,scalar>, simple op: per-key inputs
	shapeElementWise              // list, elementWise: per-index inputs
)

// Defaults of argMap values (docs/aggregations.md).
const (
	defaultLgK            = 8
	defaultBoundedK       = 8
	defaultPercentileK    = 128
	defaultApproxHistK    = 8
	defaultHistogramK     = 0
	defaultPercentileList = "[0.5]"
)

// plan is an AggregationPart resolved against its input type.
type plan struct {
	part  api.AggregationPart
	input arrow.DataType // the column's type
	elem  arrow.DataType // the type of one leaf input
	shape shape
	// k is argMap k or its default (lgK for APPROX_UNIQUE_COUNT).
	k int
	// percentiles of APPROX_PERCENTILE.
	percentiles []float64
}

// timed reports whether op orders by ts and treats lists and maps as one
// value (FIRST, LAST, FIRST_K, LAST_K).
func timed(op api.Operation) bool {
	switch op {
	case api.OpFirst, api.OpLast, api.OpFirstK, api.OpLastK:
		return true
	}
	return false
}

func newPlan(part api.AggregationPart, input arrow.DataType) (*plan, error) {
	op := part.Operation
	if !op.Valid() {
		return nil, fmt.Errorf("unknown operation %d", int32(op))
	}
	if input == nil {
		return nil, fmt.Errorf("input type of %q is nil", part.InputColumn)
	}
	p := &plan{part: part, input: input, elem: input, shape: shapeScalar}
	switch {
	case bool(part.ElementWise):
		lt, ok := input.(*arrow.ListType)
		if !ok {
			return nil, fmt.Errorf("elementWise needs a list input, %q is %s", part.InputColumn, input)
		}
		p.shape, p.elem = shapeElementWise, lt.Elem()
	case timed(op):
	default:
		switch t := input.(type) {
		case *arrow.MapType:
			if !isString(t.KeyType()) {
				return nil, fmt.Errorf("map input %q must have string keys, has %s", part.InputColumn, t.KeyType())
			}
			if isScalar(t.ItemType()) {
				p.shape, p.elem = shapeMap, t.ItemType()
			}
		case *arrow.ListType:
			if isScalar(t.Elem()) {
				p.shape, p.elem = shapeVector, t.Elem()
			}
		}
	}
	if p.shape == shapeMap && part.Bucket != "" {
		return nil, fmt.Errorf("bucketing over map input %q is not supported", part.InputColumn)
	}
	if err := checkInputType(op, p.elem); err != nil {
		return nil, fmt.Errorf("%s over %q: %w", op, part.InputColumn, err)
	}
	if err := p.parseArgs(); err != nil {
		return nil, fmt.Errorf("%s over %q: %w", op, part.InputColumn, err)
	}
	return p, nil
}

// checkInputType validates the type of one leaf input of op.
func checkInputType(op api.Operation, t arrow.DataType) error {
	var ok bool
	switch op {
	case api.OpSum:
		ok = isBool(t) || isNumeric(t)
	case api.OpCount, api.OpFirst, api.OpLast, api.OpFirstK, api.OpLastK:
		ok = checkGoSupported(t)
	case api.OpAverage, api.OpVariance, api.OpSkew, api.OpKurtosis, api.OpApproxPercentile:
		ok = isNumeric(t)
	case api.OpMin, api.OpMax, api.OpTopK, api.OpBottomK, api.OpApproxHistogramK:
		ok = isNumeric(t) || isString(t)
	case api.OpUniqueCount, api.OpApproxUniqueCount, api.OpBoundedUniqueCount:
		ok = isNumeric(t) || isString(t) || isBinary(t)
	case api.OpHistogram:
		ok = isString(t)
	}
	if !ok {
		return fmt.Errorf("input type %s not supported", t)
	}
	return nil
}

// checkGoSupported reports whether every type nested in t is supported by the
// value convention.
func checkGoSupported(t arrow.DataType) bool {
	switch tt := t.(type) {
	case *arrow.MapType:
		return isString(tt.KeyType()) && checkGoSupported(tt.ItemType())
	case *arrow.ListType:
		return checkGoSupported(tt.Elem())
	}
	return isScalar(t)
}

func (p *plan) parseArgs() error {
	op := p.part.Operation
	intArg := func(def int, required bool, min int) error {
		s, ok := p.part.ArgMap["k"]
		if !ok {
			if required {
				return fmt.Errorf("`k` needs to be specified in the `argMap`")
			}
			p.k = def
			return nil
		}
		k, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("argMap k %q is not an integer", s)
		}
		if k < min {
			return fmt.Errorf("argMap k = %d, must be >= %d", k, min)
		}
		p.k = k
		return nil
	}
	switch op {
	case api.OpFirstK, api.OpLastK, api.OpTopK, api.OpBottomK:
		return intArg(0, true, 1)
	case api.OpApproxUniqueCount:
		return intArg(defaultLgK, false, 0)
	case api.OpBoundedUniqueCount:
		return intArg(defaultBoundedK, false, 1)
	case api.OpHistogram:
		return intArg(defaultHistogramK, false, 0)
	case api.OpApproxHistogramK:
		return intArg(defaultApproxHistK, false, 1)
	case api.OpApproxPercentile:
		if err := intArg(defaultPercentileK, false, 1); err != nil {
			return err
		}
		s, ok := p.part.ArgMap["percentiles"]
		if !ok {
			s = defaultPercentileList
		}
		if err := json.Unmarshal([]byte(s), &p.percentiles); err != nil {
			return fmt.Errorf("argMap percentiles %q is not a JSON array of numbers: %v", s, err)
		}
		if len(p.percentiles) == 0 {
			return fmt.Errorf("argMap percentiles %q is empty", s)
		}
		for _, q := range p.percentiles {
			if !(q >= 0 && q <= 1) {
				return fmt.Errorf("percentile %v outside [0, 1]", q)
			}
		}
	}
	return nil
}

// leafType is the Arrow type of the value computed from one leaf's inputs.
func (p *plan) leafType() arrow.DataType {
	t := p.elem
	switch p.part.Operation {
	case api.OpSum:
		if isFloat(t) {
			return arrow.PrimitiveTypes.Float64
		}
		return arrow.PrimitiveTypes.Int64
	case api.OpCount, api.OpUniqueCount, api.OpApproxUniqueCount, api.OpBoundedUniqueCount:
		return arrow.PrimitiveTypes.Int64
	case api.OpAverage, api.OpVariance, api.OpSkew, api.OpKurtosis:
		return arrow.PrimitiveTypes.Float64
	case api.OpMin, api.OpMax, api.OpFirst, api.OpLast:
		return t
	case api.OpFirstK, api.OpLastK, api.OpTopK, api.OpBottomK:
		return arrow.ListOf(t)
	case api.OpApproxPercentile:
		return arrow.ListOf(arrow.PrimitiveTypes.Float32)
	case api.OpHistogram:
		return arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32)
	case api.OpApproxHistogramK:
		return arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)
	}
	panic("unreachable")
}

// outputType wraps leafType in the part's shape and bucket.
func (p *plan) outputType() arrow.DataType {
	t := p.leafType()
	switch p.shape {
	case shapeMap:
		t = arrow.MapOf(arrow.BinaryTypes.String, t)
	case shapeElementWise:
		t = arrow.ListOf(t)
	}
	if p.part.Bucket != "" {
		t = arrow.MapOf(arrow.BinaryTypes.String, t)
	}
	return t
}

// OutputType returns the Arrow type of part's output column over an input
// column of type input, or an error if the combination is not supported
// (wrong input type, missing or bad argMap, elementWise over a non-list,
// buckets over a map input).
func OutputType(part api.AggregationPart, input arrow.DataType) (arrow.DataType, error) {
	p, err := newPlan(part, input)
	if err != nil {
		return nil, err
	}
	return p.outputType(), nil
}
