// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// integer, float and number are the Go types of numeric columns.
type (
	integer interface{ int8 | int16 | int32 | int64 }
	float   interface{ float32 | float64 }
	number  interface{ integer | float }
)

// numArg returns v as T. The fast path is v of type T (the value convention);
// other Go numeric types are converted when that loses nothing (an integral
// float64 for an int column, any integer for a float column). ok is false
// otherwise.
func numArg[T number](v any) (T, bool) {
	if x, ok := v.(T); ok {
		return x, true
	}
	return convNum[T](v)
}

func convNum[T number](v any) (T, bool) {
	var (
		i     int64
		f     float64
		isInt = true
	)
	switch x := v.(type) {
	case int:
		i = int64(x)
	case int8:
		i = int64(x)
	case int16:
		i = int64(x)
	case int32:
		i = int64(x)
	case int64:
		i = x
	case uint8:
		i = int64(x)
	case uint16:
		i = int64(x)
	case uint32:
		i = int64(x)
	case uint:
		if uint64(x) > math.MaxInt64 {
			return 0, false
		}
		i = int64(x)
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		i = int64(x)
	case float32:
		f, isInt = float64(x), false
	case float64:
		f, isInt = x, false
	default:
		return 0, false
	}
	var zero T
	switch any(zero).(type) {
	case float32, float64:
		if isInt {
			return T(i), true
		}
		return T(f), true
	}
	if !isInt {
		if f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
			return 0, false
		}
		i = int64(f)
	}
	if int64(T(i)) != i {
		return 0, false
	}
	return T(i), true
}

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return x-x == 0 }

// outF64 boxes a float64 output, NaN and ±Inf becoming null.
func outF64(x float64) any {
	if !finite(x) {
		return nil
	}
	return x
}

// cmpF64 orders float64 like Java's Double.compare: -0.0 < 0.0 and NaN is
// equal to itself and greater than +Inf. MIN, MAX, TOP_K and BOTTOM_K use it,
// as Chronon's Scala Ordering[Double] does.
func cmpF64(a, b float64) int {
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	}
	// a == b: only ±0 differ; as Java compares the signed long bits, -0.0
	// (sign bit set: a negative long) is the smaller.
	return cmp.Compare(int64(math.Float64bits(a)), int64(math.Float64bits(b)))
}

// canonF64 returns x's bits with every NaN mapped to one NaN: distinct-count
// keys compare floats by bits (so 0.0 and -0.0 differ, NaN equals NaN), like
// Java's Double.equals.
func canonF64(x float64) uint64 {
	if x != x {
		return 0x7ff8000000000000
	}
	return math.Float64bits(x)
}

// typed converts a value of Go type T, taking it as it is.
func typed[T any](v any) (T, bool) {
	x, ok := v.(T)
	return x, ok
}

// scalarType is how the generic order and timed aggregators handle values of
// Go type T: picked once per input type in New.
type scalarType[T any] struct {
	// conv converts an input value; ok is false for a value of the wrong type.
	// For nested types it also deep-copies and checks the value.
	conv func(v any) (T, bool)
	// own copies what an IR keeps (strings, byte slices).
	own func(T) T
	// put and get encode and decode one value.
	put func([]byte, T) []byte
	get func(*reader) T
	// cmp orders values (nil for unordered types).
	cmp func(a, b T) int
	// out boxes a value as a scalar output (floats: NaN/Inf become null).
	out func(T) any
	// minSize is the smallest encoding of one value, in bytes.
	minSize int
}

func ident[T any](x T) T { return x }
func box[T any](x T) any { return x }

// scalarKind is a *scalarType[T] of a scalar kind's T: it builds the
// aggregators over values of that kind and handles them boxed as the
// elements of list and map values.
type scalarKind interface {
	// order builds MIN, MAX, TOP_K or BOTTOM_K (newOrder).
	order(b base, k int) Aggregator
	// timed builds FIRST, LAST, FIRST_K or LAST_K (newTimed).
	timed(b base, k int) Aggregator
	// copyAny, putAny and getAny are conv (with own), put and get of a
	// boxed value.
	copyAny(v any) (any, bool)
	putAny(dst []byte, v any) []byte
	getAny(r *reader) any
}

// scalarTypeOf returns the scalarType of a scalar kind (k.isScalar()).
func scalarTypeOf(k kind) scalarKind {
	switch k {
	case kBool:
		return boolST()
	case kInt8:
		return intST[int8]()
	case kInt16:
		return intST[int16]()
	case kInt32:
		return intST[int32]()
	case kInt64:
		return intST[int64]()
	case kFloat32:
		return f32ST()
	case kFloat64:
		return f64ST()
	case kString:
		return stringST()
	case kBinary:
		return binaryST()
	}
	panic(fmt.Sprintf("agg: kind %d is not a scalar", k))
}

func (t *scalarType[T]) copyAny(v any) (any, bool) {
	x, ok := t.conv(v)
	if !ok {
		return nil, false
	}
	return t.own(x), true
}

func (t *scalarType[T]) putAny(dst []byte, v any) []byte { return t.put(dst, v.(T)) }
func (t *scalarType[T]) getAny(r *reader) any            { return t.get(r) }

func intST[T integer]() *scalarType[T] {
	return &scalarType[T]{
		conv:    numArg[T],
		own:     ident[T],
		put:     func(dst []byte, x T) []byte { return appendZv(dst, int64(x)) },
		get:     getInt[T],
		cmp:     cmp.Compare[T],
		out:     box[T],
		minSize: 1,
	}
}

func getInt[T integer](r *reader) T {
	v := r.zv()
	if int64(T(v)) != v {
		r.fail("integer %d out of range", v)
	}
	return T(v)
}

