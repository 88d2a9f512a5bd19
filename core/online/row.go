// SPDX-License-Identifier: Apache-2.0

package online

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/batch"
)

// Row encoding: finalized values of a GroupBy's columns (a SNAPSHOT
// upload's values, the row of a GroupBy without aggregations), typed by the
// columns' Arrow types so no type travels with the value:
//
//	version byte 1, then per column a presence byte (0 null, 1 set) and
//	bool: 1 byte; int8..int64: zigzag varint; float32/float64: 8 bytes of
//	float64 bits; string, binary: uvarint length + bytes; list: uvarint
//	count + elements (each with a presence byte); map<string,T>: uvarint
//	count + (string key, element) sorted by key.
const rowVersion = 1

// ErrCorruptRow is wrapped by every DecodeRow error. Use errors.Is.
var ErrCorruptRow = errors.New("online: corrupt row")

// AppendRow appends the encoding of values (value convention, one per
// type) to dst.
func AppendRow(dst []byte, types []arrow.DataType, values []any) ([]byte, error) {
	if len(values) != len(types) {
		return nil, fmt.Errorf("row has %d values for %d columns", len(values), len(types))
	}
	dst = append(dst, rowVersion)
	for i, v := range values {
		var err error
		if dst, err = appendValue(dst, types[i], v); err != nil {
			return nil, fmt.Errorf("column %d: %w", i, err)
		}
	}
	return dst, nil
}

func appendValue(dst []byte, t arrow.DataType, v any) ([]byte, error) {
	if v == nil {
		return append(dst, 0), nil
	}
	if err := batch.CheckValue(v, t); err != nil {
		return nil, err
	}
	dst = append(dst, 1)
	switch x := v.(type) {
	case bool:
		b := byte(0)
		if x {
			b = 1
		}
		return append(dst, b), nil
	case int8:
		return binary.AppendVarint(dst, int64(x)), nil
	case int16:
		return binary.AppendVarint(dst, int64(x)), nil
	case int32:
		return binary.AppendVarint(dst, int64(x)), nil
	case int64:
		return binary.AppendVarint(dst, x), nil
	case float32:
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(float64(x))), nil
	case float64:
		return binary.BigEndian.AppendUint64(dst, math.Float64bits(x)), nil
	case string:
		return append(binary.AppendUvarint(dst, uint64(len(x))), x...), nil
	case []byte:
		return append(binary.AppendUvarint(dst, uint64(len(x))), x...), nil
	case []any:
		elem := t.(*arrow.ListType).Elem()
		dst = binary.AppendUvarint(dst, uint64(len(x)))
		for _, e := range x {
			var err error
			if dst, err = appendValue(dst, elem, e); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case map[string]any:
		item := t.(*arrow.MapType).ItemType()
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		dst = binary.AppendUvarint(dst, uint64(len(x)))
		for _, k := range keys {
			dst = append(binary.AppendUvarint(dst, uint64(len(k))), k...)
			var err error
			if dst, err = appendValue(dst, item, x[k]); err != nil {
				return nil, err
			}
		}
		return dst, nil
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

// DecodeRow decodes a row written by AppendRow for the same types. It
// never panics on malformed input.
func DecodeRow(src []byte, types []arrow.DataType) ([]any, error) {
	if len(src) == 0 || src[0] != rowVersion {
		return nil, fmt.Errorf("%w: unknown version", ErrCorruptRow)
	}
	r := &reader{b: src[1:]}
	out := make([]any, len(types))
	for i, t := range types {
		out[i] = r.value(t, 0)
		if r.err != nil {
			return nil, fmt.Errorf("%w: column %d: %v", ErrCorruptRow, i, r.err)
		}
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorruptRow, len(r.b))
	}
	return out, nil
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(msg string) {
	if r.err == nil {
		r.err = errors.New(msg)
	}
}

func (r *reader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail("short input")
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if r.err != nil || n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) count() int {
	v, n := binary.Uvarint(r.b)
	if r.err != nil || n <= 0 || v > uint64(len(r.b)) {
		r.fail("bad length")
		return 0
	}
	r.b = r.b[n:]
	return int(v)
}

func (r *reader) bytes() []byte {
	n := r.count()
	if r.err != nil || n > len(r.b) {
		r.fail("short input")
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

func (r *reader) float() float64 {
	if r.err != nil || len(r.b) < 8 {
		r.fail("short input")
		return 0
	}
	f := math.Float64frombits(binary.BigEndian.Uint64(r.b))
	r.b = r.b[8:]
	return f
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 32

func (r *reader) value(t arrow.DataType, depth int) any {
	if depth > maxDepth {
		r.fail("nested too deeply")
		return nil
	}
	switch r.byte() {
	case 0:
		return nil
	case 1:
	default:
		r.fail("bad presence byte")
		return nil
	}
	switch t.ID() {
	case arrow.BOOL:
		return r.byte() == 1
	case arrow.INT8:
		return int8(r.varint())
	case arrow.INT16:
		return int16(r.varint())
	case arrow.INT32:
		return int32(r.varint())
	case arrow.INT64:
		return r.varint()
	case arrow.FLOAT32:
		return float32(r.float())
	case arrow.FLOAT64:
		return r.float()
	case arrow.STRING:
		return string(r.bytes())
	case arrow.BINARY:
		return append([]byte{}, r.bytes()...)
	case arrow.LIST:
		elem := t.(*arrow.ListType).Elem()
		n := r.count()
		out := make([]any, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			out = append(out, r.value(elem, depth+1))
		}
		return out
	case arrow.MAP:
		item := t.(*arrow.MapType).ItemType()
		n := r.count()
		out := make(map[string]any, n)
		for i := 0; i < n && r.err == nil; i++ {
			k := string(r.bytes())
			out[k] = r.value(item, depth+1)
		}
		return out
	}
	r.fail("unsupported type " + t.String())
	return nil
}
