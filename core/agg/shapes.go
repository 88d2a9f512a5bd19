// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Shapes wrap a scalar Aggregator: vector mode (list input, each element an
// input), keyed (buckets, or map mode: one IR per key) and elementWise (one IR
// per list index).

func arrowMapOf(item arrow.DataType) arrow.DataType { return arrow.MapOf(stringType, item) }

func shapeError(op string, in arrow.DataType, v any, reason string) *InputError {
	return &InputError{Op: op, Input: in, Value: v, Reason: reason}
}

// vector feeds each non-null element of a list input to inner. Its IR is
// inner's.
type vector struct {
	Aggregator
	in arrow.DataType
}

func newVector(inner Aggregator, in arrow.DataType) *vector {
	return &vector{Aggregator: inner, in: in}
}

func (a *vector) list(v any) []any {
	l, ok := v.([]any)
	if !ok {
		panic(shapeError(opOf(a.Aggregator), a.in, v, "want a list ([]any)"))
	}
	return l
}

func (a *vector) Update(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	for _, e := range a.list(in.Value) {
		if e != nil {
			ir = a.Aggregator.Update(ir, Input{Value: e, Ts: in.Ts})
		}
	}
	return ir
}

func (a *vector) Delete(ir IR, in Input) IR {
	if in.Value == nil || !a.Deletable() {
		return ir
	}
	for _, e := range a.list(in.Value) {
		if e != nil {
			ir = a.Aggregator.Delete(ir, Input{Value: e, Ts: in.Ts})
		}
	}
	return ir
}

// opOf names inner's operation for errors.
func opOf(a Aggregator) string {
	switch t := a.(type) {
	case interface{ opString() string }:
		return t.opString()
	}
	return "aggregation"
}

func (b *base) opString() string { return b.op.String() }

// keyedIR holds one non-nil inner IR per key. v1 payload: uv n, then n × (str
// key, inner IR with its header), keys ascending.
type keyedIR struct{ m map[string]IR }

// keyed is a bucketed aggregation (bucket: the key is Input.Bucket and inner
// sees the whole input) or map mode (the input is a map[string]any and inner
// sees each non-null value under its key). The output is map<string, T>, null
// when no key has a counted input.
type keyed struct {
	wrapper
	bucket bool
}

func newKeyed(inner Aggregator, in arrow.DataType, bucket bool) *keyed {
	return &keyed{wrapper: wrapper{inner: inner, in: in, out: arrowMapOf(inner.OutputType())}, bucket: bucket}
}

// wrapper holds what the keyed and elementWise shapes share: the Aggregator
// they apply per key or per index, and their input and output types.
type wrapper struct {
	inner Aggregator
	in    arrow.DataType
	out   arrow.DataType
}

func (w *wrapper) opString() string { return opOf(w.inner) }

// Deletable implements Aggregator.
func (w *wrapper) Deletable() bool { return w.inner.Deletable() }

func (w *wrapper) compensated() bool { return compensated(w.inner) }

// OutputType implements Aggregator.
func (w *wrapper) OutputType() arrow.DataType { return w.out }

// step applies f to key's IR and stores the result, removing the key when it
// is nil.
func (k *keyedIR) step(key string, f func(IR, Input) IR, in Input) {
	old, ok := k.m[key]
	sub := f(old, in)
	switch {
	case sub == nil:
		if ok {
			delete(k.m, key)
		}
	case !ok:
		k.m[strings.Clone(key)] = sub
	case sub != old:
		k.m[key] = sub
	}
}

