// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"cmp"
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
		return cmp.Compare(x, b.(string))
	case float32, float64:
		return javaCompare(toFloat64(a), toFloat64(b))
	}
	return cmp.Compare(toInt64(a), toInt64(b))
}

// javaCompare is java.lang.Double.compare.
func javaCompare(a, b float64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return cmp.Compare(javaBits(a), javaBits(b))
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
