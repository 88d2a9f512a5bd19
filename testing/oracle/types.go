// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
)

// Type classes of scalar Arrow types.

func isInt(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		return true
	}
	return false
}

func isFloat(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return false
}

func isNumeric(t arrow.DataType) bool { return isInt(t) || isFloat(t) }

func isString(t arrow.DataType) bool { return t.ID() == arrow.STRING }

func isBinary(t arrow.DataType) bool { return t.ID() == arrow.BINARY }

func isBool(t arrow.DataType) bool { return t.ID() == arrow.BOOL }

// isScalar reports whether t is one of the scalar types of the value
// convention (not a list or map).
func isScalar(t arrow.DataType) bool {
	return isBool(t) || isNumeric(t) || isString(t) || isBinary(t)
}

// checkGo reports an error unless v (non-nil) has the Go type of Arrow type t
// under the value convention of docs/aggregations.md.
func checkGo(v any, t arrow.DataType) error {
	if v == nil {
		return nil
	}
	ok := false
	switch t.ID() {
	case arrow.BOOL:
		_, ok = v.(bool)
	case arrow.INT8:
		_, ok = v.(int8)
	case arrow.INT16:
		_, ok = v.(int16)
	case arrow.INT32:
		_, ok = v.(int32)
	case arrow.INT64:
		_, ok = v.(int64)
	case arrow.FLOAT32:
		_, ok = v.(float32)
	case arrow.FLOAT64:
		_, ok = v.(float64)
	case arrow.STRING:
		_, ok = v.(string)
	case arrow.BINARY:
		_, ok = v.([]byte)
	case arrow.LIST:
		l, isList := v.([]any)
		if !isList {
			break
		}
		elem := t.(*arrow.ListType).Elem()
		for i, e := range l {
			if err := checkGo(e, elem); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		return nil
	case arrow.MAP:
		m, isMap := v.(map[string]any)
		if !isMap {
			break
		}
		item := t.(*arrow.MapType).ItemType()
		for k, e := range m {
			if err := checkGo(e, item); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
		}
		return nil
	default:
		return fmt.Errorf("unsupported Arrow type %s", t)
	}
	if !ok {
		return fmt.Errorf("value %v has Go type %T, want the Go type of %s", v, v, t)
	}
	return nil
}

// toInt64 returns an integer value widened to int64 (bool: 1 or 0).
func toInt64(v any) int64 {
	switch x := v.(type) {
	case bool:
		if x {
			return 1
		}
		return 0
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	}
	panic(fmt.Sprintf("oracle: %T is not an integer", v))
}

// toFloat64 returns a numeric value as float64 (exact for float32 and for
// integers up to 2^53).
func toFloat64(v any) float64 {
	switch x := v.(type) {
	case float32:
		return float64(x)
	case float64:
		return x
	}
	return float64(toInt64(v))
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// sane turns a NaN or infinite float into nil (null), as Chronon does for
// float outputs.
func sane(f float64) any {
	if !finite(f) {
		return nil
	}
	return f
}

// compareValues orders two non-null scalars of the same type: integers by
// value, floats by Java's Double.compare (-0.0 < 0.0, NaN above +Inf, all
// NaNs equal), strings by bytes.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		y := b.(string)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case float32, float64:
		return javaCompare(toFloat64(a), toFloat64(b))
	}
	x, y := toInt64(a), toInt64(b)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// javaCompare is java.lang.Double.compare.
func javaCompare(a, b float64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	ab, bb := javaBits(a), javaBits(b)
	switch {
	case ab < bb:
		return -1
	case ab > bb:
		return 1
	}
	return 0
}

// javaBits is Double.doubleToLongBits: the bits with every NaN made the
// canonical NaN, as a signed integer.
func javaBits(f float64) int64 {
	if math.IsNaN(f) {
		return 0x7ff8000000000000
	}
	return int64(math.Float64bits(f))
}

// distinctKey returns a comparable key under which two scalars are the same
// value for UNIQUE_COUNT: Java equals semantics, so all NaNs are one value
// and -0.0 differs from 0.0; binary by content.
func distinctKey(v any) any {
	switch x := v.(type) {
	case float32:
		return javaBits(float64(x))
	case float64:
		return javaBits(x)
	case []byte:
		return string(x)
	}
	return v
}
