// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"bytes"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// rowCtx holds one row's column values (by slot) and the lambda variables.
type rowCtx struct {
	cols []any
	vars []any
}

// batchCtx holds a batch's input columns (by slot).
type batchCtx struct {
	n    int
	cols []*vec
	rc   *rowCtx // scratch row for row-wise evaluation inside a batch
}

// cnode is a compiled, type-checked expression node. row evaluates it over
// one row of internal values; vec over a whole batch. Evaluation never fails:
// every runtime problem Spark reports as null is null here too.
type cnode interface {
	dtype() arrow.DataType
	row(c *rowCtx) any
	vec(b *batchCtx) *vec
}

// ---- leaves ----

type litNode struct {
	t arrow.DataType
	v any
}

func (n *litNode) dtype() arrow.DataType { return n.t }
func (n *litNode) row(*rowCtx) any       { return n.v }
func (n *litNode) vec(b *batchCtx) *vec  { return constVec(kindOf(n.t), n.v, b.n) }
func isLit(n cnode) bool                 { _, ok := n.(*litNode); return ok }
func litValue(n cnode) (any, bool) {
	l, ok := n.(*litNode)
	if !ok {
		return nil, false
	}
	return l.v, true
}
func nullLit(t arrow.DataType) *litNode { return &litNode{t: t} }
func boolLit(b bool) *litNode           { return &litNode{t: tBool, v: b} }

type colNode struct {
	t    arrow.DataType
	slot int
}

func (n *colNode) dtype() arrow.DataType { return n.t }
func (n *colNode) row(c *rowCtx) any     { return c.cols[n.slot] }
func (n *colNode) vec(b *batchCtx) *vec  { return b.cols[n.slot] }

type varNode struct {
	t    arrow.DataType
	slot int
}

func (n *varNode) dtype() arrow.DataType { return n.t }
func (n *varNode) row(c *rowCtx) any     { return c.vars[n.slot] }
func (n *varNode) vec(*batchCtx) *vec {
	panic("expr: lambda variable evaluated outside its lambda")
}

// ---- row-wise helpers ----

// rowwise evaluates f for every row of the batch, filling the scratch row
// with the listed column slots first.
func rowwise(b *batchCtx, t arrow.DataType, refs []int, f func(*rowCtx) any) *vec {
	out := newOutVec(kindOf(t), b.n)
	rc := b.rc
	for i := 0; i < b.n; i++ {
		for _, s := range refs {
			rc.cols[s] = b.cols[s].box(i)
		}
		out.set(i, f(rc))
	}
	return out.done()
}

// ---- generic function application ----

// fnNode applies fn to its evaluated arguments. With strict set, a null
// argument makes the result null without calling fn.
type fnNode struct {
	t      arrow.DataType
	args   []cnode
	fn     func(args []any) any
	strict bool
}

func (n *fnNode) dtype() arrow.DataType { return n.t }

func (n *fnNode) row(c *rowCtx) any {
	var buf [4]any
	vals := buf[:0]
	for _, a := range n.args {
		v := a.row(c)
		if v == nil && n.strict {
			return nil
		}
		vals = append(vals, v)
	}
	return n.fn(vals)
}

func (n *fnNode) vec(b *batchCtx) *vec {
	vs := make([]*vec, len(n.args))
	allConst := true
	for i, a := range n.args {
		vs[i] = a.vec(b)
		if n.strict && vs[i].isNullConst() {
			return nullVec(kindOf(n.t), b.n)
		}
		allConst = allConst && vs[i].konst
	}
	vals := make([]any, len(vs))
	if allConst {
		for j, v := range vs {
			vals[j] = v.box(0)
		}
		return constVec(kindOf(n.t), n.call(vals), b.n)
	}
	out := newOutVec(kindOf(n.t), b.n)
rows:
	for i := 0; i < b.n; i++ {
		for j, v := range vs {
			x := v.box(i)
			if x == nil && n.strict {
				out.set(i, nil)
				continue rows
			}
			vals[j] = x
		}
		out.set(i, n.fn(vals))
	}
	return out.done()
}

