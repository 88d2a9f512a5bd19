// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/axiomhq/hyperloglog"
	metro "github.com/dgryski/go-metro"

	"github.com/chronon-go/chronon/core/api"
)

// UNIQUE_COUNT, BOUNDED_UNIQUE_COUNT, APPROX_UNIQUE_COUNT and
// APPROX_HISTOGRAM_K key their inputs: integers of every width as int64,
// floats as the bits of their float64 value with every NaN made one (so 0.0
// and -0.0 are distinct and NaN equals NaN, like Java's Double.equals),
// strings and binary values as strings.

// keyT is the Go type of a key.
type keyT interface{ int64 | uint64 | string }

// keyType is how the key-based aggregators handle one input type.
type keyType[K keyT] struct {
	// conv converts an input value (strings are not copied).
	conv func(v any) (K, bool)
	// own copies a key an IR keeps.
	own func(K) K
	put func([]byte, K) []byte
	get func(*reader) K
	// text is a key's output text (APPROX_HISTOGRAM_K's map keys).
	text func(K) string
	// hash feeds HyperLogLog: Metro hash (seed 1337, as hyperloglog.Insert)
	// of the 8 little endian bytes of an int64 or float64-bits key, or of a
	// string's bytes.
	hash    func(K) uint64
	minSize int
}

const hllSeed = 1337

func hash8(x uint64) uint64 {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], x)
	return metro.Hash64(b[:], hllSeed)
}

func hashStr(s string) uint64 {
	return metro.Hash64(unsafe.Slice(unsafe.StringData(s), len(s)), hllSeed)
}

func intKey[T integer](v any) (int64, bool) {
	x, ok := numArg[T](v)
	return int64(x), ok
}

func floatKey[T float](v any) (uint64, bool) {
	x, ok := numArg[T](v)
	return canonF64(float64(x)), ok
}

func intKeys(k kind) *keyType[int64] {
	kt := &keyType[int64]{
		own:     ident[int64],
		put:     appendZv,
		get:     (*reader).zv,
		text:    func(x int64) string { return strconv.FormatInt(x, 10) },
		hash:    func(x int64) uint64 { return hash8(uint64(x)) },
		minSize: 1,
	}
	switch k {
	case kInt8:
		kt.conv = intKey[int8]
	case kInt16:
		kt.conv = intKey[int16]
	case kInt32:
		kt.conv = intKey[int32]
	default:
		kt.conv = intKey[int64]
	}
	return kt
}

// floatKeys keys floats by bits; their text is the shortest decimal that
// reads back as the input value (strconv 'g' format of the float32 or
// float64 input: "1", "0.1", "1e+21", "NaN", "+Inf").
func floatKeys(k kind) *keyType[uint64] {
	bitSize := 64
	conv := floatKey[float64]
	if k == kFloat32 {
		bitSize, conv = 32, floatKey[float32]
	}
	return &keyType[uint64]{
		conv: conv,
		own:  ident[uint64],
		put:  func(dst []byte, x uint64) []byte { return binary.LittleEndian.AppendUint64(dst, x) },
		get:  (*reader).u64,
		text: func(x uint64) string {
			return strconv.FormatFloat(math.Float64frombits(x), 'g', -1, bitSize)
		},
		hash:    hash8,
		minSize: 8,
	}
}

func stringKeys(binaryIn bool) *keyType[string] {
	kt := &keyType[string]{
		conv:    typed[string],
		own:     strings.Clone,
		put:     appendStr,
		get:     (*reader).str,
		text:    ident[string],
		hash:    hashStr,
		minSize: 1,
	}
	if binaryIn {
		kt.conv = func(v any) (string, bool) {
			b, ok := v.([]byte)
			return string(b), ok
		}
		kt.own = ident[string]
	}
	return kt
}

func newDistinct(b base, k kind, kk int) (Aggregator, error) {
	switch {
	case k.isInt():
		return buildDistinct(b, intKeys(k), kk), nil
	case k.isFloat():
		return buildDistinct(b, floatKeys(k), kk), nil
	case k == kString:
		return buildDistinct(b, stringKeys(false), kk), nil
	case k == kBinary && b.op != api.OpApproxHistogramK:
		return buildDistinct(b, stringKeys(true), kk), nil
	}
	if b.op == api.OpApproxHistogramK {
		return nil, unsupported(b.op, b.in, "int8..int64, float32/64, string")
	}
	return nil, unsupported(b.op, b.in, "int8..int64, float32/64, string, binary")
}

