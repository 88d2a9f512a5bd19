// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// vec is a column of values during batch evaluation: a typed Go slice (see
// kind) plus an Arrow-layout validity bitmap (bit i set = row i not null, nil
// = no nulls). A constant vec (konst) holds one value for every row. An owned
// vec's data and bitmap belong to the evaluation and may be overwritten by
// the consumer; others (input columns, constants) are read-only.
type vec struct {
	k     kind
	n     int
	konst bool
	owned bool
	valid []byte
	data  any
}

func bitmapLen(n int) int { return (n + 7) >> 3 }

func allValid(n int) []byte {
	b := make([]byte, bitmapLen(n))
	for i := range b {
		b[i] = 0xff
	}
	return b
}

func bitGet(b []byte, i int) bool { return b[i>>3]&(1<<(uint(i)&7)) != 0 }
func bitSet(b []byte, i int)      { b[i>>3] |= 1 << (uint(i) & 7) }
func bitClear(b []byte, i int)    { b[i>>3] &^= 1 << (uint(i) & 7) }

func makeData(k kind, n int) any {
	switch k {
	case kBool:
		return make([]bool, n)
	case kI8:
		return make([]int8, n)
	case kI16:
		return make([]int16, n)
	case kI32, kDate:
		return make([]int32, n)
	case kI64, kTS:
		return make([]int64, n)
	case kF32:
		return make([]float32, n)
	case kF64:
		return make([]float64, n)
	case kStr:
		return make([]string, n)
	case kAny:
		return make([]any, n)
	}
	return nil
}

func newVec(k kind, n int) *vec { return &vec{k: k, n: n, owned: true, data: makeData(k, n)} }

// constVec is a constant vector of the internal value x (nil for null).
func constVec(k kind, x any, n int) *vec {
	v := &vec{k: k, n: n, konst: true, data: makeData(k, 1)}
	if x == nil {
		v.valid = []byte{0}
		return v
	}
	v.put(0, x)
	return v
}

func nullVec(k kind, n int) *vec { return constVec(k, nil, n) }

// isNullConst reports whether v is the constant null.
func (v *vec) isNullConst() bool { return v.konst && v.valid != nil && v.valid[0]&1 == 0 }

func (v *vec) null(i int) bool {
	if v.valid == nil {
		return false
	}
	if v.konst {
		i = 0
	}
	return !bitGet(v.valid, i)
}

// box returns row i as an internal Go value.
func (v *vec) box(i int) any {
	if v.k == kNull || v.null(i) {
		return nil
	}
	if v.konst {
		i = 0
	}
	switch d := v.data.(type) {
	case []bool:
		return d[i]
	case []int8:
		return d[i]
	case []int16:
		return d[i]
	case []int32:
		if v.k == kDate {
			return Date(d[i])
		}
		return d[i]
	case []int64:
		if v.k == kTS {
			return tsOfMicros(d[i])
		}
		return d[i]
	case []float32:
		return d[i]
	case []float64:
		return d[i]
	case []string:
		return d[i]
	case []any:
		return d[i]
	case *array.String:
		return d.Value(i)
	}
	return nil
}

// mat returns v with an input string column materialised as []string.
func (v *vec) mat() *vec {
	a, ok := v.data.(*array.String)
	if !ok {
		return v
	}
	d := make([]string, v.n)
	for i := range d {
		d[i] = a.Value(i)
	}
	c := *v
	c.data = d
	return &c
}

// put stores the internal value x (non-nil) at row i without touching the
// bitmap.
func (v *vec) put(i int, x any) {
	switch d := v.data.(type) {
	case []bool:
		d[i] = x.(bool)
	case []int8:
		d[i] = x.(int8)
	case []int16:
		d[i] = x.(int16)
	case []int32:
		if v.k == kDate {
			d[i] = int32(x.(Date))
		} else {
			d[i] = x.(int32)
		}
	case []int64:
		if v.k == kTS {
			d[i] = x.(time.Time).UnixMicro()
		} else {
			d[i] = x.(int64)
		}
	case []float32:
		d[i] = x.(float32)
	case []float64:
		d[i] = x.(float64)
	case []string:
		d[i] = x.(string)
	case []any:
		d[i] = x
	}
}

// outVec is a vector filled row by row with set.
type outVec struct {
	v     *vec
	nulls int
}

func newOutVec(k kind, n int) *outVec {
	v := newVec(k, n)
	v.valid = allValid(n)
	return &outVec{v: v}
}

func (o *outVec) set(i int, x any) {
	if x == nil {
		bitClear(o.v.valid, i)
		o.nulls++
		return
	}
	o.v.put(i, x)
}