func (n *fnNode) call(vals []any) any {
	if n.strict {
		for _, v := range vals {
			if v == nil {
				return nil
			}
		}
	}
	return n.fn(vals)
}

// rowNode evaluates row by row even inside a batch: the higher-order
// functions, whose lambdas see one element at a time. refs lists the column
// slots the subtree reads.
type rowNode struct {
	t    arrow.DataType
	refs []int
	eval func(c *rowCtx) any
}

func (n *rowNode) dtype() arrow.DataType { return n.t }
func (n *rowNode) row(c *rowCtx) any     { return n.eval(c) }
func (n *rowNode) vec(b *batchCtx) *vec  { return rowwise(b, n.t, n.refs, n.eval) }

// ---- arithmetic ----

type arithNode struct {
	op   arithOp
	t    arrow.DataType
	l, r cnode
}

func (n *arithNode) dtype() arrow.DataType { return n.t }

func (n *arithNode) row(c *rowCtx) any {
	a := n.l.row(c)
	if a == nil {
		return nil
	}
	b := n.r.row(c)
	if b == nil {
		return nil
	}
	return arithAny(n.op, a, b)
}

func arithAny(op arithOp, a, b any) any {
	var v any
	var ok bool
	switch x := a.(type) {
	case int8:
		v, ok = arithScalar(op, x, b.(int8))
	case int16:
		v, ok = arithScalar(op, x, b.(int16))
	case int32:
		v, ok = arithScalar(op, x, b.(int32))
	case int64:
		v, ok = arithScalar(op, x, b.(int64))
	case float32:
		v, ok = arithScalar(op, x, b.(float32))
	case float64:
		v, ok = arithScalar(op, x, b.(float64))
	}
	if !ok {
		return nil
	}
	return v
}

func (n *arithNode) vec(b *batchCtx) *vec {
	l, r := n.l.vec(b), n.r.vec(b)
	k := kindOf(n.t)
	switch k {
	case kI8:
		return arithVec[int8](n.op, k, l, r, b.n)
	case kI16:
		return arithVec[int16](n.op, k, l, r, b.n)
	case kI32:
		return arithVec[int32](n.op, k, l, r, b.n)
	case kI64:
		return arithVec[int64](n.op, k, l, r, b.n)
	case kF32:
		return arithVec[float32](n.op, k, l, r, b.n)
	case kF64:
		return arithVec[float64](n.op, k, l, r, b.n)
	}
	return nullVec(k, b.n)
}

type negNode struct {
	t arrow.DataType
	x cnode
}

func (n *negNode) dtype() arrow.DataType { return n.t }

func (n *negNode) row(c *rowCtx) any {
	switch v := n.x.row(c).(type) {
	case int8:
		return -v
	case int16:
		return -v
	case int32:
		return -v
	case int64:
		return -v
	case float32:
		return -v
	case float64:
		return -v
	}
	return nil
}

func (n *negNode) vec(b *batchCtx) *vec {
	x := n.x.vec(b)
	k := kindOf(n.t)
	switch k {
	case kI8:
		return negVec[int8](k, x, b.n)
	case kI16:
		return negVec[int16](k, x, b.n)
	case kI32:
		return negVec[int32](k, x, b.n)
	case kI64:
		return negVec[int64](k, x, b.n)
	case kF32:
		return negVec[float32](k, x, b.n)
	case kF64:
		return negVec[float64](k, x, b.n)
	}
	return nullVec(k, b.n)
}

// ---- comparison ----

type cmpNode struct {
	op   cmpOp
	t    arrow.DataType // operand type
	l, r cnode
	cmpf func(a, b any) int
}

func (n *cmpNode) dtype() arrow.DataType { return tBool }

