// SPDX-License-Identifier: Apache-2.0

package online

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Key encoding: each key value, in key column order, as a tag byte and its
// bytes, so that equal keys encode equally whatever the integer width:
//
//	'i' int8..int64, as a big-endian int64
//	's' string, uvarint length then bytes
//	'y' binary, uvarint length then bytes
//	'b' bool, one byte 0 or 1
//	'f' float32/float64, big-endian float64 bits
//	'n' null (offline only: online requests with a null key are not sent)
const (
	tagInt    = 'i'
	tagString = 's'
	tagBytes  = 'y'
	tagBool   = 'b'
	tagFloat  = 'f'
	tagNull   = 'n'
)

// AppendInt appends an integer key value.
func AppendInt(dst []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, tagInt), uint64(v))
}

// AppendString appends a string key value.
func AppendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(append(dst, tagString), uint64(len(s)))
	return append(dst, s...)
}

// AppendBytes appends a binary key value.
func AppendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(append(dst, tagBytes), uint64(len(b)))
	return append(dst, b...)
}

// AppendBool appends a boolean key value.
func AppendBool(dst []byte, v bool) []byte {
	b := byte(0)
	if v {
		b = 1
	}
	return append(dst, tagBool, b)
}

// AppendFloat appends a floating-point key value.
func AppendFloat(dst []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, tagFloat), math.Float64bits(v))
}

// AppendNull appends a null key value.
func AppendNull(dst []byte) []byte { return append(dst, tagNull) }

// AppendKey appends the encoding of key values (Go values of the value
// convention, in key column order) to dst.
func AppendKey(dst []byte, values []any) ([]byte, error) {
	for i, v := range values {
		switch x := v.(type) {
		case nil:
			dst = AppendNull(dst)
		case int64:
			dst = AppendInt(dst, x)
		case int32:
			dst = AppendInt(dst, int64(x))
		case int16:
			dst = AppendInt(dst, int64(x))
		case int8:
			dst = AppendInt(dst, int64(x))
		case string:
			dst = AppendString(dst, x)
		case []byte:
			dst = AppendBytes(dst, x)
		case bool:
			dst = AppendBool(dst, x)
		case float64:
			dst = AppendFloat(dst, x)
		case float32:
			dst = AppendFloat(dst, float64(x))
		default:
			return nil, fmt.Errorf("key value %d: unsupported type %T", i, v)
		}
	}
	return dst, nil
}

// CoerceKey converts a request's key value (as decoded from JSON: string,
// float64, json.Number, bool, or a Go value) to the Go type of key column
// type t when that loses nothing: "5" and 5 both reach a string or a long
// key, 5.0 reaches a long key, 5.5 does not. nil stays nil.
func CoerceKey(v any, t arrow.DataType) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING:
		switch x := v.(type) {
		case string:
			return x, nil
		case json.Number:
			return x.String(), nil
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return strconv.FormatInt(int64(x), 10), nil
			}
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		case int64, int32, int16, int8, int:
			return fmt.Sprint(x), nil
		case bool:
			return strconv.FormatBool(x), nil
		}
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		n, err := toInt(v)
		if err != nil {
			return nil, err
		}
		return narrow(n, t)
	case arrow.FLOAT32, arrow.FLOAT64:
		f, err := toFloat(v)
		if err != nil {
			return nil, err
		}
		if t.ID() == arrow.FLOAT32 {
			return float32(f), nil
		}
		return f, nil
	case arrow.BOOL:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			if b, err := strconv.ParseBool(strings.TrimSpace(x)); err == nil {
				return b, nil
			}
		}
	case arrow.BINARY:
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	}
	return nil, fmt.Errorf("cannot use %v (%T) as a %s key", v, v, t)
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case int:
		return int64(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
			return int64(x), nil
		}
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("cannot use %v (%T) as an integer key", v, v)
}

func narrow(n int64, t arrow.DataType) (any, error) {
	switch t.ID() {
	case arrow.INT8:
		if n == int64(int8(n)) {
			return int8(n), nil
		}
	case arrow.INT16:
		if n == int64(int16(n)) {
			return int16(n), nil
		}
	case arrow.INT32:
		if n == int64(int32(n)) {
			return int32(n), nil
		}
	default:
		return n, nil
	}
	return nil, fmt.Errorf("key %d does not fit %s", n, t)
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case json.Number:
		return x.Float64()
	case string:
		return strconv.ParseFloat(strings.TrimSpace(x), 64)
	}
	if n, err := toInt(v); err == nil {
		return float64(n), nil
	}
	return 0, fmt.Errorf("cannot use %v (%T) as a float key", v, v)
}