func (o *outVec) done() *vec {
	if o.nulls == 0 {
		o.v.valid = nil
	}
	if o.v.k == kNull {
		return nullVec(kNull, o.v.n)
	}
	return o.v
}

// expand materialises a constant vector.
func (v *vec) expand() *vec {
	if !v.konst {
		return v
	}
	out := newVec(v.k, v.n)
	if v.isNullConst() {
		out.valid = make([]byte, bitmapLen(v.n))
		return out
	}
	switch d := v.data.(type) {
	case []bool:
		fill(out.data.([]bool), d[0])
	case []int8:
		fill(out.data.([]int8), d[0])
	case []int16:
		fill(out.data.([]int16), d[0])
	case []int32:
		fill(out.data.([]int32), d[0])
	case []int64:
		fill(out.data.([]int64), d[0])
	case []float32:
		fill(out.data.([]float32), d[0])
	case []float64:
		fill(out.data.([]float64), d[0])
	case []string:
		fill(out.data.([]string), d[0])
	case []any:
		fill(out.data.([]any), d[0])
	}
	return out
}

func fill[T any](s []T, x T) {
	for i := range s {
		s[i] = x
	}
}

// nullCount counts the null rows of a non-constant vector.
func (v *vec) nullCount() int {
	if v.valid == nil {
		return 0
	}
	return v.n - bitutil.CountSetBits(v.valid, 0, v.n)
}

// filter keeps the rows listed in idx.
func (v *vec) filter(idx []int) *vec {
	if v.konst {
		c := *v
		c.n = len(idx)
		return &c
	}
	v = v.mat()
	out := newVec(v.k, len(idx))
	if v.valid != nil {
		out.valid = make([]byte, bitmapLen(len(idx)))
		for j, i := range idx {
			if bitGet(v.valid, i) {
				bitSet(out.valid, j)
			}
		}
	}
	switch d := v.data.(type) {
	case []bool:
		gather(out.data.([]bool), d, idx)
	case []int8:
		gather(out.data.([]int8), d, idx)
	case []int16:
		gather(out.data.([]int16), d, idx)
	case []int32:
		gather(out.data.([]int32), d, idx)
	case []int64:
		gather(out.data.([]int64), d, idx)
	case []float32:
		gather(out.data.([]float32), d, idx)
	case []float64:
		gather(out.data.([]float64), d, idx)
	case []string:
		gather(out.data.([]string), d, idx)
	case []any:
		gather(out.data.([]any), d, idx)
	}
	return out
}

func gather[T any](dst, src []T, idx []int) {
	for j, i := range idx {
		dst[j] = src[i]
	}
}

// validOf returns the validity bitmap of arr realigned to offset 0, or nil
// when arr has no nulls.
func validOf(arr arrow.Array) []byte {
	if arr.NullN() == 0 {
		return nil
	}
	bm := arr.NullBitmapBytes()
	off := arr.Data().Offset()
	n := arr.Len()
	if bm == nil {
		return make([]byte, bitmapLen(n))
	}
	if off%8 == 0 {
		return bm[off/8 : off/8+bitmapLen(n)]
	}
	out := make([]byte, bitmapLen(n))
	bitutil.CopyBitmap(bm, off, n, out, 0)
	return out
}

// fromArrow converts an input column of (normalised) type t to a vec. Fixed
// width numeric columns are used in place. The result is never owned: a
// column may be read by several nodes.
func fromArrow(arr arrow.Array, t arrow.DataType) (*vec, error) {
	n := arr.Len()
	k := kindOf(t)
	v := &vec{k: k, n: n, valid: validOf(arr)}
	switch a := arr.(type) {
	case *array.Int8:
		v.data = a.Int8Values()
	case *array.Int16:
		v.data = a.Int16Values()
	case *array.Int32:
		v.data = a.Int32Values()
	case *array.Int64:
		v.data = a.Int64Values()
	case *array.Float32:
		v.data = a.Float32Values()
	case *array.Float64:
		v.data = a.Float64Values()
	case *array.Date32:
		ds := a.Date32Values()
		v.data = unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(ds))), len(ds))
	case *array.Boolean:
		d := make([]bool, n)
		for i := range d {
			d[i] = a.Value(i)
		}
		v.data = d
	case *array.String:
		v.data = a // materialised lazily by mat; box reads it directly
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		src := a.TimestampValues()
		d := make([]int64, n)
		for i := range d {
			d[i] = toMicros(int64(src[i]), unit)
		}
		v.data = d
	case *array.Null:
		return nullVec(k, n), nil
	default:
		if k == kAny || k == kStr || k == kDate {
			d := makeData(k, n)
			o := &vec{k: k, n: n, data: d}
			for i := 0; i < n; i++ {
				if x := ValueAt(arr, i); x != nil {
					o.put(i, x)
				}
			}
			v.data = d
			break
		}
		return nil, fmt.Errorf("cannot read %s column as %s", arr.DataType(), typeName(t))
	}
	return v, nil
}

