// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Program is a compiled expression: parsed once, type-checked against an
// input schema, ready to evaluate over record batches (EvalBatch) and single
// rows (EvalRow) with the same results. A Program is immutable and safe for
// concurrent use by multiple goroutines.
type Program struct {
	src  string
	u    *unit
	root cnode
}

// unit is the set of input columns (by slot) shared by the expressions
// compiled together, and the number of lambda variable slots they need.
type unit struct {
	cols  []colRef
	nvars int
}

type colRef struct {
	name string         // name in the compile schema
	typ  arrow.DataType // normalised type
}

// Compile parses src and type-checks it against schema, resolving column
// names case-insensitively like Spark (an exact match wins). Errors are
// *SyntaxError or *TypeError values with the position of the problem, such
// as `1:5: unknown column "pric" (did you mean "price"?)`.
func Compile(src string, schema *arrow.Schema) (*Program, error) {
	n, err := Parse(src)
	if err != nil {
		return nil, err
	}
	c := newCompiler(src, schema)
	root, err := c.compile(n)
	if err != nil {
		return nil, err
	}
	return &Program{src: src, u: c.u, root: root}, nil
}

// Constant evaluates an expression that reads no columns, such as a skew
// key value ('abc', 42, -1.5, DATE '2024-01-01', null), and returns its value
// (in the package's Go value convention) and Arrow type.
func Constant(src string) (any, arrow.DataType, error) {
	p, err := Compile(src, nil)
	if err != nil {
		return nil, nil, err
	}
	v, err := p.EvalRow(nil)
	if err != nil {
		return nil, nil, err
	}
	return v, p.Type(), nil
}

// Type returns the Arrow type of the expression's values. Integers, floats,
// strings, booleans, binaries, dates (date32), timestamps (TimestampType),
// lists, maps with string keys, structs, or arrow.Null for a literal null.
func (p *Program) Type() arrow.DataType { return p.root.dtype() }

// Columns returns the input columns the expression reads, as named in the
// compile schema, in order of first use.
func (p *Program) Columns() []string {
	out := make([]string, len(p.u.cols))
	for i, c := range p.u.cols {
		out[i] = c.name
	}
	return out
}

// String returns the source text the program was compiled from.
func (p *Program) String() string { return p.src }

// EvalBatch evaluates the expression over every row of rec and returns an
// array of Type() with rec.NumRows() rows. Columns are looked up by the
// names of the compile schema (exactly, then case-insensitively) and must
// have the compiled types. The caller owns (and releases) the result.
func (p *Program) EvalBatch(rec arrow.RecordBatch) (out arrow.Array, err error) {
	b, err := p.u.bind(rec)
	if err != nil {
		return nil, err
	}
	defer recoverInto(&err)
	if c, ok := p.root.(*colNode); ok {
		arr := rec.Column(b.colIndex[c.slot])
		if arrow.TypeEqual(arr.DataType(), p.root.dtype()) {
			arr.Retain()
			return arr, nil
		}
	}
	v := p.root.vec(b.batchCtx)
	return toArrow(v, p.root.dtype()), nil
}

// EvalRow evaluates the expression over one row given as column name → Go
// value (see the package documentation for the value convention). A column
// absent from the map is null. The result has the Go type of Type()'s
// values, or is nil. It may share memory with the row's values.
func (p *Program) EvalRow(row map[string]any) (out any, err error) {
	rc, err := p.u.rowCtx(row)
	if err != nil {
		return nil, err
	}
	defer recoverInto(&err)
	return p.root.row(rc), nil
}

func recoverInto(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("expr: internal error: %v", r)
	}
}

