// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"fmt"
	"iter"
	"maps"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
)

// The value convention (docs/aggregations.md, "Values"): a value outside an
// Arrow batch (an aggregation's input or output, a row of JSON-ish maps) is a
// plain Go value typed after its column's Arrow type:
//
//	bool            bool
//	int8/16/32/64   int8, int16, int32, int64
//	float32/64      float32, float64
//	utf8            string
//	binary          []byte
//	list<T>         []any (elements as above, nil for a null element)
//	map<utf8,T>     map[string]any
//	null            nil (untyped)

// CheckValue returns an error unless v follows the value convention for
// Arrow type t: v is nil (null), or has t's Go type and every list element
// and map item follows the convention for the element or item type. The
// error names the offending element or key. A non-nil value of a type
// outside the convention is an error.
func CheckValue(v any, t arrow.DataType) error {
	if v == nil {
		return nil
	}
	ok := false
	switch id := t.ID(); id {
	case arrow.LIST:
		if l, isList := v.([]any); isList {
			return checkItems(slices.All(l), t.(*arrow.ListType).Elem(), "element %d: %w")
		}
	case arrow.MAP:
		if m, isMap := v.(map[string]any); isMap {
			return checkItems(maps.All(m), t.(*arrow.MapType).ItemType(), "key %q: %w")
		}
	default:
		hasType, scalar := isScalarGoType[id]
		if !scalar {
			return fmt.Errorf("unsupported Arrow type %s", t)
		}
		ok = hasType(v)
	}
	if !ok {
		return fmt.Errorf("value %v has Go type %T, want the Go type of %s", v, v, t)
	}
	return nil
}

// isScalarGoType reports, per scalar Arrow type, whether a value has its Go
// type.
var isScalarGoType = map[arrow.Type]func(v any) bool{
	arrow.BOOL:    isA[bool],
	arrow.INT8:    isA[int8],
	arrow.INT16:   isA[int16],
	arrow.INT32:   isA[int32],
	arrow.INT64:   isA[int64],
	arrow.FLOAT32: isA[float32],
	arrow.FLOAT64: isA[float64],
	arrow.STRING:  isA[string],
	arrow.BINARY:  isA[[]byte],
}

func isA[T any](v any) bool {
	_, ok := v.(T)
	return ok
}

// checkItems checks the elements of a list or the items of a map against
// their type elem; format names the first bad one by its index or key and
// wraps its error.
func checkItems[K any](items iter.Seq2[K, any], elem arrow.DataType, format string) error {
	for k, e := range items {
		if err := CheckValue(e, elem); err != nil {
			return fmt.Errorf(format, k, err)
		}
	}
	return nil
}
