// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"sort"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// MIN, MAX, TOP_K and BOTTOM_K. Integers and strings compare naturally
// (strings by bytes); floats compare like Java's Double.compare (-0.0 < 0.0,
// NaN above +Inf), so MAX over a NaN is NaN (null) and MIN skips it.

func newOrder(b base, k kind, kk int) (Aggregator, error) {
	if !k.isNumeric() && k != kString {
		return nil, unsupported(b.op, b.in, "int8..int64, float32/64, string")
	}
	return scalarTypeOf(k).order(b, kk), nil
}

func (t *scalarType[T]) order(b base, k int) Aggregator { return buildOrder(b, t, k) }

// before reports whether x comes strictly before y in output order:
// ascending, or descending when desc (MAX: x replaces y; TOP_K).
func (t *scalarType[T]) before(x, y T, desc bool) bool {
	c := t.cmp(x, y)
	if desc {
		return c > 0
	}
	return c < 0
}

func buildOrder[T any](b base, t *scalarType[T], k int) Aggregator {
	if b.op == api.OpMin || b.op == api.OpMax {
		b.out = b.in
		return &minMax[T]{base: b, t: t, max: b.op == api.OpMax}
	}
	b.out = arrow.ListOf(b.in)
	return &orderK[T]{base: b, t: t, k: k, desc: b.op == api.OpTopK}
}

// valIR holds one value (MIN, MAX). v1 payload: the value.
type valIR[T any] struct{ v T }

type minMax[T any] struct {
	base
	t   *scalarType[T]
	max bool
}

func (a *minMax[T]) Update(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	x, ok := a.t.conv(in.Value)
	if !ok {
		a.badType(in.Value)
	}
	if ir == nil {
		return &valIR[T]{v: a.t.own(x)}
	}
	m := ir.(*valIR[T])
	if a.t.before(x, m.v, a.max) {
		m.v = a.t.own(x)
	}
	return m
}

func (a *minMax[T]) Merge(x, y IR) IR {
	if y == nil {
		return x
	}
	b := y.(*valIR[T])
	if x == nil {
		return &valIR[T]{v: b.v}
	}
	m := x.(*valIR[T])
	if a.t.before(b.v, m.v, a.max) {
		m.v = b.v
	}
	return m
}

func (a *minMax[T]) Clone(ir IR) IR {
	if ir == nil {
		return nil
	}
	return &valIR[T]{v: ir.(*valIR[T]).v}
}

func (a *minMax[T]) Finalize(ir IR) any {
	if ir == nil {
		return nil
	}
	return a.t.out(ir.(*valIR[T]).v)
}

func (a *minMax[T]) AppendIR(dst []byte, ir IR) []byte {
	if ir == nil {
		return appendNil(dst)
	}
	return a.t.put(append(dst, hdrV1), ir.(*valIR[T]).v)
}

func (a *minMax[T]) DecodeIR(src []byte) (IR, []byte, error) {
	var r reader
	return r.decode(src, func() IR {
		return &valIR[T]{v: a.t.get(&r)}
	})
}

// listIR holds up to k values in output order: descending for TOP_K,
// ascending for BOTTOM_K. v1 payload: uv n, n values in that order.
type listIR[T any] struct{ xs []T }

type orderK[T any] struct {
	base
	t    *scalarType[T]
	k    int
	desc bool
}

func (a *orderK[T]) Update(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	x, ok := a.t.conv(in.Value)
	if !ok {
		a.badType(in.Value)
	}
	if ir == nil {
		return &listIR[T]{xs: append(make([]T, 0, min(a.k, 4)), a.t.own(x))}
	}
	l := ir.(*listIR[T])
	n := len(l.xs)
	if n >= a.k && !a.t.before(x, l.xs[n-1], a.desc) {
		return l
	}
	// Place x after the values it ties with.
	pos := sort.Search(n, func(i int) bool { return a.t.before(x, l.xs[i], a.desc) })
	if n < a.k {
		var zero T
		l.xs = append(l.xs, zero)
		n++
	}
	copy(l.xs[pos+1:n], l.xs[pos:n-1])
	l.xs[pos] = a.t.own(x)
	return l
}

func (a *orderK[T]) Merge(x, y IR) IR {
	if y == nil {
		return x
	}
	b := y.(*listIR[T])
	if x == nil {
		return &listIR[T]{xs: append([]T(nil), b.xs...)}
	}
	l := x.(*listIR[T])
	l.xs = mergeBounded(l.xs, b.xs, a.k, func(x, y T) bool { return a.t.before(x, y, a.desc) })
	return l
}

func (a *orderK[T]) Clone(ir IR) IR {
	if ir == nil {
		return nil
	}
	return &listIR[T]{xs: append([]T(nil), ir.(*listIR[T]).xs...)}
}

func (a *orderK[T]) Finalize(ir IR) any {
	if ir == nil {
		return nil
	}
	xs := ir.(*listIR[T]).xs
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}

func (a *orderK[T]) AppendIR(dst []byte, ir IR) []byte {
	if ir == nil {
		return appendNil(dst)
	}
	xs := ir.(*listIR[T]).xs
	dst = appendUv(append(dst, hdrV1), uint64(len(xs)))
	for _, x := range xs {
		dst = a.t.put(dst, x)
	}
	return dst
}

func (a *orderK[T]) DecodeIR(src []byte) (IR, []byte, error) {
	var r reader
	return r.decode(src, func() IR {
		n := r.count(a.t.minSize)
		if r.err == nil && (n == 0 || n > a.k) {
			r.fail("%s of %d values (k = %d)", opName(a.op), n, a.k)
		}
		xs := make([]T, 0, n)
		for i := 0; i < n && r.err == nil; i++ {
			x := a.t.get(&r)
			if i > 0 && a.t.before(x, xs[i-1], a.desc) {
				r.fail("%s values out of order", opName(a.op))
			}
			xs = append(xs, x)
		}
		return &listIR[T]{xs: xs}
	})
}

// mergeBounded merges xs and ys, each in output order (before), into the
// first k elements of their merge. On ties xs's elements come first: they
// arrived first.
func mergeBounded[E any](xs, ys []E, k int, before func(x, y E) bool) []E {
	out := make([]E, 0, min(k, len(xs)+len(ys)))
	i, j := 0, 0
	for len(out) < k && (i < len(xs) || j < len(ys)) {
		if j >= len(ys) || (i < len(xs) && !before(ys[j], xs[i])) {
			out = append(out, xs[i])
			i++
		} else {
			out = append(out, ys[j])
			j++
		}
	}
	return out
}