// rowCtx converts a caller's row to internal values.
func (u *unit) rowCtx(row map[string]any) (*rowCtx, error) {
	rc := &rowCtx{cols: make([]any, len(u.cols)), vars: make([]any, u.nvars)}
	for i, c := range u.cols {
		v, ok := row[c.name]
		if !ok || v == nil {
			continue
		}
		cv, err := coerceIn(v, c.typ)
		if err != nil {
			return nil, fmt.Errorf("%w: column %q: %w", ErrInput, c.name, err)
		}
		rc.cols[i] = cv
	}
	return rc, nil
}

type boundBatch struct {
	*batchCtx
	colIndex []int
}

// bind converts the batch columns the unit reads.
func (u *unit) bind(rec arrow.RecordBatch) (*boundBatch, error) {
	n := int(rec.NumRows())
	b := &boundBatch{
		batchCtx: &batchCtx{n: n, cols: make([]*vec, len(u.cols)), rc: &rowCtx{cols: make([]any, len(u.cols)), vars: make([]any, u.nvars)}},
		colIndex: make([]int, len(u.cols)),
	}
	sc := rec.Schema()
	for i, c := range u.cols {
		idx := fieldIndex(sc, c.name)
		if idx < 0 {
			return nil, fmt.Errorf("%w: batch has no column %q", ErrInput, c.name)
		}
		arr := rec.Column(idx)
		nt, err := normalizeType(arr.DataType())
		if err != nil || !sameType(nt, c.typ) {
			return nil, fmt.Errorf("%w: batch column %q is %s, compiled for %s", ErrInput, c.name, arr.DataType(), typeName(c.typ))
		}
		v, err := fromArrow(arr, c.typ)
		if err != nil {
			return nil, fmt.Errorf("%w: batch column %q: %w", ErrInput, c.name, err)
		}
		b.cols[i] = v
		b.colIndex[i] = idx
	}
	return b, nil
}

// fieldIndex finds a column by exact name, then case-insensitively; -1 if
// absent or ambiguous.
func fieldIndex(sc *arrow.Schema, name string) int {
	if idx := sc.FieldIndices(name); len(idx) > 0 {
		return idx[0]
	}
	found := -1
	for i, f := range sc.Fields() {
		if strings.EqualFold(f.Name, name) {
			if found >= 0 {
				return -1
			}
			found = i
		}
	}
	return found
}

// ---- compiler ----

type compiler struct {
	src    string
	schema *arrow.Schema
	u      *unit
	slots  map[string]int // schema column name → slot
	scopes []map[string]*varNode
	refLog []int
	depth  int
}

func newCompiler(src string, schema *arrow.Schema) *compiler {
	if schema == nil {
		schema = arrow.NewSchema(nil, nil)
	}
	return &compiler{src: src, schema: schema, u: &unit{}, slots: map[string]int{}}
}

func (c *compiler) errf(pos int, format string, args ...any) error {
	return newTypeError(c.src, pos, format, args...)
}

// column resolves a column name to a column node.
func (c *compiler) column(name string, pos int) (cnode, error) {
	fields := c.schema.Fields()
	idx := -1
	for i, f := range fields {
		if f.Name == name {
			idx = i
			break
		}
	}
	if idx < 0 {
		var matches []int
		for i, f := range fields {
			if strings.EqualFold(f.Name, name) {
				matches = append(matches, i)
			}
		}
		switch len(matches) {
		case 0:
			if s := suggest(name, fields); s != "" {
				return nil, c.errf(pos, "unknown column %q (did you mean %q?)", name, s)
			}
			return nil, c.errf(pos, "unknown column %q", name)
		case 1:
			idx = matches[0]
		default:
			return nil, c.errf(pos, "ambiguous column %q (matches %q and %q)", name, fields[matches[0]].Name, fields[matches[1]].Name)
		}
	}
	f := fields[idx]
	slot, ok := c.slots[f.Name]
	if !ok {
		t, err := normalizeType(f.Type)
		if err != nil {
			return nil, c.errf(pos, "column %q: %v", f.Name, err)
		}
		slot = len(c.u.cols)
		c.u.cols = append(c.u.cols, colRef{name: f.Name, typ: t})
		c.slots[f.Name] = slot
	}
	c.refLog = append(c.refLog, slot)
	return &colNode{t: c.u.cols[slot].typ, slot: slot}, nil
}

