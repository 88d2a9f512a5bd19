// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// AppendValue appends v, a value following the value convention for the
// builder's type, to b. A value of another Go type is an error naming both
// types; nothing is appended then (at the top level).
func AppendValue(b array.Builder, v any) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	ok := true
	switch bb := b.(type) {
	case *array.BooleanBuilder:
		var x bool
		if x, ok = v.(bool); ok {
			bb.Append(x)
		}
	case *array.Int8Builder:
		ok = appendAs(bb, v)
	case *array.Int16Builder:
		ok = appendAs(bb, v)
	case *array.Int32Builder:
		ok = appendAs(bb, v)
	case *array.Int64Builder:
		ok = appendAs(bb, v)
	case *array.Float32Builder:
		ok = appendAs(bb, v)
	case *array.Float64Builder:
		ok = appendAs(bb, v)
	case *array.StringBuilder:
		ok = appendAs(bb, v)
	case *array.BinaryBuilder:
		ok = appendAs(bb, v)
	case *array.ListBuilder:
		var l []any
		if l, ok = v.([]any); ok {
			bb.Append(true)
			vb := bb.ValueBuilder()
			for i, e := range l {
				if err := AppendValue(vb, e); err != nil {
					return fmt.Errorf("element %d: %w", i, err)
				}
			}
		}
	case *array.MapBuilder:
		var m map[string]any
		if m, ok = v.(map[string]any); ok {
			bb.Append(true)
			kb, ib := bb.KeyBuilder(), bb.ItemBuilder()
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				if err := AppendValue(kb, k); err != nil {
					return fmt.Errorf("map key %q: %w", k, err)
				}
				if err := AppendValue(ib, m[k]); err != nil {
					return fmt.Errorf("key %q: %w", k, err)
				}
			}
		}
	default:
		return fmt.Errorf("append %T: unsupported builder %T for type %s", v, b, b.Type())
	}
	if !ok {
		return fmt.Errorf("value %v has Go type %T, want the Go type of %s", v, v, b.Type())
	}
	return nil
}

func appendAs[T any, B interface{ Append(T) }](b B, v any) bool {
	x, ok := v.(T)
	if ok {
		b.Append(x)
	}
	return ok
}

// NewArrayOf builds an array of type t from values following the value
// convention.
func NewArrayOf(t arrow.DataType, values []any) (arrow.Array, error) {
	b := array.NewBuilder(memory.DefaultAllocator, t)
	defer b.Release()
	for i, v := range values {
		if err := AppendValue(b, v); err != nil {
			return nil, fmt.Errorf("row %d: %w", i, err)
		}
	}
	return b.NewArray(), nil
}
