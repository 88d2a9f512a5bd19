// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Date is a DATE value (Arrow date32): the number of days since 1970-01-01.
// It is the Go value of DATE columns and of DATE results such as to_date.
type Date int32

// DateOf returns the UTC calendar date of t.
func DateOf(t time.Time) Date {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return Date(d)
}

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String formats d as yyyy-MM-dd.
func (d Date) String() string { return d.Time().Format("2006-01-02") }

const microsPerDay = 86400 * 1000000

// tsOfMicros returns the UTC time of a microsecond epoch.
func tsOfMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// ValueAt returns row i of arr as a Go value following the package's value
// convention: bool, int8…int64, float32/float64, string, []byte, Date,
// time.Time (UTC), []any for lists, map[string]any for maps and structs, and
// nil for null. Binary values are copied; strings may share memory with arr.
func ValueAt(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Null:
		return nil
	case *array.Boolean:
		return a.Value(i)
	case *array.Int8:
		return a.Value(i)
	case *array.Int16:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Float32:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.StringView:
		return a.Value(i)
	case *array.Binary:
		return append([]byte{}, a.Value(i)...)
	case *array.LargeBinary:
		return append([]byte{}, a.Value(i)...)
	case *array.BinaryView:
		return append([]byte{}, a.Value(i)...)
	case *array.FixedSizeBinary:
		return append([]byte{}, a.Value(i)...)
	case *array.Date32:
		return Date(a.Value(i))
	case *array.Date64:
		ms := int64(a.Value(i))
		d := ms / 86400000
		if ms%86400000 < 0 {
			d--
		}
		return Date(d)
	case *array.Timestamp:
		return tsOfMicros(toMicros(int64(a.Value(i)), a.DataType().(*arrow.TimestampType).Unit))
	case *array.Map:
		start, end := a.ValueOffsets(i)
		keys, items := a.Keys(), a.Items()
		m := make(map[string]any, end-start)
		for j := int(start); j < int(end); j++ {
			k, _ := ValueAt(keys, j).(string)
			m[k] = ValueAt(items, j)
		}
		return m
	case array.ListLike:
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		out := make([]any, 0, end-start)
		for j := int(start); j < int(end); j++ {
			out = append(out, ValueAt(vals, j))
		}
		return out
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		m := make(map[string]any, st.NumFields())
		for f := 0; f < st.NumFields(); f++ {
			m[st.Field(f).Name] = ValueAt(a.Field(f), i)
		}
		return m
	case *array.Dictionary:
		return ValueAt(a.Dictionary(), a.GetValueIndex(i))
	}
	return nil
}

func toMicros(v int64, u arrow.TimeUnit) int64 {
	switch u {
	case arrow.Second:
		return v * 1000000
	case arrow.Millisecond:
		return v * 1000
	case arrow.Nanosecond:
		if v < 0 && v%1000 != 0 {
			return v/1000 - 1
		}
		return v / 1000
	}
	return v
}

