// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"encoding/binary"
	"fmt"
	"math"
)

// IR encoding.
//
// Every IR encodes as one header byte followed by its payload:
//
//	0x00          nil IR (no payload)
//	0x01 payload  format version 1
//
// Payloads use unsigned LEB128 varints (uv), zigzag varints (zv) and little
// endian IEEE floats (f32, f64); str is uv length + bytes. Wrappers (buckets,
// map mode, elementWise) embed their inner IRs with their own header bytes.
// Version 1 payloads per operation are documented next to each IR type.
// Collections are written in a canonical order, so equal IRs encode to equal
// bytes (APPROX_UNIQUE_COUNT excepted: its sparse buffer keeps insertion
// order).

const (
	hdrNil byte = 0x00
	hdrV1  byte = 0x01
)

// appendNil appends the encoding of a nil IR.
func appendNil(dst []byte) []byte { return append(dst, hdrNil) }

func appendUv(dst []byte, v uint64) []byte { return binary.AppendUvarint(dst, v) }
func appendZv(dst []byte, v int64) []byte  { return binary.AppendVarint(dst, v) }
func appendF64(dst []byte, v float64) []byte {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
}
func appendF32(dst []byte, v float32) []byte {
	return binary.LittleEndian.AppendUint32(dst, math.Float32bits(v))
}
func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}
func appendBytes(dst []byte, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// reader decodes a payload. Errors are sticky: after the first one every read
// returns a zero value, and err says what went wrong.
type reader struct {
	b   []byte
	err error
}

// openIR reads the header byte of src. It returns present=false for a nil IR.
func openIR(src []byte) (r reader, present bool, err error) {
	if len(src) == 0 {
		return reader{}, false, fmt.Errorf("%w: empty input", ErrCorruptIR)
	}
	switch src[0] {
	case hdrNil:
		return reader{b: src[1:]}, false, nil
	case hdrV1:
		return reader{b: src[1:]}, true, nil
	}
	return reader{}, false, fmt.Errorf("%w: unknown IR format version %d", ErrCorruptIR, src[0])
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrCorruptIR}, args...)...)
	}
}

func (r *reader) uv() uint64 { return readVarint(r, binary.Uvarint) }
func (r *reader) zv() int64  { return readVarint(r, binary.Varint) }

// readVarint reads one varint with dec (binary.Uvarint or binary.Varint).
func readVarint[T uint64 | int64](r *reader, dec func([]byte) (T, int)) T {
	if r.err != nil {
		return 0
	}
	v, n := dec(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// take returns the next n bytes, or nil after an error or when fewer are
// left.
func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.fail("truncated")
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

func (r *reader) f64() float64 { return math.Float64frombits(r.u64()) }
func (r *reader) f32() float32 { return math.Float32frombits(r.u32()) }

// view reads a length-prefixed byte string without copying.
func (r *reader) view() []byte {
	n := r.uv()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("length %d exceeds the %d bytes left", n, len(r.b))
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// str reads a length-prefixed string (a copy).
func (r *reader) str() string { return string(r.view()) }

// bytes reads a length-prefixed byte string (a copy, never nil).
func (r *reader) bytes() []byte {
	v := r.view()
	if r.err != nil {
		return nil
	}
	return append([]byte{}, v...)
}

// count reads a collection length, checking that each element can take at
// least minSize bytes of what is left, so garbage cannot ask for huge
// allocations.
func (r *reader) count(minSize int) int {
	n := r.uv()
	if r.err != nil {
		return 0
	}
	if n > uint64(len(r.b)/minSize) {
		r.fail("count %d exceeds the %d bytes left", n, len(r.b))
		return 0
	}
	return int(n)
}

// decode decodes one IR from the front of src into r: nil for a nil IR, else
// what payload reads from r, which decode positions at the v1 payload.
// payload reports malformed input through r's error (r.fail), which decode
// returns instead of the IR.
func (r *reader) decode(src []byte, payload func() IR) (IR, []byte, error) {
	var (
		ok  bool
		err error
	)
	if *r, ok, err = openIR(src); err != nil || !ok {
		return nil, r.b, err
	}
	ir := payload()
	if r.err != nil {
		return nil, nil, r.err
	}
	return ir, r.b, nil
}