func (n *cmpNode) row(c *rowCtx) any {
	a, b := n.l.row(c), n.r.row(c)
	if a == nil || b == nil {
		if n.op == cmpNullEq {
			return a == nil && b == nil
		}
		return nil
	}
	return cmpResult(n.op, n.cmpf(a, b))
}

func (n *cmpNode) vec(b *batchCtx) *vec {
	l, r := n.l.vec(b), n.r.vec(b)
	switch kindOf(n.t) {
	case kI8:
		return cmpVec[int8](n.op, l, r, b.n, false)
	case kI16:
		return cmpVec[int16](n.op, l, r, b.n, false)
	case kI32, kDate:
		return cmpVec[int32](n.op, l, r, b.n, false)
	case kI64, kTS:
		return cmpVec[int64](n.op, l, r, b.n, false)
	case kF32:
		return cmpVec[float32](n.op, l, r, b.n, true)
	case kF64:
		return cmpVec[float64](n.op, l, r, b.n, true)
	case kStr:
		if out := cmpLazyStr(n.op, l, r, b.n); out != nil {
			return out
		}
		return cmpVec[string](n.op, l.mat(), r.mat(), b.n, false)
	}
	out := newOutVec(kBool, b.n)
	for i := 0; i < b.n; i++ {
		x, y := l.box(i), r.box(i)
		switch {
		case x == nil || y == nil:
			if n.op == cmpNullEq {
				out.set(i, x == nil && y == nil)
			} else {
				out.set(i, nil)
			}
		default:
			out.set(i, cmpResult(n.op, n.cmpf(x, y)))
		}
	}
	return out.done()
}

// cmpLazyStr compares an input string column with a constant without
// materialising the column; nil when not applicable.
func cmpLazyStr(op cmpOp, l, r *vec, n int) *vec {
	if l.konst {
		l, r, op = r, l, flipCmp(op)
	}
	a, ok := l.data.(*array.String)
	if !ok || !r.konst || op == cmpNullEq || r.isNullConst() {
		return nil
	}
	c := r.data.([]string)[0]
	out := make([]bool, n)
	for i := range out {
		out[i] = cmpResult(op, cmp3(a.Value(i), c))
	}
	res := &vec{k: kBool, n: n, owned: true, data: out}
	if l.valid != nil {
		res.valid = append([]byte(nil), l.valid[:bitmapLen(n)]...)
	}
	return res
}

// comparator returns the three-way comparison of non-null internal values of
// type t: numbers with Spark's NaN rules, strings and binaries bytewise,
// false < true, lists lexicographically and structs field by field (nulls
// first), maps by equality only (0 or 1).
func comparator(t arrow.DataType) func(a, b any) int {
	switch t.ID() {
	case arrow.BOOL:
		return func(a, b any) int {
			x, y := a.(bool), b.(bool)
			switch {
			case x == y:
				return 0
			case !x:
				return -1
			}
			return 1
		}
	case arrow.INT8:
		return func(a, b any) int { return cmp3(a.(int8), b.(int8)) }
	case arrow.INT16:
		return func(a, b any) int { return cmp3(a.(int16), b.(int16)) }
	case arrow.INT32:
		return func(a, b any) int { return cmp3(a.(int32), b.(int32)) }
	case arrow.INT64:
		return func(a, b any) int { return cmp3(a.(int64), b.(int64)) }
	case arrow.FLOAT32:
		return func(a, b any) int { return cmp3(a.(float32), b.(float32)) }
	case arrow.FLOAT64:
		return func(a, b any) int { return cmp3(a.(float64), b.(float64)) }
	case arrow.STRING:
		return func(a, b any) int { return cmp3(a.(string), b.(string)) }
	case arrow.BINARY:
		return func(a, b any) int { return bytes.Compare(a.([]byte), b.([]byte)) }
	case arrow.DATE32:
		return func(a, b any) int { return cmp3(a.(Date), b.(Date)) }
	case arrow.TIMESTAMP:
		return func(a, b any) int { return a.(time.Time).Compare(b.(time.Time)) }
	case arrow.LIST:
		ec := comparator(listElem(t))
		return func(a, b any) int {
			x, y := a.([]any), b.([]any)
			for i := 0; i < len(x) && i < len(y); i++ {
				if c := nullsFirst(ec, x[i], y[i]); c != 0 {
					return c
				}
			}
			return cmp3(int64(len(x)), int64(len(y)))
		}
	case arrow.STRUCT:
		st := t.(*arrow.StructType)
		fcs := make([]func(a, b any) int, st.NumFields())
		for i := range fcs {
			fcs[i] = comparator(st.Field(i).Type)
		}
		return func(a, b any) int {
			x, y := a.(map[string]any), b.(map[string]any)
			for i, fc := range fcs {
				name := st.Field(i).Name
				if c := nullsFirst(fc, x[name], y[name]); c != 0 {
					return c
				}
			}
			return 0
		}
	case arrow.MAP:
		vc := comparator(mapItem(t))
		return func(a, b any) int {
			x, y := a.(map[string]any), b.(map[string]any)
			if len(x) != len(y) {
				return 1
			}
			for k, xv := range x {
				yv, ok := y[k]
				if !ok || nullsFirst(vc, xv, yv) != 0 {
					return 1
				}
			}
			return 0
		}
	}
	return func(a, b any) int { return 0 }
}

