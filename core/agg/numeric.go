// SPDX-License-Identifier: Apache-2.0

package agg

import (
	"math"

	"github.com/chronon-go/chronon/core/api"
)

// SUM, COUNT, AVERAGE, VARIANCE, SKEW and KURTOSIS.
//
// The deletable IRs (SUM, COUNT, AVERAGE) keep a signed input count n and are
// nil exactly when n is 0, so deleting every input brings them back to nil
// (an emptied window finalizes to null). A Delete with no matching Update
// makes n negative, as Chronon's inverse-prepare does.

func newSum(b base, k kind) (Aggregator, error) {
	b.out = int64Type
	switch k {
	case kBool:
		return &sumBool{sumIntCore{b}}, nil
	case kInt8:
		return &sumInt[int8]{sumIntCore{b}}, nil
	case kInt16:
		return &sumInt[int16]{sumIntCore{b}}, nil
	case kInt32:
		return &sumInt[int32]{sumIntCore{b}}, nil
	case kInt64:
		return &sumInt[int64]{sumIntCore{b}}, nil
	case kFloat32, kFloat64:
		b.out = f64Type
		return numTypeOf(k).fsum(fsumCore{base: b}), nil
	}
	return nil, unsupported(b.op, b.in, "bool, int8..int64, float32/64")
}

// sumIntIR is an integer SUM. v1 payload: zv sum, zv n.
type sumIntIR struct {
	sum int64
	n   int64
}

// sumIntCore holds the methods integer and bool SUM share.
type sumIntCore struct{ base }

func addInt(ir IR, x, dn int64) IR {
	if ir == nil {
		return &sumIntIR{sum: x, n: dn}
	}
	s := ir.(*sumIntIR)
	s.sum += x
	s.n += dn
	if s.n == 0 {
		return nil
	}
	return s
}

func (a *sumIntCore) Deletable() bool { return true }

func (a *sumIntCore) Merge(x, y IR) IR {
	if y == nil {
		return x
	}
	b := y.(*sumIntIR)
	return addInt(x, b.sum, b.n)
}

func (a *sumIntCore) Clone(ir IR) IR {
	if ir == nil {
		return nil
	}
	c := *ir.(*sumIntIR)
	return &c
}

func (a *sumIntCore) Finalize(ir IR) any {
	if ir == nil {
		return nil
	}
	return ir.(*sumIntIR).sum
}

func (a *sumIntCore) AppendIR(dst []byte, ir IR) []byte {
	if ir == nil {
		return appendNil(dst)
	}
	s := ir.(*sumIntIR)
	dst = append(dst, hdrV1)
	dst = appendZv(dst, s.sum)
	return appendZv(dst, s.n)
}

func (a *sumIntCore) DecodeIR(src []byte) (IR, []byte, error) {
	var r reader
	return r.decode(src, func() IR {
		s := &sumIntIR{sum: r.zv(), n: r.zv()}
		if r.err == nil && s.n == 0 {
			r.fail("SUM with no inputs")
		}
		return s
	})
}

// sumInt is SUM over an integer column.
type sumInt[T integer] struct{ sumIntCore }

func (a *sumInt[T]) Update(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	x, ok := numArg[T](in.Value)
	if !ok {
		a.badType(in.Value)
	}
	return addInt(ir, int64(x), 1)
}

func (a *sumInt[T]) Delete(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	x, ok := numArg[T](in.Value)
	if !ok {
		a.badType(in.Value)
	}
	return addInt(ir, -int64(x), -1)
}

// sumBool is SUM over a bool column (true counts 1).
type sumBool struct{ sumIntCore }

func boolInt(b *base, v any) int64 {
	x, ok := v.(bool)
	if !ok {
		b.badType(v)
	}
	if x {
		return 1
	}
	return 0
}

func (a *sumBool) Update(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	return addInt(ir, boolInt(&a.base, in.Value), 1)
}

func (a *sumBool) Delete(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	return addInt(ir, -boolInt(&a.base, in.Value), -1)
}

// fsumIR is a float SUM or an AVERAGE: a Kahan-Neumaier compensated sum s + c
// of the finite inputs, n inputs and bad non-finite ones (any NaN or ±Inf
// makes the result NaN or infinite, so null; counting them rather than adding
// them lets deletes undo them). v1 payload: f64 s, f64 c, zv n, zv bad.
type fsumIR struct {
	s, c   float64
	n, bad int64
}

// add adds x to the compensated sum (Neumaier's variant of Kahan summation:
// the error is about 2 ulp of the result plus n·ε² of the sum of magnitudes,
// so update/delete chains do not drift).
func (f *fsumIR) add(x float64) {
	t := f.s + x
	if math.Abs(f.s) >= math.Abs(x) {
		f.c += (f.s - t) + x
	} else {
		f.c += (x - t) + f.s
	}
	f.s = t
}

func addF(ir IR, x float64, dn int64) IR {
	f, _ := ir.(*fsumIR)
	if f == nil {
		f = &fsumIR{}
	}
	if finite(x) {
		f.add(x)
	} else if dn > 0 {
		f.bad++
	} else {
		f.bad--
	}
	f.n += dn
	if f.n == 0 {
		return nil
	}
	return f
}

