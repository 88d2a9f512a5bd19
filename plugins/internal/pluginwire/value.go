// SPDX-License-Identifier: Apache-2.0

package pluginwire

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// maxDepth bounds the nesting MarshalValue follows, so a cyclic value
// (a map that contains itself) fails instead of overflowing the stack.
const maxDepth = 1000

// MarshalValue encodes a JSON-like value (nil, bool, string, numbers,
// []any, map[string]any and nestings of them) as JSON that UnmarshalValue
// turns back into the same Go types.
//
// JSON has one number type, but external-source values distinguish int64
// from float64. The encoding keeps them apart by the literal: a float is
// always written with a fraction or an exponent (float64(3) is "3.0",
// 1e21 is "1e+21"), an integer never. NaN and ±Inf have no JSON literal and
// are an error.
//
// Other types are encoded by their kind: every signed or unsigned integer
// as an integer, float32 as a float, other slices, arrays and maps with
// string keys element by element, pointers and interfaces by what they
// point to. Types with their own MarshalJSON or MarshalText (time.Time),
// []byte (base64, as encoding/json does), structs and maps with other
// keys go through encoding/json, whose integral floats then decode as
// int64. Map keys are written sorted, so the encoding is deterministic.
func MarshalValue(v any) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, 64)}
	if err := e.value(v, 0); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// UnmarshalValue decodes JSON into nil, bool, string, int64, float64,
// []any and map[string]any. A number literal with a fraction or an
// exponent is a float64; an integral literal is an int64, or a float64
// when it does not fit in one (a uint64 above math.MaxInt64 encoded by
// MarshalValue comes back rounded).
func UnmarshalValue(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode value: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("decode value: data after the value")
	}
	return numbers(v)
}

// UnmarshalObject is UnmarshalValue for a JSON object or null (also empty
// data), which decode as a nil map.
func UnmarshalObject(data []byte) (map[string]any, error) {
	if len(data) == 0 {
		return nil, nil
	}
	v, err := UnmarshalValue(data)
	if err != nil {
		return nil, err
	}
	switch m := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return m, nil
	}
	return nil, fmt.Errorf("decode value: got %T, want a JSON object", v)
}

// numbers replaces the json.Numbers in v, in place, by int64 or float64.
func numbers(v any) (any, error) {
	switch x := v.(type) {
	case json.Number:
		return number(string(x))
	case []any:
		for i, e := range x {
			n, err := numbers(e)
			if err != nil {
				return nil, err
			}
			x[i] = n
		}
	case map[string]any:
		for k, e := range x {
			n, err := numbers(e)
			if err != nil {
				return nil, err
			}
			x[k] = n
		}
	}
	return v, nil
}

// number reads one JSON number literal.
func number(s string) (any, error) {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return i, nil
		}
		// Out of int64's range: the nearest float64 is the best we have.
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("decode value: number %s: %w", s, err)
	}
	return f, nil
}

// encoder appends JSON to buf.
type encoder struct {
	buf []byte
}

// value encodes v, with fast paths for the types external handlers and
// configs use; everything else goes by reflection.
func (e *encoder) value(v any, depth int) error {
	if depth > maxDepth {
		return &valueError{msg: "nested too deeply (a cycle?)"}
	}
	switch x := v.(type) {
	case nil:
		e.buf = append(e.buf, "null"...)
	case bool:
		e.buf = strconv.AppendBool(e.buf, x)
	case string:
		return e.string(x)
	case int64:
		e.buf = strconv.AppendInt(e.buf, x, 10)
	case int:
		e.buf = strconv.AppendInt(e.buf, int64(x), 10)
	case float64:
		return e.float(x, 64)
	case json.Number:
		// Keep the literal, so it decodes by the same rule.
		if _, err := number(string(x)); err != nil {
			return &valueError{msg: "invalid json.Number", err: err}
		}
		e.buf = append(e.buf, x...)
	case []any:
		e.buf = append(e.buf, '[')
		for i, el := range x {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.value(el, depth+1); err != nil {
				return at(err, "["+strconv.Itoa(i)+"]")
			}
		}
		e.buf = append(e.buf, ']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.string(k); err != nil {
				return err
			}
			e.buf = append(e.buf, ':')
			if err := e.value(x[k], depth+1); err != nil {
				return at(err, k)
			}
		}
		e.buf = append(e.buf, '}')
	default:
		return e.reflect(reflect.ValueOf(v), depth)
	}
	return nil
}