func nullsFirst(c func(a, b any) int, x, y any) int {
	switch {
	case x == nil && y == nil:
		return 0
	case x == nil:
		return -1
	case y == nil:
		return 1
	}
	return c(x, y)
}

// ---- boolean logic ----

type andNode struct{ l, r cnode }

func (n *andNode) dtype() arrow.DataType { return tBool }

func (n *andNode) row(c *rowCtx) any { return logicRow(true, n.l, n.r, c) }

func (n *andNode) vec(b *batchCtx) *vec { return logicVec(true, n.l.vec(b), n.r.vec(b), b.n) }

type orNode struct{ l, r cnode }

func (n *orNode) dtype() arrow.DataType { return tBool }

func (n *orNode) row(c *rowCtx) any { return logicRow(false, n.l, n.r, c) }

func (n *orNode) vec(b *batchCtx) *vec { return logicVec(false, n.l.vec(b), n.r.vec(b), b.n) }

// logicRow is three-valued AND (isAnd) or OR of one row, like logicVec: r
// is not evaluated when l has the dominant value.
func logicRow(isAnd bool, l, r cnode, c *rowCtx) any {
	dom := !isAnd
	a := l.row(c)
	if a == dom {
		return dom
	}
	b := r.row(c)
	if b == dom {
		return dom
	}
	if a == nil || b == nil {
		return nil
	}
	return !dom
}

// logicVec is three-valued AND (isAnd) or OR: the dominant value (false for
// AND, true for OR) wins over null.
func logicVec(isAnd bool, l, r *vec, n int) *vec {
	dom := !isAnd
	if l.konst && r.konst {
		x, y := l.box(0), r.box(0)
		switch {
		case x == dom || y == dom:
			return constVec(kBool, dom, n)
		case x == nil || y == nil:
			return nullVec(kBool, n)
		}
		return constVec(kBool, !dom, n)
	}
	l, r = l.expand(), r.expand()
	out := make([]bool, n)
	res := &vec{k: kBool, n: n, owned: true, data: out}
	a, b := l.data.([]bool)[:n], r.data.([]bool)[:n]
	av, bv := l.valid, r.valid
	if av == nil && bv == nil {
		if isAnd {
			for i := range out {
				out[i] = a[i] && b[i]
			}
		} else {
			for i := range out {
				out[i] = a[i] || b[i]
			}
		}
		return res
	}
	valid := make([]byte, bitmapLen(n))
	res.valid = valid
	au := unsafe.Slice((*uint8)(unsafe.Pointer(unsafe.SliceData(a))), n)
	bu := unsafe.Slice((*uint8)(unsafe.Pointer(unsafe.SliceData(b))), n)
	ou := unsafe.Slice((*uint8)(unsafe.Pointer(unsafe.SliceData(out))), n)
	for j := range valid {
		xvs, yvs := uint8(0xff), uint8(0xff)
		if av != nil {
			xvs = av[j]
		}
		if bv != nil {
			yvs = bv[j]
		}
		var vb uint8
		for k := 0; k < 8 && j*8+k < n; k++ {
			i := j*8 + k
			xv, yv := (xvs>>k)&1, (yvs>>k)&1
			x, y := au[i], bu[i]
			var known, o uint8
			if isAnd {
				known = xv&(x^1) | yv&(y^1)
				o = x & y
			} else {
				known = xv&x | yv&y
				o = x | y
			}
			ou[i] = o
			vb |= (known | xv&yv) << k
		}
		valid[j] = vb
	}
	return res
}