func buildDistinct[K keyT](b base, kt *keyType[K], k int) Aggregator {
	b.out = int64Type
	switch b.op {
	case api.OpUniqueCount:
		return &distinct[K]{base: b, kt: kt}
	case api.OpBoundedUniqueCount:
		return &distinct[K]{base: b, kt: kt, bound: k}
	case api.OpApproxUniqueCount:
		return &approxDistinct[K]{base: b, kt: kt, p: uint8(k)}
	}
	b.out = arrowMapOf(int64Type)
	return &freqItems[K]{base: b, kt: kt, k: k, capacity: approxHistogramCapacity(k)}
}

// setIR is the set of distinct keys seen (UNIQUE_COUNT), or up to k of them
// (BOUNDED_UNIQUE_COUNT: once k are kept, new keys are not added, so the
// output is min(distinct, k)). v1 payload: uv n, n keys ascending.
type setIR[K keyT] struct{ m map[K]struct{} }

// distinct is UNIQUE_COUNT (bound 0) or BOUNDED_UNIQUE_COUNT (bound k).
type distinct[K keyT] struct {
	base
	kt    *keyType[K]
	bound int
}

func (a *distinct[K]) Update(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	x, ok := a.kt.conv(in.Value)
	if !ok {
		a.badType(in.Value)
	}
	if ir == nil {
		return &setIR[K]{m: map[K]struct{}{a.kt.own(x): {}}}
	}
	s := ir.(*setIR[K])
	if a.bound > 0 && len(s.m) >= a.bound {
		return s
	}
	if _, ok := s.m[x]; !ok {
		s.m[a.kt.own(x)] = struct{}{}
	}
	return s
}

func (a *distinct[K]) Merge(x, y IR) IR {
	if y == nil {
		return x
	}
	b := y.(*setIR[K])
	if x == nil {
		return a.Clone(b)
	}
	s := x.(*setIR[K])
	if s == b {
		return s
	}
	for key := range b.m {
		if a.bound > 0 && len(s.m) >= a.bound {
			break
		}
		s.m[key] = struct{}{}
	}
	return s
}

func (a *distinct[K]) Clone(ir IR) IR {
	if ir == nil {
		return nil
	}
	return &setIR[K]{m: maps.Clone(ir.(*setIR[K]).m)}
}

func (a *distinct[K]) Finalize(ir IR) any {
	if ir == nil {
		return nil
	}
	return int64(len(ir.(*setIR[K]).m))
}

func (a *distinct[K]) AppendIR(dst []byte, ir IR) []byte {
	if ir == nil {
		return appendNil(dst)
	}
	keys := sortedKeys(ir.(*setIR[K]).m)
	dst = appendUv(append(dst, hdrV1), uint64(len(keys)))
	for _, key := range keys {
		dst = a.kt.put(dst, key)
	}
	return dst
}

func (a *distinct[K]) DecodeIR(src []byte) (IR, []byte, error) {
	var r reader
	return r.decode(src, func() IR {
		n := r.count(a.kt.minSize)
		if r.err == nil && (n == 0 || (a.bound > 0 && n > a.bound)) {
			r.fail("%s of %d keys", opName(a.op), n)
		}
		m := make(map[K]struct{}, n)
		for i := 0; i < n && r.err == nil; i++ {
			m[a.kt.get(&r)] = struct{}{}
		}
		if r.err == nil && len(m) != n {
			r.fail("%s: duplicate keys", opName(a.op))
		}
		return &setIR[K]{m: m}
	})
}

// APPROX_UNIQUE_COUNT is a HyperLogLog sketch (github.com/axiomhq/hyperloglog,
// HLL++ with a sparse representation) with 2^p registers, p = argMap k
// clamped to [MinApproxUniqueLgK, MaxApproxUniqueLgK] (default 8).
//
// Error: while the sketch is sparse (few distinct values; up to roughly 2^p/4
// of them) it counts at precision 2^25 and is exact in practice; once dense
// the relative standard error is 1.04/sqrt(2^p): 6.5% at p = 8, 1.6% at
// p = 12, 0.8% at p = 14; tests check 3 standard errors.

// hllIR wraps a sketch. v1 payload: uv length, then the sketch's own binary
// form (hyperloglog.Sketch.AppendBinary, its format version 2).
type hllIR struct{ sk *hyperloglog.Sketch }

type approxDistinct[K keyT] struct {
	base
	kt *keyType[K]
	p  uint8
}

func (a *approxDistinct[K]) Update(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	x, ok := a.kt.conv(in.Value)
	if !ok {
		a.badType(in.Value)
	}
	var h *hllIR
	if ir == nil {
		sk, err := hyperloglog.NewSketch(a.p, true)
		if err != nil { // p is clamped to the supported range in New
			panic(fmt.Sprintf("agg: hyperloglog precision %d: %v", a.p, err))
		}
		h = &hllIR{sk: sk}
	} else {
		h = ir.(*hllIR)
	}
	h.sk.InsertHash(a.kt.hash(x))
	return h
}

