// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// castFn returns the function casting internal values of type from to type
// to with Spark's (non-ANSI) CAST rules, or false when Spark rejects the cast.
// The function receives non-nil values and returns nil for null (a string
// that does not parse, an out-of-range string number, a NaN timestamp…).
func castFn(from, to arrow.DataType) (func(any) any, bool) {
	if sameType(from, to) {
		return func(x any) any { return x }, true
	}
	if isNull(from) {
		return func(any) any { return nil }, true
	}
	fid, tid := from.ID(), to.ID()
	switch tid {
	case arrow.STRING:
		if f := toStringFn(from); f != nil {
			return func(x any) any { return f(x) }, true
		}
		return nil, false
	case arrow.BINARY:
		if fid == arrow.STRING {
			return func(x any) any { return []byte(x.(string)) }, true
		}
		return nil, false
	case arrow.BOOL:
		switch {
		case fid == arrow.STRING:
			return func(x any) any { return parseBool(x.(string)) }, true
		case isNumeric(from):
			return func(x any) any { return toF64(x) != 0 }, true
		case fid == arrow.TIMESTAMP:
			return func(x any) any { return x.(time.Time).UnixMicro() != 0 }, true
		case fid == arrow.DATE32:
			return func(any) any { return nil }, true
		}
		return nil, false
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.FLOAT32, arrow.FLOAT64:
		switch {
		case isNumeric(from):
			return numCastFn(from, to), true
		case fid == arrow.BOOL:
			return func(x any) any {
				if x.(bool) {
					return fromI64(1, tid)
				}
				return fromI64(0, tid)
			}, true
		case fid == arrow.STRING:
			return func(x any) any { return parseNumber(x.(string), tid) }, true
		case fid == arrow.TIMESTAMP:
			return func(x any) any {
				us := x.(time.Time).UnixMicro()
				if tid == arrow.FLOAT64 || tid == arrow.FLOAT32 {
					return fromF64(float64(us)/1e6, tid)
				}
				return fromI64(floorDiv(us, 1000000), tid)
			}, true
		case fid == arrow.DATE32:
			return func(any) any { return nil }, true
		}
		return nil, false
	case arrow.DATE32:
		switch fid {
		case arrow.STRING:
			return func(x any) any {
				if d, ok := parseDate(x.(string)); ok {
					return d
				}
				return nil
			}, true
		case arrow.TIMESTAMP:
			return func(x any) any { return dateOfMicros(x.(time.Time).UnixMicro()) }, true
		}
		return nil, false
	case arrow.TIMESTAMP:
		switch {
		case fid == arrow.STRING:
			return func(x any) any {
				if us, ok := parseTimestamp(x.(string)); ok {
					return tsOfMicros(us)
				}
				return nil
			}, true
		case fid == arrow.DATE32:
			return func(x any) any { return tsOfMicros(int64(x.(Date)) * microsPerDay) }, true
		case isIntegral(from):
			return func(x any) any {
				s := toI64(x)
				if s > math.MaxInt64/1000000 || s < math.MinInt64/1000000 {
					return nil
				}
				return tsOfMicros(s * 1000000)
			}, true
		case isFloat(from):
			return func(x any) any {
				f := toF64(x)
				if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 9.2e12 {
					return nil
				}
				return tsOfMicros(int64(f * 1e6))
			}, true
		case fid == arrow.BOOL:
			return nil, false
		}
		return nil, false
	case arrow.LIST:
		if fid != arrow.LIST {
			return nil, false
		}
		ef, ok := castFn(listElem(from), listElem(to))
		if !ok {
			return nil, false
		}
		return func(x any) any {
			l := x.([]any)
			out := make([]any, len(l))
			for i, e := range l {
				if e != nil {
					out[i] = ef(e)
				}
			}
			return out
		}, true
	case arrow.MAP:
		if fid != arrow.MAP {
			return nil, false
		}
		vf, ok := castFn(mapItem(from), mapItem(to))
		if !ok {
			return nil, false
		}
		return func(x any) any {
			m := x.(map[string]any)
			out := make(map[string]any, len(m))
			for k, e := range m {
				if e != nil {
					e = vf(e)
				}
				out[k] = e
			}
			return out
		}, true
	case arrow.STRUCT:
		if fid != arrow.STRUCT {
			return nil, false
		}
		fs, ts := from.(*arrow.StructType), to.(*arrow.StructType)
		if fs.NumFields() != ts.NumFields() {
			return nil, false
		}
		fns := make([]func(any) any, fs.NumFields())
		for i := range fns {
			f, ok := castFn(fs.Field(i).Type, ts.Field(i).Type)
			if !ok {
				return nil, false
			}
			fns[i] = f
		}
		return func(x any) any {
			m := x.(map[string]any)
			out := make(map[string]any, len(fns))
			for i, f := range fns {
				e := m[fs.Field(i).Name]
				if e != nil {
					e = f(e)
				}
				out[ts.Field(i).Name] = e
			}
			return out
		}, true
	}
	return nil, false
}

