// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"math"
)

// Typed loops over whole columns. Every kernel has a scalar twin used by row
// evaluation and constant folding; both must give bit-identical results.

type integer interface {
	~int8 | ~int16 | ~int32 | ~int64
}

type float interface {
	~float32 | ~float64
}

type number interface {
	integer | float
}

type ordered interface {
	number | ~string
}

type arithOp uint8

const (
	opAdd arithOp = iota
	opSub
	opMul
	opDiv // float division (operands are double)
	opMod
	opIDiv // integral division (operands are long)
	opAnd
	opOr
	opXor
)

// arithScalar computes a op b; ok is false when the result is null (a zero
// divisor). Integer overflow wraps; float % follows Java (fmod).
func arithScalar[T number](op arithOp, a, b T) (T, bool) {
	switch op {
	case opAdd:
		return a + b, true
	case opSub:
		return a - b, true
	case opMul:
		return a * b, true
	case opDiv, opIDiv:
		if b == 0 {
			return 0, false
		}
		return a / b, true
	case opMod:
		if b == 0 {
			return 0, false
		}
		return mod(a, b), true
	}
	return bitOp(op, a, b), true
}

func mod[T number](a, b T) T {
	switch x := any(a).(type) {
	case float64:
		return T(math.Mod(x, float64(b)))
	case float32:
		return T(float32(math.Mod(float64(x), float64(b))))
	}
	return intMod(a, b)
}

func intMod[T number](a, b T) T {
	switch x := any(a).(type) {
	case int8:
		return T(x % int8(b))
	case int16:
		return T(x % int16(b))
	case int32:
		return T(x % int32(b))
	case int64:
		return T(x % int64(b))
	}
	return 0
}

func bitOp[T number](op arithOp, a, b T) T {
	x, y := int64(a), int64(b)
	var r int64
	switch op {
	case opAnd:
		r = x & y
	case opOr:
		r = x | y
	default:
		r = x ^ y
	}
	return T(r)
}

// arithVec evaluates l op r over vectors of the same numeric kind.
func arithVec[T number](op arithOp, k kind, l, r *vec, n int) *vec {
	if l.isNullConst() || r.isNullConst() {
		return nullVec(k, n)
	}
	if l.konst && r.konst {
		v, ok := arithScalar(op, l.data.([]T)[0], r.data.([]T)[0])
		if !ok {
			return nullVec(k, n)
		}
		return constVec(k, v, n)
	}
	valid := mergeValid(n, l, r)
	var out []T
	switch {
	case l.owned && !l.konst:
		out = l.data.([]T)
	case r.owned && !r.konst:
		out = r.data.([]T)
	default:
		out = make([]T, n)
	}
	res := &vec{k: k, n: n, owned: true, valid: valid, data: out}
	switch {
	case !l.konst && !r.konst:
		a, b := l.data.([]T)[:n], r.data.([]T)[:n]
		switch op {
		case opAdd:
			for i := range out {
				out[i] = a[i] + b[i]
			}
		case opSub:
			for i := range out {
				out[i] = a[i] - b[i]
			}
		case opMul:
			for i := range out {
				out[i] = a[i] * b[i]
			}
		default:
			divLoop(op, res, a, b, out)
		}
	case r.konst:
		a, c := l.data.([]T)[:n], r.data.([]T)[0]
		switch op {
		case opAdd:
			for i := range out {
				out[i] = a[i] + c
			}
		case opSub:
			for i := range out {
				out[i] = a[i] - c
			}
		case opMul:
			for i := range out {
				out[i] = a[i] * c
			}
		default:
			if (op == opDiv || op == opIDiv || op == opMod) && c == 0 {
				return nullVec(k, n)
			}
			for i := range out {
				out[i], _ = arithScalar(op, a[i], c)
			}
		}
	default: // l.konst
		c, b := l.data.([]T)[0], r.data.([]T)[:n]
		switch op {
		case opAdd:
			for i := range out {
				out[i] = c + b[i]
			}
		case opSub:
			for i := range out {
				out[i] = c - b[i]
			}
		case opMul:
			for i := range out {
				out[i] = c * b[i]
			}
		default:
			divLoop(op, res, nil, b, out, c)
		}
	}
	return res
}

// divLoop computes out = a op b for the ops that can yield null (division,
// modulo) and the bitwise ops. With a nil a, the left operand is lc[0].
func divLoop[T number](op arithOp, res *vec, a, b, out []T, lc ...T) {
	left := func(i int) T {
		if a == nil {
			return lc[0]
		}
		return a[i]
	}
	if op == opDiv && a != nil {
		if _, isF := any(out).([]float64); isF {
			for i, d := range b {
				if d == 0 {
					res.clearValid(i)
				}
			}
			for i := range out {
				out[i] = a[i] / b[i]
			}
			return
		}
	}
	for i := range out {
		v, ok := arithScalar(op, left(i), b[i])
		out[i] = v
		if !ok {
			res.clearValid(i)
		}
	}
}

// clearValid marks row i null, allocating the bitmap on first use.
func (v *vec) clearValid(i int) {
	if v.valid == nil {
		v.valid = allValid(v.n)
	}
	bitClear(v.valid, i)
}

