// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// FIRST, LAST, FIRST_K and LAST_K order inputs by Input.Ts; among equal ts the
// first-arrived input wins (docs/aggregations.md, "Arrival order and ties").
// A list or map input is one opaque value.

func newTimed(b base, vt *vtype, k int) (Aggregator, error) {
	if vt.k.isScalar() {
		return vt.scalar.timed(b, k), nil
	}
	return buildTimed(b, anyST(vt), k), nil
}

func (t *scalarType[T]) timed(b base, k int) Aggregator { return buildTimed(b, t, k) }

func buildTimed[T any](b base, t *scalarType[T], k int) Aggregator {
	last := b.op == api.OpLast || b.op == api.OpLastK
	if b.op == api.OpFirst || b.op == api.OpLast {
		b.out = b.in
		return &firstLast[T]{base: b, t: t, last: last}
	}
	b.out = arrow.ListOf(b.in)
	return &timedK[T]{base: b, t: t, k: k, last: last}
}

// tsVal is a value and its event time.
type tsVal[T any] struct {
	ts int64
	v  T
}

// firstLast is FIRST or LAST; its IR is a *tsVal[T]. v1 payload: zv ts, value.
type firstLast[T any] struct {
	base
	t    *scalarType[T]
	last bool
}

// tsBefore reports whether an input at ts sorts strictly before one at
// other: earlier first for FIRST and FIRST_K, later first for LAST and LAST_K
// (for FIRST and LAST: the input at ts replaces the kept one at other).
func tsBefore(ts, other int64, last bool) bool {
	if last {
		return ts > other
	}
	return ts < other
}

func (a *firstLast[T]) Update(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	var p *tsVal[T]
	if ir != nil {
		p = ir.(*tsVal[T])
		if !tsBefore(in.Ts, p.ts, a.last) {
			return p
		}
	}
	x, ok := a.t.conv(in.Value)
	if !ok {
		a.badType(in.Value)
	}
	if p == nil {
		return &tsVal[T]{ts: in.Ts, v: a.t.own(x)}
	}
	p.ts, p.v = in.Ts, a.t.own(x)
	return p
}

func (a *firstLast[T]) Merge(x, y IR) IR {
	if y == nil {
		return x
	}
	b := y.(*tsVal[T])
	if x == nil {
		c := *b
		return &c
	}
	p := x.(*tsVal[T])
	if tsBefore(b.ts, p.ts, a.last) {
		*p = *b
	}
	return p
}

func (a *firstLast[T]) Clone(ir IR) IR {
	if ir == nil {
		return nil
	}
	c := *ir.(*tsVal[T])
	return &c
}

func (a *firstLast[T]) Finalize(ir IR) any {
	if ir == nil {
		return nil
	}
	return a.t.out(ir.(*tsVal[T]).v)
}

func (a *firstLast[T]) AppendIR(dst []byte, ir IR) []byte {
	if ir == nil {
		return appendNil(dst)
	}
	p := ir.(*tsVal[T])
	return a.t.put(appendZv(append(dst, hdrV1), p.ts), p.v)
}

func (a *firstLast[T]) DecodeIR(src []byte) (IR, []byte, error) {
	var r reader
	return r.decode(src, func() IR {
		p := &tsVal[T]{ts: r.zv()}
		p.v = a.t.get(&r)
		return p
	})
}

// tsListIR holds up to k inputs in output order: ts ascending for FIRST_K, ts
// descending for LAST_K, equal ts in arrival order. v1 payload: uv n, then per
// input zv (ts - previous ts, the first relative to 0) and the value.
type tsListIR[T any] struct{ es []tsVal[T] }

// timedK is FIRST_K or LAST_K.
type timedK[T any] struct {
	base
	t    *scalarType[T]
	k    int
	last bool
}

func (a *timedK[T]) Update(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	var l *tsListIR[T]
	pos := 0
	if ir != nil {
		l = ir.(*tsListIR[T])
		n := len(l.es)
		// After every kept input with an equal ts: it arrived first.
		lo, hi := 0, n
		for lo < hi {
			mid := int(uint(lo+hi) >> 1)
			if tsBefore(in.Ts, l.es[mid].ts, a.last) {
				hi = mid
			} else {
				lo = mid + 1
			}
		}
		pos = lo
		if pos >= a.k {
			return l
		}
	}
	x, ok := a.t.conv(in.Value)
	if !ok {
		a.badType(in.Value)
	}
	e := tsVal[T]{ts: in.Ts, v: a.t.own(x)}
	if l == nil {
		return &tsListIR[T]{es: append(make([]tsVal[T], 0, min(a.k, 4)), e)}
	}
	n := len(l.es)
	if n < a.k {
		l.es = append(l.es, tsVal[T]{})
		n++
	}
	copy(l.es[pos+1:n], l.es[pos:n-1])
	l.es[pos] = e
	return l
}

func (a *timedK[T]) Merge(x, y IR) IR {
	if y == nil {
		return x
	}
	b := y.(*tsListIR[T])
	if x == nil {
		return &tsListIR[T]{es: append([]tsVal[T](nil), b.es...)}
	}
	l := x.(*tsListIR[T])
	l.es = mergeBounded(l.es, b.es, a.k, func(x, y tsVal[T]) bool { return tsBefore(x.ts, y.ts, a.last) })
	return l
}

func (a *timedK[T]) Clone(ir IR) IR {
	if ir == nil {
		return nil
	}
	return &tsListIR[T]{es: append([]tsVal[T](nil), ir.(*tsListIR[T]).es...)}
}

func (a *timedK[T]) Finalize(ir IR) any {
	if ir == nil {
		return nil
	}
	es := ir.(*tsListIR[T]).es
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = e.v
	}
	return out
}

func (a *timedK[T]) AppendIR(dst []byte, ir IR) []byte {
	if ir == nil {
		return appendNil(dst)
	}
	es := ir.(*tsListIR[T]).es
	dst = appendUv(append(dst, hdrV1), uint64(len(es)))
	prev := int64(0)
	for _, e := range es {
		dst = appendZv(dst, e.ts-prev)
		prev = e.ts
		dst = a.t.put(dst, e.v)
	}
	return dst
}

func (a *timedK[T]) DecodeIR(src []byte) (IR, []byte, error) {
	var r reader
	return r.decode(src, func() IR {
		n := r.count(1 + a.t.minSize)
		if r.err == nil && (n == 0 || n > a.k) {
			r.fail("%s of %d values (k = %d)", opName(a.op), n, a.k)
		}
		es := make([]tsVal[T], 0, n)
		prev := int64(0)
		for i := 0; i < n && r.err == nil; i++ {
			ts := prev + r.zv()
			if i > 0 && tsBefore(ts, prev, a.last) {
				r.fail("%s values out of order", opName(a.op))
			}
			prev = ts
			es = append(es, tsVal[T]{ts: ts, v: a.t.get(&r)})
		}
		return &tsListIR[T]{es: es}
	})
}