// fsumCore holds the methods float SUM and AVERAGE share.
type fsumCore struct {
	base
	avg bool
}

func (a *fsumCore) Deletable() bool { return true }

func (a *fsumCore) compensated() bool { return true }

func (a *fsumCore) Merge(x, y IR) IR {
	if y == nil {
		return x
	}
	b := y.(*fsumIR)
	if x == nil {
		c := *b
		return &c
	}
	f := x.(*fsumIR)
	bs, bc := b.s, b.c
	f.add(bs)
	f.c += bc
	f.n += b.n
	f.bad += b.bad
	if f.n == 0 {
		return nil
	}
	return f
}

func (a *fsumCore) Clone(ir IR) IR {
	if ir == nil {
		return nil
	}
	c := *ir.(*fsumIR)
	return &c
}

func (a *fsumCore) Finalize(ir IR) any {
	if ir == nil {
		return nil
	}
	f := ir.(*fsumIR)
	if f.bad != 0 {
		return nil
	}
	v := f.s + f.c
	if a.avg {
		v /= float64(f.n)
	}
	return outF64(v)
}

func (a *fsumCore) AppendIR(dst []byte, ir IR) []byte {
	if ir == nil {
		return appendNil(dst)
	}
	f := ir.(*fsumIR)
	dst = append(dst, hdrV1)
	dst = appendF64(dst, f.s)
	dst = appendF64(dst, f.c)
	dst = appendZv(dst, f.n)
	return appendZv(dst, f.bad)
}

func (a *fsumCore) DecodeIR(src []byte) (IR, []byte, error) {
	var r reader
	return r.decode(src, func() IR {
		f := &fsumIR{s: r.f64(), c: r.f64(), n: r.zv(), bad: r.zv()}
		if r.err == nil && f.n == 0 {
			r.fail("%s with no inputs", opName(a.op))
		}
		return f
	})
}

// fsum is float SUM (over float columns) or AVERAGE (over any numeric column).
type fsum[T number] struct{ fsumCore }

func (a *fsum[T]) Update(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	x, ok := numArg[T](in.Value)
	if !ok {
		a.badType(in.Value)
	}
	return addF(ir, float64(x), 1)
}

func (a *fsum[T]) Delete(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	x, ok := numArg[T](in.Value)
	if !ok {
		a.badType(in.Value)
	}
	return addF(ir, -float64(x), -1)
}

// count is COUNT over any column.
type count struct{ base }

// countIR is a COUNT. v1 payload: zv n.
type countIR struct{ n int64 }

func addCount(ir IR, dn int64) IR {
	if ir == nil {
		return &countIR{n: dn}
	}
	c := ir.(*countIR)
	c.n += dn
	if c.n == 0 {
		return nil
	}
	return c
}

func (a *count) Deletable() bool { return true }

func (a *count) Update(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	return addCount(ir, 1)
}

func (a *count) Delete(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	return addCount(ir, -1)
}

func (a *count) Merge(x, y IR) IR {
	if y == nil {
		return x
	}
	return addCount(x, y.(*countIR).n)
}

func (a *count) Clone(ir IR) IR {
	if ir == nil {
		return nil
	}
	return &countIR{n: ir.(*countIR).n}
}

func (a *count) Finalize(ir IR) any {
	if ir == nil {
		return nil
	}
	return ir.(*countIR).n
}

func (a *count) AppendIR(dst []byte, ir IR) []byte {
	if ir == nil {
		return appendNil(dst)
	}
	return appendZv(append(dst, hdrV1), ir.(*countIR).n)
}

func (a *count) DecodeIR(src []byte) (IR, []byte, error) {
	var r reader
	return r.decode(src, func() IR {
		c := &countIR{n: r.zv()}
		if r.err == nil && c.n == 0 {
			r.fail("COUNT of 0")
		}
		return c
	})
}

// newMoments builds AVERAGE, VARIANCE, SKEW or KURTOSIS over a numeric column.
func newMoments(b base, k kind) (Aggregator, error) {
	if !k.isNumeric() {
		return nil, unsupported(b.op, b.in, "int8..int64, float32/64")
	}
	b.out = f64Type
	if b.op == api.OpAverage {
		return numTypeOf(k).fsum(fsumCore{base: b, avg: true}), nil
	}
	c := momCore{base: b, order: 2}
	switch b.op {
	case api.OpSkew:
		c.order = 3
	case api.OpKurtosis:
		c.order = 4
	}
	return numTypeOf(k).moments(c), nil
}

// numBuilder builds the aggregators over a numeric column: a numType.
type numBuilder interface {
	fsum(c fsumCore) Aggregator
	moments(c momCore) Aggregator
	percentile(c percentileCore) Aggregator
}

// numType builds the aggregators over a numeric column of Go type T.
type numType[T number] struct{}

func (numType[T]) fsum(c fsumCore) Aggregator             { return &fsum[T]{c} }
func (numType[T]) moments(c momCore) Aggregator           { return &moments[T]{c} }
func (numType[T]) percentile(c percentileCore) Aggregator { return &percentile[T]{c} }