// toArrow converts v (of type t) to an Arrow array.
func toArrow(v *vec, t arrow.DataType) arrow.Array {
	if v.k == kNull {
		return array.NewNull(v.n)
	}
	if v.konst {
		v = v.expand()
	}
	v = v.mat()
	n := v.n
	nulls := v.nullCount()
	var validBuf *memory.Buffer
	if nulls > 0 {
		validBuf = memory.NewBufferBytes(v.valid)
	}
	fixed := func(b []byte) arrow.Array {
		data := array.NewData(t, n, []*memory.Buffer{validBuf, memory.NewBufferBytes(b)}, nil, nulls, 0)
		defer data.Release()
		return array.MakeFromData(data)
	}
	switch d := v.data.(type) {
	case []int8:
		return fixed(asBytes(ownedCopy(v, d)))
	case []int16:
		return fixed(asBytes(ownedCopy(v, d)))
	case []int32:
		return fixed(asBytes(ownedCopy(v, d)))
	case []int64:
		return fixed(asBytes(ownedCopy(v, d)))
	case []float32:
		return fixed(asBytes(ownedCopy(v, d)))
	case []float64:
		return fixed(asBytes(ownedCopy(v, d)))
	case []bool:
		bm := make([]byte, bitmapLen(n))
		for i, b := range d {
			if b {
				bitSet(bm, i)
			}
		}
		if nulls > 0 && !v.owned {
			validBuf = memory.NewBufferBytes(append([]byte{}, v.valid...))
		}
		data := array.NewData(t, n, []*memory.Buffer{validBuf, memory.NewBufferBytes(bm)}, nil, nulls, 0)
		defer data.Release()
		return array.MakeFromData(data)
	case []string:
		total := 0
		for i, s := range d {
			if nulls == 0 || bitGet(v.valid, i) {
				total += len(s)
			}
		}
		offsets := make([]int32, n+1)
		buf := make([]byte, 0, total)
		for i, s := range d {
			if nulls == 0 || bitGet(v.valid, i) {
				buf = append(buf, s...)
			}
			offsets[i+1] = int32(len(buf))
		}
		if nulls > 0 && !v.owned {
			validBuf = memory.NewBufferBytes(append([]byte{}, v.valid...))
		}
		data := array.NewData(t, n, []*memory.Buffer{validBuf, memory.NewBufferBytes(asBytes(offsets)), memory.NewBufferBytes(buf)}, nil, nulls, 0)
		defer data.Release()
		return array.MakeFromData(data)
	case []any:
		b := array.NewBuilder(memory.DefaultAllocator, t)
		defer b.Release()
		b.Reserve(n)
		for i, x := range d {
			if nulls > 0 && !bitGet(v.valid, i) {
				b.AppendNull()
				continue
			}
			appendValue(b, t, x)
		}
		return b.NewArray()
	}
	panic(fmt.Sprintf("expr: toArrow: unexpected data %T", v.data))
}

// ownedCopy returns d itself when v owns it, else a copy; with nulls it also
// makes sure v.valid is owned.
func ownedCopy[T any](v *vec, d []T) []T {
	if v.owned {
		return d
	}
	if v.valid != nil {
		v.valid = append([]byte{}, v.valid...)
	}
	return append([]T(nil), d...)
}

func asBytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var z T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(z)))
}

// mergeValid returns the bitmap of rows where every input is valid, or nil
// when none has nulls. Constant inputs must not be null. The result is owned:
// it reuses an owned input bitmap or is freshly allocated.
func mergeValid(n int, vs ...*vec) []byte {
	var out []byte
	outOwned := false
	for _, v := range vs {
		if v.konst || v.valid == nil {
			continue
		}
		switch {
		case out == nil:
			out, outOwned = v.valid, v.owned
		case outOwned:
			andInto(out, v.valid)
		case v.owned:
			andInto(v.valid, out)
			out = v.valid
			outOwned = true
		default:
			c := make([]byte, len(out))
			copy(c, out)
			andInto(c, v.valid)
			out, outOwned = c, true
		}
	}
	if out != nil && !outOwned {
		out = append([]byte(nil), out[:bitmapLen(n)]...)
	}
	return out
}

func andInto(dst, src []byte) {
	n := min(len(dst), len(src))
	i := 0
	for ; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], binary.LittleEndian.Uint64(dst[i:])&binary.LittleEndian.Uint64(src[i:]))
	}
	for ; i < n; i++ {
		dst[i] &= src[i]
	}
}
