// SPDX-License-Identifier: Apache-2.0

//go:build cgo

package warehousesql

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"reflect"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/duckdb/duckdb-go/v2"
)

// appendFunc appends one value returned by the DuckDB driver to an Arrow
// builder of the matching type.
type appendFunc func(b array.Builder, v any) error

// converterFor returns the Arrow type holding values of a DuckDB column type
// and the function converting them. A nil info (type unknown) or a type
// without an Arrow counterpart (INTERVAL, UUID, UHUGEINT, UNION, BIT, ...)
// becomes a string column holding the value's text.
func converterFor(info duckdb.TypeInfo) (arrow.DataType, appendFunc) {
	if info == nil {
		return arrow.BinaryTypes.String, nullable(appendText)
	}
	if strings.EqualFold(info.Alias(), "JSON") {
		return arrow.BinaryTypes.String, nullable(appendJSONText)
	}
	switch info.InternalType() {
	case duckdb.TYPE_BOOLEAN:
		return arrow.FixedWidthTypes.Boolean, nullable(appendAs[bool, *array.BooleanBuilder])
	case duckdb.TYPE_TINYINT:
		return arrow.PrimitiveTypes.Int8, nullable(appendAs[int8, *array.Int8Builder])
	case duckdb.TYPE_SMALLINT:
		return arrow.PrimitiveTypes.Int16, nullable(appendAs[int16, *array.Int16Builder])
	case duckdb.TYPE_INTEGER:
		return arrow.PrimitiveTypes.Int32, nullable(appendAs[int32, *array.Int32Builder])
	case duckdb.TYPE_BIGINT:
		return arrow.PrimitiveTypes.Int64, nullable(appendAs[int64, *array.Int64Builder])
	case duckdb.TYPE_UTINYINT:
		return arrow.PrimitiveTypes.Uint8, nullable(appendAs[uint8, *array.Uint8Builder])
	case duckdb.TYPE_USMALLINT:
		return arrow.PrimitiveTypes.Uint16, nullable(appendAs[uint16, *array.Uint16Builder])
	case duckdb.TYPE_UINTEGER:
		return arrow.PrimitiveTypes.Uint32, nullable(appendAs[uint32, *array.Uint32Builder])
	case duckdb.TYPE_UBIGINT:
		return arrow.PrimitiveTypes.Uint64, nullable(appendAs[uint64, *array.Uint64Builder])
	case duckdb.TYPE_FLOAT:
		return arrow.PrimitiveTypes.Float32, nullable(appendAs[float32, *array.Float32Builder])
	case duckdb.TYPE_DOUBLE:
		return arrow.PrimitiveTypes.Float64, nullable(appendAs[float64, *array.Float64Builder])
	case duckdb.TYPE_HUGEINT:
		// A 128-bit integer: exact as a decimal with no fraction.
		return &arrow.Decimal128Type{Precision: 38, Scale: 0}, nullable(func(b array.Builder, v any) error {
			x, err := as[*big.Int](v)
			if err != nil {
				b.AppendNull()
				return err
			}
			b.(*array.Decimal128Builder).Append(decimal128.FromBigInt(x))
			return nil
		})
	case duckdb.TYPE_DECIMAL:
		d, ok := info.Details().(*duckdb.DecimalDetails)
		if !ok || d.Width > 38 {
			return arrow.BinaryTypes.String, nullable(appendText)
		}
		return &arrow.Decimal128Type{Precision: int32(d.Width), Scale: int32(d.Scale)}, nullable(func(b array.Builder, v any) error {
			x, err := as[duckdb.Decimal](v)
			if err != nil || x.Value == nil {
				b.AppendNull()
				return err
			}
			b.(*array.Decimal128Builder).Append(decimal128.FromBigInt(x.Value))
			return nil
		})
	case duckdb.TYPE_VARCHAR, duckdb.TYPE_ENUM:
		return arrow.BinaryTypes.String, nullable(appendAs[string, *array.StringBuilder])
	case duckdb.TYPE_BLOB, duckdb.TYPE_GEOMETRY:
		return arrow.BinaryTypes.Binary, nullable(appendAs[[]byte, *array.BinaryBuilder])
	case duckdb.TYPE_DATE:
		return arrow.FixedWidthTypes.Date32, nullable(func(b array.Builder, v any) error {
			x, err := as[time.Time](v)
			b.(*array.Date32Builder).Append(arrow.Date32FromTime(x))
			return err
		})
	case duckdb.TYPE_TIMESTAMP:
		return timestampConverter(arrow.Microsecond, "")
	case duckdb.TYPE_TIMESTAMP_S:
		return timestampConverter(arrow.Second, "")
	case duckdb.TYPE_TIMESTAMP_MS:
		return timestampConverter(arrow.Millisecond, "")
	case duckdb.TYPE_TIMESTAMP_NS:
		return timestampConverter(arrow.Nanosecond, "")
	case duckdb.TYPE_TIMESTAMP_TZ:
		return timestampConverter(arrow.Microsecond, "UTC")
	case duckdb.TYPE_TIME:
		return arrow.FixedWidthTypes.Time64us, nullable(func(b array.Builder, v any) error {
			x, err := as[time.Time](v)
			us := int64(x.Hour())*3600e6 + int64(x.Minute())*60e6 + int64(x.Second())*1e6 + int64(x.Nanosecond()/1e3)
			b.(*array.Time64Builder).Append(arrow.Time64(us))
			return err
		})
	case duckdb.TYPE_SQLNULL:
		return arrow.Null, func(b array.Builder, _ any) error {
			b.AppendNull()
			return nil
		}
	case duckdb.TYPE_LIST, duckdb.TYPE_ARRAY:
		var child duckdb.TypeInfo
		switch d := info.Details().(type) {
		case *duckdb.ListDetails:
			child = d.Child
		case *duckdb.ArrayDetails:
			child = d.Child
		}
		elem, conv := converterFor(child)
		return arrow.ListOf(elem), nullable(func(b array.Builder, v any) error {
			lb := b.(*array.ListBuilder)
			x, err := appendNested[[]any](lb, v)
			if err != nil {
				return err
			}
			for _, e := range x {
				if err := conv(lb.ValueBuilder(), e); err != nil {
					return err
				}
			}
			return nil
		})
	case duckdb.TYPE_STRUCT:
		d, _ := info.Details().(*duckdb.StructDetails)
		if d == nil || len(d.Entries) == 0 {
			return arrow.BinaryTypes.String, nullable(appendText)
		}
		fields := make([]arrow.Field, len(d.Entries))
		convs := make([]appendFunc, len(d.Entries))
		for i, e := range d.Entries {
			fields[i].Name, fields[i].Nullable = e.Name(), true
			fields[i].Type, convs[i] = converterFor(e.Info())
		}
		return arrow.StructOf(fields...), nullable(func(b array.Builder, v any) error {
			sb := b.(*array.StructBuilder)
			x, err := appendNested[map[string]any](sb, v)
			if err != nil {
				return err
			}
			for i, f := range fields {
				if err := convs[i](sb.FieldBuilder(i), x[f.Name]); err != nil {
					return fmt.Errorf("field %q: %w", f.Name, err)
				}
			}
			return nil
		})
	case duckdb.TYPE_MAP:
		d, _ := info.Details().(*duckdb.MapDetails)
		if d == nil {
			return arrow.BinaryTypes.String, nullable(appendText)
		}
		kt, kconv := converterFor(d.Key)
		vt, vconv := converterFor(d.Value)
		return arrow.MapOf(kt, vt), nullable(func(b array.Builder, v any) error {
			mb := b.(*array.MapBuilder)
			x, err := appendNested[duckdb.OrderedMap](mb, v)
			if err != nil {
				return err
			}
			for i, k := range x.Keys() {
				if k == nil {
					return fmt.Errorf("map with a NULL key")
				}
				if err := kconv(mb.KeyBuilder(), k); err != nil {
					return err
				}
				if err := vconv(mb.ItemBuilder(), x.Values()[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}
	// INTERVAL, UUID, UHUGEINT, BIGNUM, BIT, TIME_TZ, UNION, VARIANT, ...
	return arrow.BinaryTypes.String, nullable(appendText)
}

// timestampConverter converts time.Time values to Arrow timestamps.
func timestampConverter(unit arrow.TimeUnit, tz string) (arrow.DataType, appendFunc) {
	return &arrow.TimestampType{Unit: unit, TimeZone: tz}, nullable(func(b array.Builder, v any) error {
		x, err := as[time.Time](v)
		if err != nil {
			b.AppendNull()
			return err
		}
		ts, err := arrow.TimestampFromTime(x, unit)
		if err != nil {
			b.AppendNull()
			return fmt.Errorf("timestamp %s: %w", x, err)
		}
		b.(*array.TimestampBuilder).Append(ts)
		return nil
	})
}

// nullable wraps f to append a null for a nil value.
func nullable(f appendFunc) appendFunc {
	return func(b array.Builder, v any) error {
		if v == nil {
			b.AppendNull()
			return nil
		}
		return f(b, v)
	}
}

// appendAs appends a driver value of Go type T to a builder B of its Arrow
// type; a value of another type appends T's zero value and returns as's
// error.
func appendAs[T any, B interface{ Append(T) }](b array.Builder, v any) error {
	x, err := as[T](v)
	b.(B).Append(x)
	return err
}

// nestedBuilder is a list, struct or map builder.
type nestedBuilder interface {
	Append(bool)
	AppendNull()
}

// appendNested starts a nested value of Go type T in b, or appends a null
// when v is not a T and returns as's error.
func appendNested[T any](b nestedBuilder, v any) (T, error) {
	x, err := as[T](v)
	if err != nil {
		b.AppendNull()
		return x, err
	}
	b.Append(true)
	return x, nil
}

// as asserts v's dynamic type, naming both types when it is not T.
func as[T any](v any) (T, error) {
	x, ok := v.(T)
	if !ok {
		return x, fmt.Errorf("driver returned %T, want %T", v, x)
	}
	return x, nil
}

// appendText appends the text of a value of a type without an Arrow
// counterpart to a string builder.
func appendText(b array.Builder, v any) error {
	b.(*array.StringBuilder).Append(valueText(v))
	return nil
}

// appendJSONText appends a decoded JSON value as JSON text.
func appendJSONText(b array.Builder, v any) error {
	buf, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode JSON value: %w", err)
	}
	b.(*array.StringBuilder).Append(string(buf))
	return nil
}

// valueText formats a driver value the way DuckDB prints it, as far as
// practical.
func valueText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		if len(x) == 16 { // UUID
			h := hex.EncodeToString(x)
			return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
		}
		return hex.EncodeToString(x)
	case *big.Int:
		return x.String()
	case duckdb.Interval:
		return intervalText(x)
	case duckdb.Union:
		if x.Value == nil {
			return "NULL"
		}
		return valueText(x.Value)
	case time.Time:
		if x.Year() == 1 && x.YearDay() == 1 { // TIME WITH TIME ZONE
			return x.Format("15:04:05.999999-07:00")
		}
		return x.Format("2006-01-02 15:04:05.999999999-07:00")
	case fmt.Stringer:
		return x.String()
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Map, reflect.Slice, reflect.Struct:
		if buf, err := json.Marshal(v); err == nil {
			return string(buf)
		}
	}
	return fmt.Sprint(v)
}

// intervalText formats an interval like DuckDB: "1 year 2 months 3 days
// 04:05:06.5".
func intervalText(iv duckdb.Interval) string {
	var parts []string
	plural := func(n int64, unit string) {
		if n == 0 {
			return
		}
		s := fmt.Sprintf("%d %s", n, unit)
		if n != 1 && n != -1 {
			s += "s"
		}
		parts = append(parts, s)
	}
	plural(int64(iv.Months/12), "year")
	plural(int64(iv.Months%12), "month")
	plural(int64(iv.Days), "day")
	if iv.Micros != 0 || len(parts) == 0 {
		us := iv.Micros
		sign := ""
		if us < 0 {
			sign, us = "-", -us
		}
		s := fmt.Sprintf("%s%02d:%02d:%02d", sign, us/3600e6, us/60e6%60, us/1e6%60)
		if frac := us % 1e6; frac != 0 {
			s += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}
