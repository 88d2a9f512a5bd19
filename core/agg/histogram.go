// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"strings"
)

// histogram is HISTOGRAM over a string column: a count per value, deletable.
// With k > 0 the output keeps the k largest counts (ties: smaller key first).
type histogram struct {
	base
	k int
}

// histIR maps a value to its count; entries at 0 are removed and the IR is
// nil once none is left. v1 payload: uv n, then n × (str key, zv count), keys
// ascending.
type histIR struct{ m map[string]int64 }

func (a *histogram) Deletable() bool { return true }

func (a *histogram) add(ir IR, v any, d int64) IR {
	s, ok := v.(string)
	if !ok {
		a.badType(v)
	}
	if ir == nil {
		return &histIR{m: map[string]int64{strings.Clone(s): d}}
	}
	h := ir.(*histIR)
	if c, ok := h.m[s]; ok {
		if c+d == 0 {
			delete(h.m, s)
			if len(h.m) == 0 {
				return nil
			}
		} else {
			h.m[s] = c + d
		}
	} else {
		h.m[strings.Clone(s)] = d
	}
	return h
}

func (a *histogram) Update(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	return a.add(ir, in.Value, 1)
}

func (a *histogram) Delete(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	return a.add(ir, in.Value, -1)
}

func (a *histogram) Merge(x, y IR) IR {
	if y == nil {
		return x
	}
	b := y.(*histIR)
	if x == nil {
		return a.Clone(b)
	}
	h := x.(*histIR)
	if h == b {
		for key, c := range h.m {
			h.m[key] = 2 * c
		}
		return h
	}
	for key, c := range b.m {
		if s := h.m[key] + c; s == 0 {
			delete(h.m, key)
		} else {
			h.m[key] = s
		}
	}
	if len(h.m) == 0 {
		return nil
	}
	return h
}

func (a *histogram) Clone(ir IR) IR {
	if ir == nil {
		return nil
	}
	return &histIR{m: maps.Clone(ir.(*histIR).m)}
}

func (a *histogram) Finalize(ir IR) any {
	if ir == nil {
		return nil
	}
	h := ir.(*histIR)
	if a.k > 0 && len(h.m) > a.k {
		keys := make([]string, 0, len(h.m))
		for key := range h.m {
			keys = append(keys, key)
		}
		slices.SortFunc(keys, func(p, q string) int {
			if c := cmp.Compare(h.m[q], h.m[p]); c != 0 {
				return c
			}
			return strings.Compare(p, q)
		})
		out := make(map[string]any, a.k)
		for _, key := range keys[:a.k] {
			out[key] = int32(h.m[key])
		}
		return out
	}
	out := make(map[string]any, len(h.m))
	for key, c := range h.m {
		out[key] = int32(c)
	}
	return out
}

func (a *histogram) AppendIR(dst []byte, ir IR) []byte {
	if ir == nil {
		return appendNil(dst)
	}
	h := ir.(*histIR)
	keys := sortedKeys(h.m)
	dst = appendUv(append(dst, hdrV1), uint64(len(keys)))
	for _, key := range keys {
		dst = appendStr(dst, key)
		dst = appendZv(dst, h.m[key])
	}
	return dst
}

func (a *histogram) DecodeIR(src []byte) (IR, []byte, error) {
	var r reader
	return r.decode(src, func() IR {
		n := r.count(2)
		if r.err == nil && n == 0 {
			r.fail("empty HISTOGRAM")
		}
		m := make(map[string]int64, n)
		for i := 0; i < n && r.err == nil; i++ {
			key := r.str()
			c := r.zv()
			if c == 0 || c == math.MinInt64 {
				r.fail("HISTOGRAM count %d", c)
			}
			m[key] = c
		}
		if r.err == nil && len(m) != n {
			r.fail("HISTOGRAM: duplicate keys")
		}
		return &histIR{m: m}
	})
}