func f64ST() *scalarType[float64] {
	return &scalarType[float64]{
		conv:    numArg[float64],
		own:     ident[float64],
		put:     appendF64,
		get:     (*reader).f64,
		cmp:     cmpF64,
		out:     outF64,
		minSize: 8,
	}
}

func f32ST() *scalarType[float32] {
	return &scalarType[float32]{
		conv: numArg[float32],
		own:  ident[float32],
		put:  appendF32,
		get:  (*reader).f32,
		cmp:  func(a, b float32) int { return cmpF64(float64(a), float64(b)) },
		out: func(x float32) any {
			if !finite(float64(x)) {
				return nil
			}
			return x
		},
		minSize: 4,
	}
}

func stringST() *scalarType[string] {
	return &scalarType[string]{
		conv:    typed[string],
		own:     strings.Clone,
		put:     appendStr,
		get:     (*reader).str,
		cmp:     strings.Compare,
		out:     box[string],
		minSize: 1,
	}
}

func binaryST() *scalarType[[]byte] {
	return &scalarType[[]byte]{
		conv:    typed[[]byte],
		own:     func(b []byte) []byte { return append([]byte{}, b...) },
		put:     appendBytes,
		get:     (*reader).bytes,
		cmp:     bytes.Compare,
		out:     box[[]byte],
		minSize: 1,
	}
}

func boolST() *scalarType[bool] {
	return &scalarType[bool]{
		conv: typed[bool],
		own:  ident[bool],
		put: func(dst []byte, b bool) []byte {
			if b {
				return append(dst, 1)
			}
			return append(dst, 0)
		},
		get: func(r *reader) bool {
			switch r.u8() {
			case 0:
				return false
			case 1:
				return true
			}
			r.fail("bad bool")
			return false
		},
		cmp: func(a, b bool) int {
			switch {
			case a == b:
				return 0
			case b:
				return -1
			}
			return 1
		},
		out:     box[bool],
		minSize: 1,
	}
}

// anyST handles list and map values (FIRST, LAST, FIRST_K, LAST_K over a
// list or map column): conv checks and deep-copies them.
func anyST(t *vtype) *scalarType[any] {
	return &scalarType[any]{
		conv:    t.copyCheck,
		own:     ident[any],
		put:     t.put,
		get:     t.get,
		out:     box[any],
		minSize: 1,
	}
}

// vtype describes a (possibly nested) value type: the Arrow types of the
// value conventions.
type vtype struct {
	k      kind
	scalar scalarKind // a scalar's handling
	elem   *vtype     // list element or map item type
}

// newVType checks that dt is made of supported types.
func newVType(dt arrow.DataType) (*vtype, error) {
	k := kindOf(dt)
	switch {
	case k.isScalar():
		return &vtype{k: k, scalar: scalarTypeOf(k)}, nil
	case k == kList || k == kMap:
		e, err := newVType(elemType(dt))
		if err != nil {
			return nil, err
		}
		return &vtype{k: k, elem: e}, nil
	}
	return nil, fmt.Errorf("type %s is not supported (supported: bool, int8..int64, float32/64, string, binary, list, map<string, T>)", dt)
}

// copyCheck returns a deep copy of v after checking it against t; nil stays
// nil (null elements).
func (t *vtype) copyCheck(v any) (any, bool) {
	if v == nil {
		return nil, true
	}
	switch t.k {
	case kList:
		l, ok := v.([]any)
		if !ok {
			return nil, false
		}
		out := make([]any, len(l))
		for i, e := range l {
			if out[i], ok = t.elem.copyCheck(e); !ok {
				return nil, false
			}
		}
		return out, true
	case kMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		out := make(map[string]any, len(m))
		for key, e := range m {
			c, ok := t.elem.copyCheck(e)
			if !ok {
				return nil, false
			}
			out[strings.Clone(key)] = c
		}
		return out, true
	}
	return t.scalar.copyAny(v)
}

// put encodes a value checked by copyCheck: scalars as the typed encodings,
// lists as uv n + n × (flag byte, value), maps as uv n + n × (str key, flag
// byte, value) in key order; the flag byte is 0 for null, 1 otherwise.
func (t *vtype) put(dst []byte, v any) []byte {
	switch t.k {
	case kList:
		l := v.([]any)
		dst = appendUv(dst, uint64(len(l)))
		for _, e := range l {
			dst = t.elem.putNullable(dst, e)
		}
		return dst
	case kMap:
		m := v.(map[string]any)
		keys := sortedKeys(m)
		dst = appendUv(dst, uint64(len(keys)))
		for _, key := range keys {
			dst = appendStr(dst, key)
			dst = t.elem.putNullable(dst, m[key])
		}
		return dst
	}
	return t.scalar.putAny(dst, v)
}

func (t *vtype) putNullable(dst []byte, v any) []byte {
	if v == nil {
		return append(dst, 0)
	}
	return t.put(append(dst, 1), v)
}

func (t *vtype) get(r *reader) any {
	switch t.k {
	case kList:
		n := r.count(1)
		l := make([]any, n)
		for i := range l {
			l[i] = t.elem.getNullable(r)
		}
		return l
	case kMap:
		n := r.count(2)
		m := make(map[string]any, n)
		for range n {
			key := r.str()
			m[key] = t.elem.getNullable(r)
		}
		return m
	}
	return t.scalar.getAny(r)
}

func (t *vtype) getNullable(r *reader) any {
	switch r.u8() {
	case 0:
		return nil
	case 1:
		return t.get(r)
	}
	r.fail("bad null flag")
	return nil
}

// sortedKeys returns m's keys in ascending order: IR encodings write maps in
// key order, so equal IRs encode to equal bytes.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	return keys
}