func (a *keyed) apply(ir IR, in Input, del bool) IR {
	if in.Value == nil {
		return ir
	}
	step := a.inner.Update
	if del {
		if !a.inner.Deletable() {
			return ir
		}
		step = a.inner.Delete
	}
	var k *keyedIR
	if ir != nil {
		k = ir.(*keyedIR)
	} else {
		k = &keyedIR{m: map[string]IR{}}
	}
	if a.bucket {
		if in.Bucket == nil {
			return ir
		}
		key, ok := in.Bucket.(string)
		if !ok {
			panic(shapeError(a.opString(), a.in, in.Bucket, "bucket values must be strings"))
		}
		k.step(key, step, in)
	} else {
		m, ok := in.Value.(map[string]any)
		if !ok {
			panic(shapeError(a.opString(), a.in, in.Value, "want a map (map[string]any)"))
		}
		for key, v := range m {
			if v != nil {
				k.step(key, step, Input{Value: v, Ts: in.Ts})
			}
		}
	}
	if len(k.m) == 0 {
		return nil
	}
	return k
}

func (a *keyed) Update(ir IR, in Input) IR { return a.apply(ir, in, false) }
func (a *keyed) Delete(ir IR, in Input) IR { return a.apply(ir, in, true) }

func (a *keyed) Merge(x, y IR) IR {
	if y == nil {
		return x
	}
	b := y.(*keyedIR)
	if x == nil {
		return a.Clone(b)
	}
	k := x.(*keyedIR)
	if k == b {
		b = a.Clone(b).(*keyedIR)
	}
	for key, sub := range b.m {
		old, ok := k.m[key]
		switch m := a.inner.Merge(old, sub); {
		case m == nil:
			delete(k.m, key)
		case !ok || m != old:
			k.m[key] = m
		}
	}
	if len(k.m) == 0 {
		return nil
	}
	return k
}

func (a *keyed) Clone(ir IR) IR {
	if ir == nil {
		return nil
	}
	k := ir.(*keyedIR)
	m := make(map[string]IR, len(k.m))
	for key, sub := range k.m {
		m[key] = a.inner.Clone(sub)
	}
	return &keyedIR{m: m}
}

func (a *keyed) Finalize(ir IR) any {
	if ir == nil {
		return nil
	}
	k := ir.(*keyedIR)
	out := make(map[string]any, len(k.m))
	for key, sub := range k.m {
		out[key] = a.inner.Finalize(sub)
	}
	return out
}

func (a *keyed) AppendIR(dst []byte, ir IR) []byte {
	if ir == nil {
		return appendNil(dst)
	}
	k := ir.(*keyedIR)
	keys := sortedKeys(k.m)
	dst = appendUv(append(dst, hdrV1), uint64(len(keys)))
	for _, key := range keys {
		dst = appendStr(dst, key)
		dst = a.inner.AppendIR(dst, k.m[key])
	}
	return dst
}

func (a *keyed) DecodeIR(src []byte) (IR, []byte, error) {
	var r reader
	return r.decode(src, func() IR {
		n := r.count(2)
		if r.err == nil && n == 0 {
			r.fail("empty map IR")
		}
		k := &keyedIR{m: make(map[string]IR, n)}
		for i := 0; i < n && r.err == nil; i++ {
			key := r.str()
			if r.err != nil {
				break
			}
			sub, rest, err := a.inner.DecodeIR(r.b)
			if err != nil {
				r.err = err
				break
			}
			if sub == nil {
				r.fail("null IR under key %q", key)
			}
			r.b = rest
			k.m[key] = sub
		}
		if r.err == nil && len(k.m) != n {
			r.fail("duplicate keys")
		}
		return k
	})
}

// ewIR holds one inner IR per list index, nil where an index has no input
// left (after deletes); the last one is never nil. v1 payload: uv n, then n
// inner IRs with their headers.
type ewIR struct{ irs []IR }

// elementWise aggregates a list input per index; the output is a list as
// long as the longest input. A null element is an error.
type elementWise struct{ wrapper }

func newElementWise(inner Aggregator, in arrow.DataType) *elementWise {
	return &elementWise{wrapper{inner: inner, in: in, out: arrow.ListOf(inner.OutputType())}}
}