// appendValue appends the internal value v of type t to b.
func appendValue(b array.Builder, t arrow.DataType, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	switch bb := b.(type) {
	case *array.NullBuilder:
		bb.AppendNull()
	case *array.BooleanBuilder:
		bb.Append(v.(bool))
	case *array.Int8Builder:
		bb.Append(v.(int8))
	case *array.Int16Builder:
		bb.Append(v.(int16))
	case *array.Int32Builder:
		bb.Append(v.(int32))
	case *array.Int64Builder:
		bb.Append(v.(int64))
	case *array.Float32Builder:
		bb.Append(v.(float32))
	case *array.Float64Builder:
		bb.Append(v.(float64))
	case *array.StringBuilder:
		bb.Append(v.(string))
	case *array.BinaryBuilder:
		bb.Append(v.([]byte))
	case *array.Date32Builder:
		bb.Append(arrow.Date32(v.(Date)))
	case *array.TimestampBuilder:
		bb.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
	case *array.MapBuilder:
		m := v.(map[string]any)
		bb.Append(true)
		kb, ib := bb.KeyBuilder().(*array.StringBuilder), bb.ItemBuilder()
		it := mapItem(t)
		for _, k := range sortedKeys(m) {
			kb.Append(k)
			appendValue(ib, it, m[k])
		}
	case *array.ListBuilder:
		l := v.([]any)
		bb.Append(true)
		vb := bb.ValueBuilder()
		et := listElem(t)
		for _, e := range l {
			appendValue(vb, et, e)
		}
	case *array.StructBuilder:
		m := v.(map[string]any)
		bb.Append(true)
		st := t.(*arrow.StructType)
		for f := 0; f < st.NumFields(); f++ {
			appendValue(bb.FieldBuilder(f), st.Field(f).Type, m[st.Field(f).Name])
		}
	default:
		panic(fmt.Sprintf("expr: no builder for %T", b))
	}
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// coerceIn converts a caller-supplied Go value to the internal value of type
// t. It accepts the exact Go type of t and, leniently, other Go numbers that
// fit, typed slices and maps, arrow.Date32 and time.Time for dates, and
// strings for dates and timestamps.
func coerceIn(v any, t arrow.DataType) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t.ID() {
	case arrow.NULL:
		return nil, nil
	case arrow.BOOL:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		switch x := v.(type) {
		case int64:
			if t.ID() == arrow.INT64 {
				return x, nil
			}
		case int32:
			if t.ID() == arrow.INT32 {
				return x, nil
			}
		}
		i, ok := goInt(v)
		if !ok {
			break
		}
		switch t.ID() {
		case arrow.INT8:
			if i >= math.MinInt8 && i <= math.MaxInt8 {
				return int8(i), nil
			}
		case arrow.INT16:
			if i >= math.MinInt16 && i <= math.MaxInt16 {
				return int16(i), nil
			}
		case arrow.INT32:
			if i >= math.MinInt32 && i <= math.MaxInt32 {
				return int32(i), nil
			}
		default:
			return i, nil
		}
		return nil, fmt.Errorf("value %v out of range for %s", v, typeName(t))
	case arrow.FLOAT32, arrow.FLOAT64:
		var f float64
		switch x := v.(type) {
		case float64:
			if t.ID() == arrow.FLOAT64 {
				return x, nil
			}
			f = x
		case float32:
			if t.ID() == arrow.FLOAT32 {
				return x, nil
			}
			f = float64(x)
		default:
			i, ok := goInt(v)
			if !ok {
				return nil, mismatch(v, t)
			}
			f = float64(i)
		}
		if t.ID() == arrow.FLOAT32 {
			return float32(f), nil
		}
		return f, nil
	case arrow.STRING:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case arrow.BINARY:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	case arrow.DATE32:
		switch x := v.(type) {
		case Date:
			return x, nil
		case arrow.Date32:
			return Date(x), nil
		case time.Time:
			return DateOf(x), nil
		case string:
			if d, ok := parseDate(x); ok {
				return d, nil
			}
			return nil, fmt.Errorf("bad date %q", x)
		}
	case arrow.TIMESTAMP:
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case string:
			if us, ok := parseTimestamp(x); ok {
				return tsOfMicros(us), nil
			}
			return nil, fmt.Errorf("bad timestamp %q", x)
		}
	case arrow.LIST:
		et := listElem(t)
		if l, ok := v.([]any); ok {
			var out []any
			for i, e := range l {
				c, err := coerceIn(e, et)
				if err != nil {
					return nil, fmt.Errorf("element %d: %w", i, err)
				}
				if out == nil && !sameValue(c, e) {
					out = make([]any, len(l))
					copy(out, l[:i])
				}
				if out != nil {
					out[i] = c
				}
			}
			if out == nil {
				return l, nil
			}
			return out, nil
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
			out := make([]any, rv.Len())
			for i := range out {
				c, err := coerceIn(rv.Index(i).Interface(), et)
				if err != nil {
					return nil, fmt.Errorf("element %d: %w", i, err)
				}
				out[i] = c
			}
			return out, nil
		}
	case arrow.MAP:
		it := mapItem(t)
		if m, ok := v.(map[string]any); ok {
			var out map[string]any
			for k, e := range m {
				c, err := coerceIn(e, it)
				if err != nil {
					return nil, fmt.Errorf("key %q: %w", k, err)
				}
				if out == nil && !sameValue(c, e) {
					out = make(map[string]any, len(m))
					for k2, e2 := range m {
						out[k2] = e2
					}
				}
				if out != nil {
					out[k] = c
				}
			}
			if out == nil {
				return m, nil
			}
			return out, nil
		}
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String {
			out := make(map[string]any, rv.Len())
			iter := rv.MapRange()
			for iter.Next() {
				k := iter.Key().String()
				c, err := coerceIn(iter.Value().Interface(), it)
				if err != nil {
					return nil, fmt.Errorf("key %q: %w", k, err)
				}
				out[k] = c
			}
			return out, nil
		}
	case arrow.STRUCT:
		if m, ok := v.(map[string]any); ok {
			st := t.(*arrow.StructType)
			out := make(map[string]any, st.NumFields())
			for f := 0; f < st.NumFields(); f++ {
				name := st.Field(f).Name
				fv, found := m[name]
				if !found {
					for k, x := range m {
						if strings.EqualFold(k, name) {
							fv = x
							break
						}
					}
				}
				c, err := coerceIn(fv, st.Field(f).Type)
				if err != nil {
					return nil, fmt.Errorf("field %q: %w", name, err)
				}
				out[name] = c
			}
			return out, nil
		}
	}
	return nil, mismatch(v, t)
}

func mismatch(v any, t arrow.DataType) error {
	return fmt.Errorf("value of Go type %T does not fit type %s", v, typeName(t))
}

// sameValue reports whether a coerced value is the very value it came from
// (so coerceIn can avoid copying containers).
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && reflect.ValueOf(x).Pointer() == reflect.ValueOf(y).Pointer()
	case []byte:
		y, ok := b.([]byte)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case nil:
		return b == nil
	}
	switch b.(type) {
	case []any, map[string]any, []byte:
		return false
	}
	return reflect.TypeOf(a) == reflect.TypeOf(b) && a == b
}

// goInt converts Go integers (and integral floats) to int64.
func goInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int8:
		return int64(x), true
	case int16:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return int64(x), true
		}
	case uint8:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case float64:
		if x == math.Trunc(x) && x >= -9.223372036854775808e18 && x < 9.223372036854775808e18 {
			return int64(x), true
		}
	case float32:
		f := float64(x)
		if f == math.Trunc(f) && f >= -9.223372036854775808e18 && f < 9.223372036854775808e18 {
			return int64(f), true
		}
	}
	return 0, false
}