// ---- numbers ----

func toI64(x any) int64 {
	switch v := x.(type) {
	case int8:
		return int64(v)
	case int16:
		return int64(v)
	case int32:
		return int64(v)
	case int64:
		return v
	case float32:
		return f2i64(float64(v))
	case float64:
		return f2i64(v)
	case bool:
		if v {
			return 1
		}
		return 0
	}
	panic("expr: toI64 of non-number")
}

func toF64(x any) float64 {
	switch v := x.(type) {
	case int8:
		return float64(v)
	case int16:
		return float64(v)
	case int32:
		return float64(v)
	case int64:
		return float64(v)
	case float32:
		return float64(v)
	case float64:
		return v
	}
	panic("expr: toF64 of non-number")
}

// f2i64 converts like Java's (long) d: truncation, saturation, NaN → 0.
func f2i64(f float64) int64 {
	switch {
	case f != f:
		return 0
	case f >= 9.223372036854775807e18:
		return math.MaxInt64
	case f <= -9.223372036854775808e18:
		return math.MinInt64
	}
	return int64(f)
}

// f2i32 converts like Java's (int) d.
func f2i32(f float64) int32 {
	switch {
	case f != f:
		return 0
	case f >= math.MaxInt32:
		return math.MaxInt32
	case f <= math.MinInt32:
		return math.MinInt32
	}
	return int32(f)
}

// fromI64 narrows an int64 to the numeric type id, wrapping like Java.
func fromI64(v int64, id arrow.Type) any {
	switch id {
	case arrow.INT8:
		return int8(v)
	case arrow.INT16:
		return int16(v)
	case arrow.INT32:
		return int32(v)
	case arrow.INT64:
		return v
	case arrow.FLOAT32:
		return float32(v)
	case arrow.FLOAT64:
		return float64(v)
	}
	panic("expr: fromI64 to non-number")
}

// fromF64 converts a float64 to the numeric type id like Java's casts.
func fromF64(f float64, id arrow.Type) any {
	switch id {
	case arrow.INT8:
		return int8(f2i32(f))
	case arrow.INT16:
		return int16(f2i32(f))
	case arrow.INT32:
		return f2i32(f)
	case arrow.INT64:
		return f2i64(f)
	case arrow.FLOAT32:
		return float32(f)
	case arrow.FLOAT64:
		return f
	}
	panic("expr: fromF64 to non-number")
}

func numCastFn(from, to arrow.DataType) func(any) any {
	tid := to.ID()
	if isFloat(from) {
		if from.ID() == arrow.FLOAT32 && tid == arrow.FLOAT64 {
			return func(x any) any { return float64(x.(float32)) }
		}
		return func(x any) any { return fromF64(toF64(x), tid) }
	}
	return func(x any) any { return fromI64(toI64(x), tid) }
}

// parseBool implements CAST(string AS BOOLEAN).
func parseBool(s string) any {
	switch strings.ToLower(trimBlanks(s)) {
	case "t", "true", "y", "yes", "1":
		return true
	case "f", "false", "n", "no", "0":
		return false
	}
	return nil
}

// parseLong implements Spark's UTF8String.toLong with decimals allowed (the
// fraction is checked, then dropped).
func parseLong(s string) (int64, bool) {
	s = trimBlanks(s)
	if s == "" {
		return 0, false
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
		if s == "" {
			return 0, false
		}
	}
	var r int64 // accumulated negatively to reach MinInt64
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c == '.' {
			break
		}
		if c < '0' || c > '9' {
			return 0, false
		}
		if r < math.MinInt64/10 {
			return 0, false
		}
		r = r*10 - int64(c-'0')
		if r > 0 {
			return 0, false
		}
	}
	for i++; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	if !neg {
		r = -r
		if r < 0 {
			return 0, false
		}
	}
	return r, true
}

// parseDouble implements Spark's CAST(string AS DOUBLE/FLOAT): Java's
// Double.parseDouble (decimal forms, optional d/f suffix, NaN, Infinity)
// plus inf/infinity/nan in any case.
func parseDouble(s string, bitSize int) (float64, bool) {
	s = trimBlanks(s)
	switch strings.ToLower(s) {
	case "inf", "+inf", "infinity", "+infinity":
		return math.Inf(1), true
	case "-inf", "-infinity":
		return math.Inf(-1), true
	case "nan", "+nan", "-nan":
		return math.NaN(), true
	}
	if s == "" {
		return 0, false
	}
	if c := s[len(s)-1]; c == 'd' || c == 'D' || c == 'f' || c == 'F' {
		s = s[:len(s)-1]
	}
	// Java syntax: [+-] (digits [. digits?] | . digits) ([eE] [+-] digits)?
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		ed := 0
		for i < len(s) && isDigit(s[i]) {
			i++
			ed++
		}
		if ed == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, bitSize)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}