// negVec negates a numeric vector (wrapping for integers).
func negVec[T number](k kind, x *vec, n int) *vec {
	if x.konst {
		if x.isNullConst() {
			return x
		}
		return constVec(k, -x.data.([]T)[0], n)
	}
	a := x.data.([]T)[:n]
	var out []T
	var valid []byte
	if x.owned {
		out, valid = a, x.valid
	} else {
		out = make([]T, n)
		if x.valid != nil {
			valid = append([]byte(nil), x.valid...)
		}
	}
	for i := range out {
		out[i] = -a[i]
	}
	return &vec{k: k, n: n, owned: true, valid: valid, data: out}
}

// ---- comparison ----

type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpNe
	cmpLt
	cmpLe
	cmpGt
	cmpGe
	cmpNullEq // <=>
)

// cmpResult turns a three-way comparison into the operator's answer.
func cmpResult(op cmpOp, c int) bool {
	switch op {
	case cmpEq, cmpNullEq:
		return c == 0
	case cmpNe:
		return c != 0
	case cmpLt:
		return c < 0
	case cmpLe:
		return c <= 0
	case cmpGt:
		return c > 0
	}
	return c >= 0
}

// cmp3 compares with Spark's float rules: NaN equals NaN and is larger than
// any other value; -0.0 equals 0.0.
func cmp3[T ordered](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	}
	// at least one NaN
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	}
	return -1
}

// flipCmp returns the operator op' with (a op b) == (b op' a).
func flipCmp(op cmpOp) cmpOp {
	switch op {
	case cmpLt:
		return cmpGt
	case cmpLe:
		return cmpGe
	case cmpGt:
		return cmpLt
	case cmpGe:
		return cmpLe
	}
	return op
}

// cmpVec evaluates l op r into a bool vector. nanAware selects Spark's float
// rules (NaN = NaN, NaN largest); without it the plain Go operators are used.
func cmpVec[T ordered](op cmpOp, l, r *vec, n int, nanAware bool) *vec {
	if op != cmpNullEq && (l.isNullConst() || r.isNullConst()) {
		return nullVec(kBool, n)
	}
	if op == cmpNullEq {
		out := make([]bool, n)
		for i := range out {
			ln, rn := l.null(i), r.null(i)
			switch {
			case ln || rn:
				out[i] = ln && rn
			default:
				out[i] = cmp3(elem[T](l, i), elem[T](r, i)) == 0
			}
		}
		return &vec{k: kBool, n: n, owned: true, data: out}
	}
	if l.konst && r.konst {
		return constVec(kBool, cmpResult(op, cmp3(l.data.([]T)[0], r.data.([]T)[0])), n)
	}
	out := make([]bool, n)
	res := &vec{k: kBool, n: n, owned: true, data: out, valid: mergeValid(n, l, r)}
	if l.konst {
		l, r, op = r, l, flipCmp(op)
	}
	a := l.data.([]T)[:n]
	if nanAware {
		if r.konst {
			c := r.data.([]T)[0]
			for i := range out {
				out[i] = cmpResult(op, cmp3(a[i], c))
			}
			return res
		}
		b := r.data.([]T)[:n]
		for i := range out {
			out[i] = cmpResult(op, cmp3(a[i], b[i]))
		}
		return res
	}
	if r.konst {
		c := r.data.([]T)[0]
		switch op {
		case cmpEq:
			for i := range out {
				out[i] = a[i] == c
			}
		case cmpNe:
			for i := range out {
				out[i] = a[i] != c
			}
		case cmpLt:
			for i := range out {
				out[i] = a[i] < c
			}
		case cmpLe:
			for i := range out {
				out[i] = a[i] <= c
			}
		case cmpGt:
			for i := range out {
				out[i] = a[i] > c
			}
		case cmpGe:
			for i := range out {
				out[i] = a[i] >= c
			}
		}
		return res
	}
	b := r.data.([]T)[:n]
	switch op {
	case cmpEq:
		for i := range out {
			out[i] = a[i] == b[i]
		}
	case cmpNe:
		for i := range out {
			out[i] = a[i] != b[i]
		}
	case cmpLt:
		for i := range out {
			out[i] = a[i] < b[i]
		}
	case cmpLe:
		for i := range out {
			out[i] = a[i] <= b[i]
		}
	case cmpGt:
		for i := range out {
			out[i] = a[i] > b[i]
		}
	case cmpGe:
		for i := range out {
			out[i] = a[i] >= b[i]
		}
	}
	return res
}

func elem[T any](v *vec, i int) T {
	d := v.data.([]T)
	if v.konst {
		return d[0]
	}
	return d[i]
}

// ---- casts ----

// castVecNum converts a numeric vector to another numeric kind with Java
// semantics (integer narrowing wraps, float to integer saturates, NaN → 0).
func castVecNum[F number, T number](x *vec, k kind, n int, toLong bool) *vec {
	src := x.data.([]F)
	out := make([]T, len(src))
	var valid []byte
	if x.valid != nil {
		if x.owned {
			valid = x.valid
		} else {
			valid = append([]byte(nil), x.valid...)
		}
	}
	switch any(src).(type) {
	case []float32, []float64:
		switch any(out).(type) {
		case []float32, []float64:
			for i, v := range src {
				out[i] = T(v)
			}
		default:
			for i, v := range src {
				f := float64(v)
				if toLong {
					out[i] = T(f2i64(f))
				} else {
					out[i] = T(f2i32(f))
				}
			}
		}
	default:
		for i, v := range src {
			out[i] = T(v)
		}
	}
	return &vec{k: k, n: n, konst: x.konst, owned: !x.konst, valid: valid, data: out}
}