func (a *elementWise) list(v any) []any {
	l, ok := v.([]any)
	if !ok {
		panic(shapeError(a.opString(), a.in, v, "want a list ([]any)"))
	}
	for _, e := range l {
		if e == nil {
			panic(shapeError(a.opString(), a.in, v, "null element in an elementWise list"))
		}
	}
	return l
}

// grow appends nil IRs up to n indexes.
func (e *ewIR) grow(n int) {
	for len(e.irs) < n {
		e.irs = append(e.irs, nil)
	}
}

// trim drops trailing nil IRs and returns nil when none is left.
func (e *ewIR) trim() IR {
	n := len(e.irs)
	for n > 0 && e.irs[n-1] == nil {
		n--
	}
	clear(e.irs[n:])
	e.irs = e.irs[:n]
	if n == 0 {
		return nil
	}
	return e
}

func (a *elementWise) apply(ir IR, in Input, del bool) IR {
	if in.Value == nil {
		return ir
	}
	if del && !a.inner.Deletable() {
		return ir
	}
	l := a.list(in.Value)
	if len(l) == 0 {
		return ir
	}
	var e *ewIR
	if ir != nil {
		e = ir.(*ewIR)
	} else {
		e = &ewIR{irs: make([]IR, 0, len(l))}
	}
	e.grow(len(l))
	for i, v := range l {
		sub := Input{Value: v, Ts: in.Ts}
		if del {
			e.irs[i] = a.inner.Delete(e.irs[i], sub)
		} else {
			e.irs[i] = a.inner.Update(e.irs[i], sub)
		}
	}
	return e.trim()
}

func (a *elementWise) Update(ir IR, in Input) IR { return a.apply(ir, in, false) }
func (a *elementWise) Delete(ir IR, in Input) IR { return a.apply(ir, in, true) }

func (a *elementWise) Merge(x, y IR) IR {
	if y == nil {
		return x
	}
	b := y.(*ewIR)
	if x == nil {
		return a.Clone(b)
	}
	e := x.(*ewIR)
	if e == b {
		b = a.Clone(b).(*ewIR)
	}
	e.grow(len(b.irs))
	for i, sub := range b.irs {
		e.irs[i] = a.inner.Merge(e.irs[i], sub)
	}
	return e.trim()
}

func (a *elementWise) Clone(ir IR) IR {
	if ir == nil {
		return nil
	}
	e := ir.(*ewIR)
	irs := make([]IR, len(e.irs))
	for i, sub := range e.irs {
		irs[i] = a.inner.Clone(sub)
	}
	return &ewIR{irs: irs}
}

func (a *elementWise) Finalize(ir IR) any {
	if ir == nil {
		return nil
	}
	e := ir.(*ewIR)
	out := make([]any, len(e.irs))
	for i, sub := range e.irs {
		out[i] = a.inner.Finalize(sub)
	}
	return out
}

func (a *elementWise) AppendIR(dst []byte, ir IR) []byte {
	if ir == nil {
		return appendNil(dst)
	}
	e := ir.(*ewIR)
	dst = appendUv(append(dst, hdrV1), uint64(len(e.irs)))
	for _, sub := range e.irs {
		dst = a.inner.AppendIR(dst, sub)
	}
	return dst
}

func (a *elementWise) DecodeIR(src []byte) (IR, []byte, error) {
	var r reader
	return r.decode(src, func() IR {
		n := r.count(1)
		if r.err == nil && n == 0 {
			r.fail("empty elementWise IR")
		}
		e := &ewIR{irs: make([]IR, 0, n)}
		for i := 0; i < n && r.err == nil; i++ {
			sub, rest, err := a.inner.DecodeIR(r.b)
			if err != nil {
				r.err = err
				break
			}
			r.b = rest
			e.irs = append(e.irs, sub)
		}
		if r.err == nil && e.irs[n-1] == nil {
			r.fail("elementWise IR ends with a null element")
		}
		return e
	})
}