// numTypeOf returns the numType of a numeric kind (k.isNumeric()).
func numTypeOf(k kind) numBuilder {
	switch k {
	case kInt8:
		return numType[int8]{}
	case kInt16:
		return numType[int16]{}
	case kInt32:
		return numType[int32]{}
	case kInt64:
		return numType[int64]{}
	case kFloat32:
		return numType[float32]{}
	}
	return numType[float64]{}
}

// momIR holds the count, mean and central moment sums M2 (and M3, M4 for
// SKEW and KURTOSIS) of the inputs, updated with Welford's / Terriberry's
// recurrences and merged with Chan's / Pébay's formulas. v1 payload: uv n,
// f64 mean, f64 m2, then f64 m3 for SKEW and KURTOSIS, then f64 m4 for
// KURTOSIS.
type momIR struct {
	n          int64
	mean       float64
	m2, m3, m4 float64
}

func (m *momIR) add(x float64, order int) {
	n1 := float64(m.n)
	m.n++
	n := float64(m.n)
	delta := x - m.mean
	dn := delta / n
	term1 := delta * dn * n1
	m.mean += dn
	if order >= 3 {
		dn2 := dn * dn
		if order == 4 {
			m.m4 += term1*dn2*(n*n-3*n+3) + 6*dn2*m.m2 - 4*dn*m.m3
		}
		m.m3 += term1*dn*(n-2) - 3*dn*m.m2
	}
	m.m2 += term1
}

func (m *momIR) merge(b *momIR, order int) {
	na, nb := float64(m.n), float64(b.n)
	n := na + nb
	d := b.mean - m.mean
	d2 := d * d
	mean := m.mean + d*nb/n
	m2 := m.m2 + b.m2 + d2*na*nb/n
	if order >= 3 {
		m3 := m.m3 + b.m3 + d*d2*na*nb*(na-nb)/(n*n) + 3*d*(na*b.m2-nb*m.m2)/n
		if order == 4 {
			m.m4 = m.m4 + b.m4 + d2*d2*na*nb*(na*na-na*nb+nb*nb)/(n*n*n) +
				6*d2*(na*na*b.m2+nb*nb*m.m2)/(n*n) + 4*d*(na*b.m3-nb*m.m3)/n
		}
		m.m3 = m3
	}
	m.n += b.n
	m.mean = mean
	m.m2 = m2
}

// momCore holds the methods VARIANCE, SKEW and KURTOSIS share; order is the
// highest moment kept (2, 3 or 4).
type momCore struct {
	base
	order int
}

func (a *momCore) Merge(x, y IR) IR {
	if y == nil {
		return x
	}
	b := y.(*momIR)
	if x == nil {
		c := *b
		return &c
	}
	m := x.(*momIR)
	if m == b {
		c := *b
		b = &c
	}
	m.merge(b, a.order)
	return m
}

func (a *momCore) Clone(ir IR) IR {
	if ir == nil {
		return nil
	}
	c := *ir.(*momIR)
	return &c
}

func (a *momCore) Finalize(ir IR) any {
	if ir == nil {
		return nil
	}
	m := ir.(*momIR)
	n := float64(m.n)
	switch a.order {
	case 3:
		if m.n < 3 || m.m2 == 0 {
			return nil
		}
		return outF64(math.Sqrt(n) * m.m3 / math.Pow(m.m2, 1.5))
	case 4:
		if m.n < 4 || m.m2 == 0 {
			return nil
		}
		return outF64(n*m.m4/(m.m2*m.m2) - 3)
	}
	return outF64(m.m2 / n)
}

func (a *momCore) AppendIR(dst []byte, ir IR) []byte {
	if ir == nil {
		return appendNil(dst)
	}
	m := ir.(*momIR)
	dst = append(dst, hdrV1)
	dst = appendUv(dst, uint64(m.n))
	dst = appendF64(dst, m.mean)
	dst = appendF64(dst, m.m2)
	if a.order >= 3 {
		dst = appendF64(dst, m.m3)
	}
	if a.order == 4 {
		dst = appendF64(dst, m.m4)
	}
	return dst
}

func (a *momCore) DecodeIR(src []byte) (IR, []byte, error) {
	var r reader
	return r.decode(src, func() IR {
		n := r.uv()
		m := &momIR{n: int64(n), mean: r.f64(), m2: r.f64()}
		if a.order >= 3 {
			m.m3 = r.f64()
		}
		if a.order == 4 {
			m.m4 = r.f64()
		}
		if r.err == nil && (n == 0 || n > math.MaxInt64) {
			r.fail("%s count %d", opName(a.op), n)
		}
		return m
	})
}

// moments is VARIANCE, SKEW or KURTOSIS over a numeric column.
type moments[T number] struct{ momCore }

func (a *moments[T]) Update(ir IR, in Input) IR {
	if in.Value == nil {
		return ir
	}
	x, ok := numArg[T](in.Value)
	if !ok {
		a.badType(in.Value)
	}
	m, _ := ir.(*momIR)
	if m == nil {
		m = &momIR{}
	}
	m.add(float64(x), a.order)
	return m
}