// parseNumber implements CAST(string AS <numeric id>).
func parseNumber(s string, id arrow.Type) any {
	switch id {
	case arrow.FLOAT64:
		if f, ok := parseDouble(s, 64); ok {
			return f
		}
		return nil
	case arrow.FLOAT32:
		if f, ok := parseDouble(s, 32); ok {
			return float32(f)
		}
		return nil
	}
	v, ok := parseLong(s)
	if !ok {
		return nil
	}
	switch id {
	case arrow.INT8:
		if v < math.MinInt8 || v > math.MaxInt8 {
			return nil
		}
		return int8(v)
	case arrow.INT16:
		if v < math.MinInt16 || v > math.MaxInt16 {
			return nil
		}
		return int16(v)
	case arrow.INT32:
		if v < math.MinInt32 || v > math.MaxInt32 {
			return nil
		}
		return int32(v)
	}
	return v
}

// ---- to string ----

// toStringFn returns the CAST(… AS STRING) function for type t, or nil.
func toStringFn(t arrow.DataType) func(any) string {
	switch t.ID() {
	case arrow.BOOL:
		return func(x any) string { return strconv.FormatBool(x.(bool)) }
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		return func(x any) string { return strconv.FormatInt(toI64(x), 10) }
	case arrow.FLOAT64:
		return func(x any) string { return javaDouble(x.(float64), 64) }
	case arrow.FLOAT32:
		return func(x any) string { return javaDouble(float64(x.(float32)), 32) }
	case arrow.STRING:
		return func(x any) string { return x.(string) }
	case arrow.BINARY:
		return func(x any) string { return string(x.([]byte)) }
	case arrow.DATE32:
		return func(x any) string { return x.(Date).String() }
	case arrow.TIMESTAMP:
		return func(x any) string { return formatTimestamp(x.(time.Time)) }
	case arrow.LIST:
		ef := toStringFn(listElem(t))
		if ef == nil {
			return nil
		}
		return func(x any) string {
			var b strings.Builder
			b.WriteByte('[')
			for i, e := range x.([]any) {
				if i > 0 {
					b.WriteString(", ")
				}
				if e == nil {
					b.WriteString("null")
				} else {
					b.WriteString(ef(e))
				}
			}
			b.WriteByte(']')
			return b.String()
		}
	case arrow.MAP:
		vf := toStringFn(mapItem(t))
		if vf == nil {
			return nil
		}
		return func(x any) string {
			m := x.(map[string]any)
			var b strings.Builder
			b.WriteByte('{')
			for i, k := range sortedKeys(m) {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(k)
				b.WriteString(" -> ")
				if e := m[k]; e == nil {
					b.WriteString("null")
				} else {
					b.WriteString(vf(e))
				}
			}
			b.WriteByte('}')
			return b.String()
		}
	case arrow.STRUCT:
		st := t.(*arrow.StructType)
		fns := make([]func(any) string, st.NumFields())
		for i := range fns {
			if fns[i] = toStringFn(st.Field(i).Type); fns[i] == nil {
				return nil
			}
		}
		return func(x any) string {
			m := x.(map[string]any)
			var b strings.Builder
			b.WriteByte('{')
			for i, f := range fns {
				if i > 0 {
					b.WriteString(", ")
				}
				if e := m[st.Field(i).Name]; e == nil {
					b.WriteString("null")
				} else {
					b.WriteString(f(e))
				}
			}
			b.WriteByte('}')
			return b.String()
		}
	case arrow.NULL:
		return func(any) string { return "null" }
	}
	return nil
}

// shortestDigits is the shortest decimal form of f (finite, not zero) that
// reads back at bitSize: its sign, its significant digits d₁d₂… and the
// exponent of d₁, so that |f| = d₁.d₂… × 10^exp.
func shortestDigits(f float64, bitSize int) (neg bool, digits string, exp int) {
	e := strconv.FormatFloat(f, 'e', -1, bitSize) // -d.ddde±XX
	neg = e[0] == '-'
	if neg {
		e = e[1:]
	}
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ = strconv.Atoi(expStr)
	return neg, strings.Replace(mant, ".", "", 1), exp
}

// javaDouble formats f like Java's Double.toString (bitSize 64) or
// Float.toString (32): the shortest digits that read back, in plain notation
// for 1e-3 <= |f| < 1e7 and as d.dddE±n otherwise.
func javaDouble(f float64, bitSize int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	neg, digits, exp := shortestDigits(f, bitSize)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		if exp >= 0 {
			if len(digits) <= exp+1 {
				b.WriteString(digits)
				b.WriteString(strings.Repeat("0", exp+1-len(digits)))
				b.WriteString(".0")
			} else {
				b.WriteString(digits[:exp+1])
				b.WriteByte('.')
				b.WriteString(digits[exp+1:])
			}
		} else {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", -exp-1))
			b.WriteString(digits)
		}
		return b.String()
	}
	b.WriteByte(digits[0])
	b.WriteByte('.')
	if len(digits) > 1 {
		b.WriteString(digits[1:])
	} else {
		b.WriteByte('0')
	}
	b.WriteByte('E')
	b.WriteString(strconv.Itoa(exp))
	return b.String()
}
