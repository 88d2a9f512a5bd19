// SPDX-License-Identifier: Apache-2.0

package online

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// ArrowType returns the Arrow type of a Chronon TDataType (an external
// source's key or value schema).
func ArrowType(t *api.TDataType) (arrow.DataType, error) {
	if t == nil {
		return nil, fmt.Errorf("no type")
	}
	param := func(i int) (arrow.DataType, error) {
		if len(t.Params) <= i || t.Params[i] == nil {
			return nil, fmt.Errorf("%s type without its parameter %d", t.Kind, i)
		}
		return ArrowType(t.Params[i].DataType)
	}
	switch t.Kind {
	case api.BooleanKind:
		return arrow.FixedWidthTypes.Boolean, nil
	case api.ByteKind:
		return arrow.PrimitiveTypes.Int8, nil
	case api.ShortKind:
		return arrow.PrimitiveTypes.Int16, nil
	case api.IntKind:
		return arrow.PrimitiveTypes.Int32, nil
	case api.LongKind:
		return arrow.PrimitiveTypes.Int64, nil
	case api.FloatKind:
		return arrow.PrimitiveTypes.Float32, nil
	case api.DoubleKind:
		return arrow.PrimitiveTypes.Float64, nil
	case api.StringKind:
		return arrow.BinaryTypes.String, nil
	case api.BinaryKind:
		return arrow.BinaryTypes.Binary, nil
	case api.DateKind:
		return arrow.FixedWidthTypes.Date32, nil
	case api.TimestampKind:
		return arrow.FixedWidthTypes.Timestamp_us, nil
	case api.ListKind:
		e, err := param(0)
		if err != nil {
			return nil, err
		}
		return arrow.ListOf(e), nil
	case api.MapKind:
		k, err := param(0)
		if err != nil {
			return nil, err
		}
		v, err := param(1)
		if err != nil {
			return nil, err
		}
		return arrow.MapOf(k, v), nil
	case api.StructKind:
		fields, err := StructFields(t)
		if err != nil {
			return nil, err
		}
		return arrow.StructOf(fields...), nil
	}
	return nil, fmt.Errorf("unsupported type kind %s", t.Kind)
}

// StructFields returns the fields of a struct TDataType (an external
// source's keySchema or valueSchema).
func StructFields(t *api.TDataType) ([]arrow.Field, error) {
	if t == nil || t.Kind != api.StructKind {
		return nil, fmt.Errorf("want a struct type")
	}
	var out []arrow.Field
	for _, p := range t.Params {
		if p == nil {
			continue
		}
		dt, err := ArrowType(p.DataType)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", p.Name, err)
		}
		out = append(out, arrow.Field{Name: p.Name, Type: dt, Nullable: true})
	}
	return out, nil
}