type notNode struct{ x cnode }

func (n *notNode) dtype() arrow.DataType { return tBool }

func (n *notNode) row(c *rowCtx) any {
	v := n.x.row(c)
	if v == nil {
		return nil
	}
	return !v.(bool)
}

func (n *notNode) vec(b *batchCtx) *vec {
	x := n.x.vec(b)
	if x.konst {
		if x.isNullConst() {
			return x
		}
		return constVec(kBool, !x.data.([]bool)[0], b.n)
	}
	a := x.data.([]bool)[:b.n]
	out, valid := a, x.valid
	if !x.owned {
		out = make([]bool, b.n)
		if valid != nil {
			valid = append([]byte(nil), valid...)
		}
	}
	for i := range out {
		out[i] = !a[i]
	}
	return &vec{k: kBool, n: b.n, owned: true, valid: valid, data: out}
}

type isNullNode struct {
	x   cnode
	not bool
}

func (n *isNullNode) dtype() arrow.DataType { return tBool }
func (n *isNullNode) row(c *rowCtx) any     { return (n.x.row(c) == nil) != n.not }

func (n *isNullNode) vec(b *batchCtx) *vec {
	x := n.x.vec(b)
	if x.konst || x.k == kNull {
		return constVec(kBool, x.null(0) != n.not, b.n)
	}
	out := make([]bool, b.n)
	if x.valid == nil {
		if n.not {
			fill(out, true)
		}
	} else {
		for i := range out {
			out[i] = !bitGet(x.valid, i) != n.not
		}
	}
	return &vec{k: kBool, n: b.n, owned: true, data: out}
}

// ---- casts ----

type castNode struct {
	from, to arrow.DataType
	x        cnode
	fn       func(any) any
}

func (n *castNode) dtype() arrow.DataType { return n.to }

func (n *castNode) row(c *rowCtx) any {
	v := n.x.row(c)
	if v == nil {
		return nil
	}
	return n.fn(v)
}

func (n *castNode) vec(b *batchCtx) *vec {
	x := n.x.vec(b)
	if x.isNullConst() {
		return nullVec(kindOf(n.to), b.n)
	}
	if isNumeric(n.from) && isNumeric(n.to) {
		return castNum(x, kindOf(n.from), kindOf(n.to), b.n)
	}
	out := newOutVec(kindOf(n.to), b.n)
	if x.konst {
		return constVec(kindOf(n.to), n.fn(x.box(0)), b.n)
	}
	for i := 0; i < b.n; i++ {
		v := x.box(i)
		if v != nil {
			v = n.fn(v)
		}
		out.set(i, v)
	}
	return out.done()
}

func castNum(x *vec, from, to kind, n int) *vec {
	switch from {
	case kI8:
		return castFrom[int8](x, to, n)
	case kI16:
		return castFrom[int16](x, to, n)
	case kI32:
		return castFrom[int32](x, to, n)
	case kI64:
		return castFrom[int64](x, to, n)
	case kF32:
		return castFrom[float32](x, to, n)
	}
	return castFrom[float64](x, to, n)
}