// suggest returns the schema column closest to name, if close enough.
func suggest(name string, fields []arrow.Field) string {
	best, bestD := "", math.MaxInt
	ln := strings.ToLower(name)
	for _, f := range fields {
		d := editDistance(ln, strings.ToLower(f.Name))
		if d < bestD {
			best, bestD = f.Name, d
		}
	}
	if bestD <= max(2, len(name)/3) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// refsSince returns the distinct column slots referenced since refLog had
// length start.
func (c *compiler) refsSince(start int) []int {
	seen := map[int]bool{}
	var out []int
	for _, s := range c.refLog[start:] {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Ints(out)
	return out
}

// fold evaluates n at compile time when all its inputs are constants.
func (c *compiler) fold(n cnode, args ...cnode) cnode {
	if len(args) == 0 {
		return n
	}
	for _, a := range args {
		if !isLit(a) {
			return n
		}
	}
	v := n.row(&rowCtx{})
	return &litNode{t: n.dtype(), v: v}
}

// castTo converts n to type t (which must be a valid cast).
func (c *compiler) castTo(n cnode, t arrow.DataType) cnode {
	x, ok := c.convert(n, t)
	if !ok {
		panic(fmt.Sprintf("expr: invalid implicit cast %s to %s", typeName(n.dtype()), typeName(t)))
	}
	return x
}

// convert converts n to type t, or returns false when there is no such
// cast.
func (c *compiler) convert(n cnode, t arrow.DataType) (cnode, bool) {
	if sameType(n.dtype(), t) {
		return n, true
	}
	fn, ok := castFn(n.dtype(), t)
	if !ok {
		return nil, false
	}
	return c.fold(&castNode{from: n.dtype(), to: t, x: n, fn: fn}, n), true
}

// implicit reports whether Spark casts from to to implicitly for a function
// argument.
func implicit(from, to arrow.DataType) bool {
	switch {
	case sameType(from, to), isNull(from):
		return true
	case isNumeric(from) && isNumeric(to):
		return true
	case to.ID() == arrow.STRING:
		return isAtomic(from) && from.ID() != arrow.BINARY
	case isNumeric(to):
		return from.ID() == arrow.STRING
	case to.ID() == arrow.DATE32:
		return from.ID() == arrow.STRING || from.ID() == arrow.TIMESTAMP
	case to.ID() == arrow.TIMESTAMP:
		return from.ID() == arrow.STRING || from.ID() == arrow.DATE32
	case to.ID() == arrow.BINARY:
		return from.ID() == arrow.STRING
	case to.ID() == arrow.LIST && from.ID() == arrow.LIST:
		return implicit(listElem(from), listElem(to))
	case to.ID() == arrow.MAP && from.ID() == arrow.MAP:
		return implicit(mapItem(from), mapItem(to))
	}
	return false
}

// coerce casts a function argument to the wanted type, or reports an error.
func (c *compiler) coerce(n cnode, want arrow.DataType, fname string, argNo int, pos int) (cnode, error) {
	if implicit(n.dtype(), want) {
		if x, ok := c.convert(n, want); ok {
			return x, nil
		}
	}
	return nil, c.errf(pos, "argument %d of %s must be %s, not %s", argNo, fname, typeName(want), typeName(n.dtype()))
}

func (c *compiler) compile(n Node) (cnode, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > maxDepth {
		return nil, c.errf(n.Pos(), "expression nested too deeply")
	}
	switch n := n.(type) {
	case *Literal:
		return c.literal(n, false)
	case *Ident:
		for i := len(c.scopes) - 1; i >= 0; i-- {
			if v, ok := c.scopes[i][strings.ToLower(n.Name)]; ok {
				return v, nil
			}
		}
		return c.column(n.Name, n.P)
	case *Unary:
		return c.unary(n)
	case *Binary:
		return c.binary(n)
	case *Call:
		return c.call(n)
	case *Lambda:
		return nil, c.errf(n.P, "a lambda function is only allowed as an argument of a higher-order function")
	case *Case:
		return c.caseExpr(n)
	case *Cast:
		x, err := c.compile(n.X)
		if err != nil {
			return nil, err
		}
		spec, err := parseTypeName(n.TypeName)
		if err != nil {
			return nil, c.errf(n.P, "bad type %q: %v", n.TypeName, err)
		}
		t, err := typeFromSpec(spec)
		if err != nil {
			return nil, c.errf(n.P, "%v", err)
		}
		if y, ok := c.convert(x, t); ok {
			return y, nil
		}
		return nil, c.errf(n.P, "cannot cast %s to %s", typeName(x.dtype()), typeName(t))
	case *In:
		return c.in(n)
	case *Between:
		return c.compile(negate(n.P, &Binary{P: n.P, Op: "AND",
			L: &Binary{P: n.P, Op: ">=", L: n.X, R: n.Lo},
			R: &Binary{P: n.P, Op: "<=", L: n.X, R: n.Hi}}, n.Not))
	case *Like:
		return c.like(n)
	case *IsNull:
		x, err := c.compile(n.X)
		if err != nil {
			return nil, err
		}
		return c.fold(&isNullNode{x: x, not: n.Not}, x), nil
	case *Field:
		return c.field(n)
	case *Index:
		return c.index(n)
	}
	return nil, c.errf(n.Pos(), "unsupported expression %T", n)
}

// compilePair compiles two nodes, a first.
func (c *compiler) compilePair(a, b Node) (cnode, cnode, error) {
	x, err := c.compile(a)
	if err != nil {
		return nil, nil, err
	}
	y, err := c.compile(b)
	if err != nil {
		return nil, nil, err
	}
	return x, y, nil
}

// literal compiles a literal; neg negates a number literal's text.
func (c *compiler) literal(n *Literal, neg bool) (cnode, error) {
	switch n.Kind {
	case LitNull:
		return nullLit(tNull), nil
	case LitBool:
		return boolLit(n.Bool), nil
	case LitString:
		return &litNode{t: tStr, v: n.Value}, nil
	case LitDate:
		d, ok := parseDate(n.Value)
		if !ok {
			return nil, c.errf(n.P, "bad date literal %s", quoteSQL(n.Value))
		}
		return &litNode{t: tDate, v: d}, nil
	case LitTimestamp:
		us, ok := parseTimestamp(n.Value)
		if !ok {
			return nil, c.errf(n.P, "bad timestamp literal %s", quoteSQL(n.Value))
		}
		return &litNode{t: tTS, v: tsOfMicros(us)}, nil
	}
	raw := n.Raw
	if neg {
		raw = "-" + raw
	}
	v, t, err := numberLiteral(raw)
	if err != nil {
		return nil, c.errf(n.P, "%v", err)
	}
	return &litNode{t: t, v: v}, nil
}

// numberLiteral types a numeric literal like Spark: an integer is int when
// it fits, else bigint; suffixes L (bigint), S (smallint), Y (tinyint), D
// (double), F (float); decimals (1.5, 1.5BD, integers beyond bigint) are
// read as doubles since DECIMAL is not supported.
func numberLiteral(raw string) (any, arrow.DataType, error) {
	lower := strings.ToLower(raw)
	body := lower
	suffix := ""
	switch {
	case strings.HasSuffix(lower, "bd"):
		body, suffix = lower[:len(lower)-2], "bd"
	case strings.IndexByte("lsydf", lower[len(lower)-1]) >= 0:
		body, suffix = lower[:len(lower)-1], lower[len(lower)-1:]
	}
	isInt := !strings.ContainsAny(body, ".e")
	rangeErr := func(t string) error { return fmt.Errorf("number %s out of range for %s", raw, t) }
	switch suffix {
	case "l", "s", "y":
		if !isInt {
			return nil, nil, fmt.Errorf("malformed number %s", raw)
		}
		v, err := strconv.ParseInt(body, 10, 64)
		if err != nil {
			return nil, nil, rangeErr("bigint")
		}
		switch suffix {
		case "s":
			if v < math.MinInt16 || v > math.MaxInt16 {
				return nil, nil, rangeErr("smallint")
			}
			return int16(v), tI16, nil
		case "y":
			if v < math.MinInt8 || v > math.MaxInt8 {
				return nil, nil, rangeErr("tinyint")
			}
			return int8(v), tI8, nil
		}
		return v, tI64, nil
	case "f":
		f, err := strconv.ParseFloat(body, 32)
		if err != nil {
			return nil, nil, rangeErr("float")
		}
		return float32(f), tF32, nil
	}
	if isInt && suffix == "" {
		if v, err := strconv.ParseInt(body, 10, 64); err == nil {
			if v >= math.MinInt32 && v <= math.MaxInt32 {
				return int32(v), tI32, nil
			}
			return v, tI64, nil
		}
	}
	f, err := strconv.ParseFloat(body, 64)
	if err != nil {
		return nil, nil, rangeErr("double")
	}
	return f, tF64, nil
}

func (c *compiler) unary(n *Unary) (cnode, error) {
	if lit, ok := n.X.(*Literal); ok && n.Op == "-" && lit.Kind == LitNumber {
		return c.literal(lit, true)
	}
	x, err := c.compile(n.X)
	if err != nil {
		return nil, err
	}
	t := x.dtype()
	switch n.Op {
	case "NOT":
		if !isNull(t) && t.ID() != arrow.BOOL {
			return nil, c.errf(n.P, "NOT needs a boolean, not %s", typeName(t))
		}
		x = c.castTo(x, tBool)
		return c.fold(&notNode{x: x}, x), nil
	case "+":
		if !isNumeric(t) && !isNull(t) {
			return nil, c.errf(n.P, "unary + needs a number, not %s", typeName(t))
		}
		return x, nil
	case "-":
		if isNull(t) {
			return nullLit(tF64), nil
		}
		if !isNumeric(t) {
			return nil, c.errf(n.P, "cannot negate %s", typeName(t))
		}
		return c.fold(&negNode{t: t, x: x}, x), nil
	case "~":
		if isNull(t) {
			return nullLit(tI64), nil
		}
		if !isIntegral(t) {
			return nil, c.errf(n.P, "~ needs an integer, not %s", typeName(t))
		}
		return c.fold(&fnNode{t: t, args: []cnode{x}, strict: true, fn: func(a []any) any {
			return fromI64(^toI64(a[0]), t.ID())
		}}, x), nil
	}
	return nil, c.errf(n.P, "unknown operator %s", n.Op)
}

var arithVerb = map[string]string{"+": "add", "-": "subtract", "*": "multiply", "/": "divide", "%": "take the remainder of", "DIV": "integer-divide", "&": "bitwise-and", "|": "bitwise-or", "^": "bitwise-xor"}

func (c *compiler) binary(n *Binary) (cnode, error) {
	if n.Op == "||" {
		return c.callBuiltin(&Call{P: n.P, Name: "concat", Args: []Node{n.L, n.R}})
	}
	l, r, err := c.compilePair(n.L, n.R)
	if err != nil {
		return nil, err
	}
	lt, rt := l.dtype(), r.dtype()
	switch n.Op {
	case "AND", "OR":
		for _, x := range []cnode{l, r} {
			if t := x.dtype(); !isNull(t) && t.ID() != arrow.BOOL {
				return nil, c.errf(n.P, "%s needs booleans, not %s", n.Op, typeName(t))
			}
		}
		l, r = c.castTo(l, tBool), c.castTo(r, tBool)
		if n.Op == "AND" {
			return c.fold(&andNode{l: l, r: r}, l, r), nil
		}
		return c.fold(&orNode{l: l, r: r}, l, r), nil
	case "+", "-", "*", "%", "/", "DIV", "&", "|", "^":
		// date ± days
		if (n.Op == "+" || n.Op == "-") && lt.ID() == arrow.DATE32 && (isIntegral(rt) || isNull(rt)) {
			name := "date_add"
			if n.Op == "-" {
				name = "date_sub"
			}
			return c.buildCall(&Call{P: n.P, Name: name}, []cnode{l, r})
		}
		if n.Op == "+" && rt.ID() == arrow.DATE32 && isIntegral(lt) {
			return c.buildCall(&Call{P: n.P, Name: "date_add"}, []cnode{r, l})
		}
		okT := func(t arrow.DataType) bool {
			if n.Op == "&" || n.Op == "|" || n.Op == "^" {
				return isIntegral(t) || isNull(t)
			}
			return isNumeric(t) || isNull(t)
		}
		if !okT(lt) || !okT(rt) {
			return nil, c.errf(n.P, "type mismatch: cannot %s %s and %s", arithVerb[n.Op], typeName(lt), typeName(rt))
		}
		var t arrow.DataType
		var op arithOp
		switch n.Op {
		case "/":
			t, op = tF64, opDiv
		case "DIV":
			t, op = tI64, opIDiv
		default:
			t, _ = commonType(lt, rt, false)
			if isNull(t) {
				t = tF64
				if n.Op == "&" || n.Op == "|" || n.Op == "^" {
					t = tI64
				}
			}
			op = map[string]arithOp{"+": opAdd, "-": opSub, "*": opMul, "%": opMod, "&": opAnd, "|": opOr, "^": opXor}[n.Op]
		}
		l, r = c.castTo(l, t), c.castTo(r, t)
		return c.fold(&arithNode{op: op, t: t, l: l, r: r}, l, r), nil
	case "=", "!=", "<", "<=", ">", ">=", "<=>":
		return c.comparison(n.P, n.Op, l, r)
	}
	return nil, c.errf(n.P, "unknown operator %s", n.Op)
}

func (c *compiler) comparison(pos int, op string, l, r cnode) (cnode, error) {
	lt, rt := l.dtype(), r.dtype()
	t, ok := comparisonType(lt, rt)
	if !ok {
		return nil, c.errf(pos, "type mismatch: cannot compare %s and %s", typeName(lt), typeName(rt))
	}
	if _, ok := castFn(lt, t); !ok {
		return nil, c.errf(pos, "type mismatch: cannot compare %s and %s", typeName(lt), typeName(rt))
	}
	if _, ok := castFn(rt, t); !ok {
		return nil, c.errf(pos, "type mismatch: cannot compare %s and %s", typeName(lt), typeName(rt))
	}
	cop := map[string]cmpOp{"=": cmpEq, "!=": cmpNe, "<": cmpLt, "<=": cmpLe, ">": cmpGt, ">=": cmpGe, "<=>": cmpNullEq}[op]
	if t.ID() == arrow.MAP {
		return nil, c.errf(pos, "cannot compare maps")
	}
	if cop != cmpEq && cop != cmpNe && cop != cmpNullEq && !orderable(t) {
		return nil, c.errf(pos, "cannot order values of type %s", typeName(t))
	}
	if isNull(t) {
		if cop == cmpNullEq {
			return boolLit(true), nil
		}
		return nullLit(tBool), nil
	}
	l, r = c.castTo(l, t), c.castTo(r, t)
	return c.fold(&cmpNode{op: cop, t: t, l: l, r: r, cmpf: comparator(t)}, l, r), nil
}

func (c *compiler) caseExpr(n *Case) (cnode, error) {
	var op cnode
	if n.Operand != nil {
		var err error
		if op, err = c.compile(n.Operand); err != nil {
			return nil, err
		}
	}
	var conds, thens []cnode
	for _, w := range n.Whens {
		cond, err := c.compile(w.Cond)
		if err != nil {
			return nil, err
		}
		if op != nil {
			if cond, err = c.comparison(w.Cond.Pos(), "=", op, cond); err != nil {
				return nil, err
			}
		}
		if t := cond.dtype(); !isNull(t) && t.ID() != arrow.BOOL {
			return nil, c.errf(w.Cond.Pos(), "WHEN condition must be boolean, not %s", typeName(t))
		}
		then, err := c.compile(w.Then)
		if err != nil {
			return nil, err
		}
		conds = append(conds, c.castTo(cond, tBool))
		thens = append(thens, then)
	}
	var els cnode = nullLit(tNull)
	if n.Else != nil {
		var err error
		if els, err = c.compile(n.Else); err != nil {
			return nil, err
		}
	}
	return c.conditional(n.P, conds, thens, els)
}

// conditional builds a CASE node, unifying the branch types.
func (c *compiler) conditional(pos int, conds, thens []cnode, els cnode) (cnode, error) {
	t := els.dtype()
	for _, th := range thens {
		nt, ok := commonType(t, th.dtype(), true)
		if !ok {
			return nil, c.errf(pos, "type mismatch: CASE branches have types %s and %s", typeName(t), typeName(th.dtype()))
		}
		t = nt
	}
	for i := range thens {
		thens[i] = c.castTo(thens[i], t)
	}
	els = c.castTo(els, t)
	// drop constant-false branches, stop at a constant-true one
	var cs, ts []cnode
	for i, cond := range conds {
		if v, ok := litValue(cond); ok {
			if v == true {
				if len(cs) == 0 {
					return thens[i], nil
				}
				els = thens[i]
				break
			}
			continue
		}
		cs = append(cs, cond)
		ts = append(ts, thens[i])
	}
	if len(cs) == 0 {
		return els, nil
	}
	return &caseNode{t: t, conds: cs, thens: ts, els: els}, nil
}

func (c *compiler) in(n *In) (cnode, error) {
	x, err := c.compile(n.X)
	if err != nil {
		return nil, err
	}
	items := make([]cnode, len(n.List))
	t := x.dtype()
	for i, e := range n.List {
		if items[i], err = c.compile(e); err != nil {
			return nil, err
		}
		nt, ok := comparisonType(t, items[i].dtype())
		if !ok {
			return nil, c.errf(e.Pos(), "type mismatch: cannot compare %s and %s in IN", typeName(t), typeName(items[i].dtype()))
		}
		t = nt
	}
	if t.ID() == arrow.MAP {
		return nil, c.errf(n.P, "cannot compare maps")
	}
	for _, it := range append([]cnode{x}, items...) {
		if _, ok := castFn(it.dtype(), t); !ok {
			return nil, c.errf(n.P, "type mismatch: cannot compare %s and %s in IN", typeName(it.dtype()), typeName(t))
		}
	}
	x = c.castTo(x, t)
	for i := range items {
		items[i] = c.castTo(items[i], t)
	}
	var res cnode
	if isNull(t) {
		res = nullLit(tBool)
	} else {
		in := &inNode{x: x, list: items, cmpf: comparator(t)}
		if isAtomic(t) && t.ID() != arrow.BINARY {
			set := map[any]bool{}
			for _, it := range items {
				v, ok := litValue(it)
				if !ok {
					set = nil
					break
				}
				if v == nil {
					in.null = true
					continue
				}
				set[hashKey(v)] = true
			}
			in.set = set
		}
		res = c.fold(in, append([]cnode{x}, items...)...)
	}
	if n.Not {
		res = c.fold(&notNode{x: res}, res)
	}
	return res, nil
}