func (a *approxDistinct[K]) Merge(x, y IR) IR {
	if y == nil {
		return x
	}
	b := y.(*hllIR)
	if x == nil {
		return &hllIR{sk: b.sk.Clone()}
	}
	h := x.(*hllIR)
	other := b.sk
	if h == b {
		other = other.Clone()
	}
	_ = h.sk.Merge(other) // precisions are equal: both come from this Aggregator
	return h
}

func (a *approxDistinct[K]) Clone(ir IR) IR {
	if ir == nil {
		return nil
	}
	return &hllIR{sk: ir.(*hllIR).sk.Clone()}
}

func (a *approxDistinct[K]) Finalize(ir IR) any {
	if ir == nil {
		return nil
	}
	return int64(ir.(*hllIR).sk.Estimate())
}

func (a *approxDistinct[K]) AppendIR(dst []byte, ir IR) []byte {
	if ir == nil {
		return appendNil(dst)
	}
	b, err := ir.(*hllIR).sk.AppendBinary(nil)
	if err != nil { // AppendBinary never fails in v0.2.6
		panic(fmt.Sprintf("agg: encoding a hyperloglog sketch: %v", err))
	}
	return appendBytes(append(dst, hdrV1), b)
}

func (a *approxDistinct[K]) DecodeIR(src []byte) (IR, []byte, error) {
	var r reader
	return r.decode(src, func() IR {
		b := r.bytes()
		if r.err != nil {
			return nil
		}
		if r.err = checkHLL(b, a.p); r.err != nil {
			return nil
		}
		sk := new(hyperloglog.Sketch)
		if err := sk.UnmarshalBinary(b); err != nil {
			r.err = fmt.Errorf("%w: hyperloglog sketch: %v", ErrCorruptIR, err)
			return nil
		}
		return &hllIR{sk: sk}
	})
}

// checkHLL validates the binary form of a sketch of precision p before it is
// handed to hyperloglog's UnmarshalBinary, which trusts its input (it can
// index out of range or allocate from garbage lengths).
func checkHLL(b []byte, p uint8) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: hyperloglog sketch: "+format, append([]any{ErrCorruptIR}, args...)...)
	}
	if len(b) < 8 {
		return bad("%d bytes", len(b))
	}
	if b[0] != 2 || b[1] != p || b[2] != 0 || b[3] > 1 {
		return bad("header % x (want version 2, precision %d)", b[:4], p)
	}
	if b[3] == 0 { // dense: uint32 BE register count, then the registers
		m := uint64(1) << p
		if uint64(binary.BigEndian.Uint32(b[4:8])) != m || uint64(len(b)) != 8+m {
			return bad("dense sketch of %d bytes, want %d registers", len(b), m)
		}
		return nil
	}
	// sparse: uint32 BE n + n uint32 (the temporary set), then the sorted
	// list: uint32 count, uint32 last, uint32 length + varint deltas.
	n := uint64(binary.BigEndian.Uint32(b[4:8]))
	if n > uint64(len(b)-8)/4 {
		return bad("set of %d exceeds %d bytes", n, len(b))
	}
	l := b[8+4*n:]
	if len(l) < 12 {
		return bad("truncated sparse list")
	}
	cnt, last, size := binary.BigEndian.Uint32(l[0:4]), binary.BigEndian.Uint32(l[4:8]), binary.BigEndian.Uint32(l[8:12])
	vs := l[12:]
	if uint64(size) != uint64(len(vs)) {
		return bad("sparse list of %d bytes, %d left", size, len(vs))
	}
	var (
		seen uint32
		x    uint32
	)
	for i := 0; i < len(vs); {
		var d uint32
		shift := uint(0)
		for {
			if i >= len(vs) {
				return bad("truncated varint")
			}
			c := vs[i]
			i++
			if shift < 32 {
				d |= uint32(c&0x7f) << shift
			}
			shift += 7
			if c&0x80 == 0 {
				break
			}
		}
		x += d
		seen++
	}
	if seen != cnt || x != last {
		return bad("sparse list count %d/%d, last %d/%d", seen, cnt, x, last)
	}
	return nil
}

// APPROX_HISTOGRAM_K keeps at most capacity = max(4k, 32) counters and is a
// Misra-Gries frequent-items summary: exact while at most capacity distinct
// values were seen (so always exact up to k); past that, a new value when
// all counters are taken decrements every counter (dropping those at 0), and
// a merge that leaves more than capacity counters subtracts the
// (capacity+1)-th largest count from all (Agarwal et al., "Mergeable
// summaries", 2012). Every reported count is a lower bound: true - n/(capacity+1)
// <= reported <= true, n being the number of inputs; any value more frequent
// than n/(capacity+1) is kept. The output is the k largest counters (ties:
// smaller key text first), keyed by their text.