func castFrom[F number](x *vec, to kind, n int) *vec {
	switch to {
	case kI8:
		return castVecNum[F, int8](x, to, n, false)
	case kI16:
		return castVecNum[F, int16](x, to, n, false)
	case kI32:
		return castVecNum[F, int32](x, to, n, false)
	case kI64:
		return castVecNum[F, int64](x, to, n, true)
	case kF32:
		return castVecNum[F, float32](x, to, n, false)
	}
	return castVecNum[F, float64](x, to, n, false)
}

// ---- conditionals ----

// caseNode is CASE WHEN c1 THEN v1 … ELSE e END (IF is a one-branch CASE).
type caseNode struct {
	t     arrow.DataType
	conds []cnode
	thens []cnode
	els   cnode
}

func (n *caseNode) dtype() arrow.DataType { return n.t }

func (n *caseNode) row(c *rowCtx) any {
	for i, cond := range n.conds {
		if cond.row(c) == true {
			return n.thens[i].row(c)
		}
	}
	return n.els.row(c)
}

func (n *caseNode) vec(b *batchCtx) *vec {
	conds := make([]*vec, len(n.conds))
	thens := make([]*vec, len(n.thens))
	for i := range n.conds {
		conds[i] = n.conds[i].vec(b)
		thens[i] = n.thens[i].vec(b)
	}
	for i := range thens {
		thens[i] = thens[i].mat()
	}
	els := n.els.vec(b).mat()
	out := newOutVec(kindOf(n.t), b.n)
	for i := 0; i < b.n; i++ {
		src := els
		for j, c := range conds {
			if !c.null(i) && elem[bool](c, i) {
				src = thens[j]
				break
			}
		}
		copyRow(out, src, i)
	}
	return out.done()
}

// copyRow copies row i of src into row i of out (same kind).
func copyRow(out *outVec, src *vec, i int) {
	if src.null(i) || src.k == kNull {
		out.set(i, nil)
		return
	}
	j := i
	if src.konst {
		j = 0
	}
	switch d := out.v.data.(type) {
	case []bool:
		d[i] = src.data.([]bool)[j]
	case []int8:
		d[i] = src.data.([]int8)[j]
	case []int16:
		d[i] = src.data.([]int16)[j]
	case []int32:
		d[i] = src.data.([]int32)[j]
	case []int64:
		d[i] = src.data.([]int64)[j]
	case []float32:
		d[i] = src.data.([]float32)[j]
	case []float64:
		d[i] = src.data.([]float64)[j]
	case []string:
		d[i] = src.data.([]string)[j]
	case []any:
		d[i] = src.data.([]any)[j]
	default:
		out.set(i, nil)
	}
}

// coalesceNode returns its first non-null argument.
type coalesceNode struct {
	t    arrow.DataType
	args []cnode
}

func (n *coalesceNode) dtype() arrow.DataType { return n.t }

func (n *coalesceNode) row(c *rowCtx) any {
	for _, a := range n.args {
		if v := a.row(c); v != nil {
			return v
		}
	}
	return nil
}

func (n *coalesceNode) vec(b *batchCtx) *vec {
	vs := make([]*vec, len(n.args))
	for i, a := range n.args {
		vs[i] = a.vec(b).mat()
	}
	out := newOutVec(kindOf(n.t), b.n)
	for i := 0; i < b.n; i++ {
		src := vs[len(vs)-1]
		for _, v := range vs {
			if !v.null(i) {
				src = v
				break
			}
		}
		copyRow(out, src, i)
	}
	return out.done()
}

// inNode is x IN (list): null when x is null, or when x is not found and
// the list holds a null.
type inNode struct {
	x    cnode
	list []cnode
	cmpf func(a, b any) int
	set  map[any]bool // constant list of hashable values, when available
	null bool         // the constant list holds a null
}