// reflect encodes the types value has no fast path for.
func (e *encoder) reflect(rv reflect.Value, depth int) error {
	if depth > maxDepth {
		return &valueError{msg: "nested too deeply (a cycle?)"}
	}
	if !rv.IsValid() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	t := rv.Type()
	if t == reflect.TypeFor[json.Number]() {
		return e.value(json.Number(rv.String()), depth)
	}
	if t.Implements(reflect.TypeFor[json.Marshaler]()) || t.Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
		return e.viaJSON(rv)
	}
	switch rv.Kind() {
	case reflect.Bool:
		e.buf = strconv.AppendBool(e.buf, rv.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.buf = strconv.AppendInt(e.buf, rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.buf = strconv.AppendUint(e.buf, rv.Uint(), 10)
	case reflect.Float32:
		return e.float(rv.Float(), 32)
	case reflect.Float64:
		return e.float(rv.Float(), 64)
	case reflect.String:
		return e.string(rv.String())
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.reflect(rv.Elem(), depth+1)
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if t.Elem().Kind() == reflect.Uint8 {
			return e.viaJSON(rv) // base64, as encoding/json writes bytes
		}
		e.buf = append(e.buf, '[')
		for i := range rv.Len() {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.reflect(rv.Index(i), depth+1); err != nil {
				return at(err, "["+strconv.Itoa(i)+"]")
			}
		}
		e.buf = append(e.buf, ']')
	case reflect.Map:
		if t.Key().Kind() != reflect.String || t.Key().Implements(reflect.TypeFor[encoding.TextMarshaler]()) {
			return e.viaJSON(rv)
		}
		if rv.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		e.buf = append(e.buf, '{')
		for i, k := range keys {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.string(k.String()); err != nil {
				return err
			}
			e.buf = append(e.buf, ':')
			if err := e.reflect(rv.MapIndex(k), depth+1); err != nil {
				return at(err, k.String())
			}
		}
		e.buf = append(e.buf, '}')
	default:
		return e.viaJSON(rv)
	}
	return nil
}

// viaJSON appends encoding/json's encoding of rv.
func (e *encoder) viaJSON(rv reflect.Value) error {
	b, err := json.Marshal(rv.Interface())
	if err != nil {
		return &valueError{msg: "type " + rv.Type().String(), err: err}
	}
	e.buf = append(e.buf, b...)
	return nil
}

// string appends s as a JSON string.
func (e *encoder) string(s string) error {
	b, err := json.Marshal(s)
	if err != nil {
		return &valueError{msg: "string", err: err}
	}
	e.buf = append(e.buf, b...)
	return nil
}

// float appends f the way encoding/json does, plus ".0" when that has no
// fraction or exponent, so the literal decodes as a float again.
func (e *encoder) float(f float64, bits int) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return &valueError{msg: fmt.Sprintf("%v has no JSON representation", f)}
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	start := len(e.buf)
	e.buf = strconv.AppendFloat(e.buf, f, format, -1, bits)
	if format == 'e' {
		// Shorten e-09 to e-9, as encoding/json does.
		if n := len(e.buf); n-start >= 4 && e.buf[n-4] == 'e' && e.buf[n-3] == '-' && e.buf[n-2] == '0' {
			e.buf[n-2] = e.buf[n-1]
			e.buf = e.buf[:n-1]
		}
		return nil
	}
	if !bytes.ContainsRune(e.buf[start:], '.') {
		e.buf = append(e.buf, ".0"...)
	}
	return nil
}

// valueError is an error of MarshalValue, with where in the value it
// happened.
type valueError struct {
	rpath []string // the path from the failing element up, reversed
	msg   string
	err   error
}

// maxPath caps how much of a path an error message shows.
const maxPath = 8

func (e *valueError) Error() string {
	var b strings.Builder
	b.WriteString("encode value")
	if n := len(e.rpath); n > 0 {
		b.WriteString(" at ")
		if n > maxPath {
			b.WriteString("…")
		}
		for i := min(n, maxPath) - 1; i >= 0; i-- {
			seg := e.rpath[i]
			if i < min(n, maxPath)-1 && !strings.HasPrefix(seg, "[") {
				b.WriteByte('.')
			}
			b.WriteString(seg)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.msg)
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(e.err.Error())
	}
	return b.String()
}

func (e *valueError) Unwrap() error { return e.err }

// at adds a path segment (a map key, "[i]") to err on its way up.
func at(err error, seg string) error {
	var ve *valueError
	if errors.As(err, &ve) {
		ve.rpath = append(ve.rpath, seg)
	}
	return err
}