func approxHistogramCapacity(k int) int { return max(4*k, 32) }

// freqIR holds the counters and the number of inputs n. v1 payload: uv n, uv
// counters, then per counter (keys ascending) the key and uv count.
type freqIR[K keyT] struct {
	m map[K]int64
	n int64
}

type freqItems[K keyT] struct {
	base
	kt       *keyType[K]
	k        int
	capacity int
}

func (a *freqItems[K]) Update(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	x, ok := a.kt.conv(in.Value)
	if !ok {
		a.badType(in.Value)
	}
	if ir == nil {
		return &freqIR[K]{m: map[K]int64{a.kt.own(x): 1}, n: 1}
	}
	f := ir.(*freqIR[K])
	f.n++
	if c, ok := f.m[x]; ok {
		f.m[x] = c + 1
	} else if len(f.m) < a.capacity {
		f.m[a.kt.own(x)] = 1
	} else {
		for key, c := range f.m {
			if c <= 1 {
				delete(f.m, key)
			} else {
				f.m[key] = c - 1
			}
		}
	}
	return f
}

func (a *freqItems[K]) Merge(x, y IR) IR {
	if y == nil {
		return x
	}
	b := y.(*freqIR[K])
	if x == nil {
		return a.Clone(b)
	}
	f := x.(*freqIR[K])
	if f == b {
		b = a.Clone(b).(*freqIR[K])
	}
	f.n += b.n
	for key, c := range b.m {
		f.m[key] += c
	}
	if len(f.m) > a.capacity {
		counts := make([]int64, 0, len(f.m))
		for _, c := range f.m {
			counts = append(counts, c)
		}
		slices.SortFunc(counts, func(p, q int64) int { return cmp.Compare(q, p) })
		cut := counts[a.capacity]
		for key, c := range f.m {
			if c <= cut {
				delete(f.m, key)
			} else {
				f.m[key] = c - cut
			}
		}
	}
	return f
}

func (a *freqItems[K]) Clone(ir IR) IR {
	if ir == nil {
		return nil
	}
	f := ir.(*freqIR[K])
	return &freqIR[K]{m: maps.Clone(f.m), n: f.n}
}

func (a *freqItems[K]) Finalize(ir IR) any {
	if ir == nil {
		return nil
	}
	f := ir.(*freqIR[K])
	type entry struct {
		key string
		c   int64
	}
	es := make([]entry, 0, len(f.m))
	for key, c := range f.m {
		es = append(es, entry{a.kt.text(key), c})
	}
	if len(es) > a.k {
		slices.SortFunc(es, func(p, q entry) int {
			if c := cmp.Compare(q.c, p.c); c != 0 {
				return c
			}
			return strings.Compare(p.key, q.key)
		})
		es = es[:a.k]
	}
	out := make(map[string]any, len(es))
	for _, e := range es {
		out[e.key] = e.c
	}
	return out
}

func (a *freqItems[K]) AppendIR(dst []byte, ir IR) []byte {
	if ir == nil {
		return appendNil(dst)
	}
	f := ir.(*freqIR[K])
	keys := sortedKeys(f.m)
	dst = appendUv(append(dst, hdrV1), uint64(f.n))
	dst = appendUv(dst, uint64(len(keys)))
	for _, key := range keys {
		dst = a.kt.put(dst, key)
		dst = appendUv(dst, uint64(f.m[key]))
	}
	return dst
}

func (a *freqItems[K]) DecodeIR(src []byte) (IR, []byte, error) {
	var r reader
	return r.decode(src, func() IR {
		n := r.uv()
		cnt := r.count(a.kt.minSize + 1)
		if r.err == nil && (n == 0 || n > math.MaxInt64 || cnt > a.capacity) {
			r.fail("%s of %d inputs, %d counters", opName(a.op), n, cnt)
		}
		f := &freqIR[K]{m: make(map[K]int64, cnt), n: int64(n)}
		var total uint64
		for i := 0; i < cnt && r.err == nil; i++ {
			key := a.kt.get(&r)
			c := r.uv()
			total += c
			if c == 0 || c > n || total > n {
				r.fail("%s count %d of %d inputs", opName(a.op), c, n)
			}
			f.m[key] = int64(c)
		}
		if r.err == nil && len(f.m) != cnt {
			r.fail("%s: duplicate keys", opName(a.op))
		}
		return f
	})
}