func (n *inNode) dtype() arrow.DataType { return tBool }

func (n *inNode) row(c *rowCtx) any {
	v := n.x.row(c)
	if v == nil {
		return nil
	}
	return n.test(v, func(i int) any { return n.list[i].row(c) })
}

func (n *inNode) test(v any, item func(int) any) any {
	if n.set != nil {
		if n.set[hashKey(v)] {
			return true
		}
		if n.null {
			return nil
		}
		return false
	}
	sawNull := false
	for i := range n.list {
		e := item(i)
		if e == nil {
			sawNull = true
			continue
		}
		if n.cmpf(v, e) == 0 {
			return true
		}
	}
	if sawNull {
		return nil
	}
	return false
}

func (n *inNode) vec(b *batchCtx) *vec {
	x := n.x.vec(b)
	if n.set != nil && !x.konst {
		if out := n.setVec(x, b.n); out != nil {
			return out
		}
	}
	var items []*vec
	if n.set == nil {
		items = make([]*vec, len(n.list))
		for i, e := range n.list {
			items[i] = e.vec(b)
		}
	}
	out := newOutVec(kBool, b.n)
	for i := 0; i < b.n; i++ {
		v := x.box(i)
		if v == nil {
			out.set(i, nil)
			continue
		}
		out.set(i, n.test(v, func(j int) any { return items[j].box(i) }))
	}
	return out.done()
}

// setVec tests a string or integer vector against the constant set without
// boxing; nil when the kind has no fast path.
func (n *inNode) setVec(x *vec, rows int) *vec {
	out := make([]bool, rows)
	res := &vec{k: kBool, n: rows, owned: true, data: out}
	if x.valid != nil {
		res.valid = append([]byte(nil), x.valid[:bitmapLen(rows)]...)
	}
	switch d := x.data.(type) {
	case *array.String:
		set := make(map[string]bool, len(n.set))
		for k := range n.set {
			set[k.(string)] = true
		}
		for i := range out {
			out[i] = set[d.Value(i)]
		}
	case []string:
		if len(n.set) <= 8 {
			list := make([]string, 0, len(n.set))
			for k := range n.set {
				list = append(list, k.(string))
			}
			for i, s := range d[:rows] {
				for _, e := range list {
					if s == e {
						out[i] = true
						break
					}
				}
			}
			break
		}
		set := make(map[string]bool, len(n.set))
		for k := range n.set {
			set[k.(string)] = true
		}
		for i, s := range d[:rows] {
			out[i] = set[s]
		}
	case []int64:
		if x.k == kTS {
			return nil
		}
		setIn(n.set, d[:rows], out)
	case []int32:
		if x.k == kDate {
			return nil
		}
		setIn(n.set, d[:rows], out)
	case []int16:
		setIn(n.set, d[:rows], out)
	case []int8:
		setIn(n.set, d[:rows], out)
	default:
		return nil
	}
	if n.null {
		// not found with a null in the list: null
		for i, found := range out {
			if !found {
				res.clearValid(i)
			}
		}
	}
	return res
}

func setIn[T integer](set map[any]bool, d []T, out []bool) {
	typed := make(map[T]bool, len(set))
	for k := range set {
		typed[k.(T)] = true
	}
	for i, v := range d {
		out[i] = typed[v]
	}
}

// hashKey maps a non-null atomic value to a comparable map key with the
// equality of comparator (NaN equals NaN, -0.0 equals 0.0).
func hashKey(v any) any {
	switch x := v.(type) {
	case float64:
		if x != x {
			return "NaN"
		}
		if x == 0 {
			return float64(0)
		}
	case float32:
		if x != x {
			return "NaN"
		}
		if x == 0 {
			return float32(0)
		}
	case time.Time:
		return x.UnixMicro()
	}
	return v
}
