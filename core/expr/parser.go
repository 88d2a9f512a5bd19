// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxDepth bounds expression nesting so that hostile input fails with an
// error instead of exhausting the stack.
const maxDepth = 400

// Parse parses one Spark SQL expression. Errors are *SyntaxError values
// locating the offending token. Binary and unary operator nodes carry the
// position of their operator; "==" is normalised to "=" and "<>" to "!=",
// "&&" to AND and "!" to NOT.
func Parse(src string) (Node, error) {
	return parseAll(src, func(p *parser) (Node, error) {
		if p.peek().kind == tEOF {
			return nil, newSyntaxError(src, 0, "empty expression")
		}
		return p.parseExpr()
	})
}

// parseAll lexes src and parses it with parse, which must consume all of
// it.
func parseAll[T any](src string, parse func(p *parser) (T, error)) (T, error) {
	var zero T
	toks, err := lex(src)
	if err != nil {
		return zero, err
	}
	p := &parser{src: src, toks: toks}
	x, err := parse(p)
	if err != nil {
		return zero, err
	}
	if t := p.peek(); t.kind != tEOF {
		return zero, p.unexpected(t)
	}
	return x, nil
}

type parser struct {
	src   string
	toks  []token
	i     int
	depth int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) unexpected(t token) error {
	return newSyntaxError(p.src, t.pos, "unexpected %s", t.describe())
}

// acceptOp consumes the next token when it is the operator op.
func (p *parser) acceptOp(op string) bool { return p.acceptIf(p.peek().isOp(op)) }

// acceptKw consumes the next token when it is the keyword kw.
func (p *parser) acceptKw(kw string) bool { return p.acceptIf(p.peek().is(kw)) }

// acceptIf consumes the next token when ok, and returns ok.
func (p *parser) acceptIf(ok bool) bool {
	if ok {
		p.next()
	}
	return ok
}

// expectOp consumes the operator op, or fails.
func (p *parser) expectOp(op string) error { return p.expected(p.acceptOp(op), strconv.Quote(op)) }

// expectKw consumes the keyword kw, or fails.
func (p *parser) expectKw(kw string) error { return p.expected(p.acceptKw(kw), kw) }

// expected fails with "expected what" at the next token unless ok.
func (p *parser) expected(ok bool, what string) error {
	if ok {
		return nil
	}
	t := p.peek()
	return newSyntaxError(p.src, t.pos, "expected %s, found %s", what, t.describe())
}

// parseList parses one or more items separated by commas, then the
// operator close.
func parseList[T any](p *parser, close string, item func() (T, error)) ([]T, error) {
	var out []T
	for {
		x, err := item()
		if err != nil {
			return nil, err
		}
		out = append(out, x)
		if !p.acceptOp(",") {
			break
		}
	}
	if err := p.expectOp(close); err != nil {
		return nil, err
	}
	return out, nil
}

// parseKwPair parses two operands with sub joined by the keyword kw, as in
// lo AND hi or cond THEN value.
func (p *parser) parseKwPair(sub func() (Node, error), kw string) (Node, Node, error) {
	a, err := sub()
	if err != nil {
		return nil, nil, err
	}
	if err := p.expectKw(kw); err != nil {
		return nil, nil, err
	}
	b, err := sub()
	if err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

// parseExprThen parses an expression followed by the operator close.
func (p *parser) parseExprThen(close string) (Node, error) {
	x, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if err := p.expectOp(close); err != nil {
		return nil, err
	}
	return x, nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return newSyntaxError(p.src, p.peek().pos, "expression nested too deeply")
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) parseExpr() (Node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	return p.parseOr()
}

func (p *parser) parseOr() (Node, error) {
	return p.parseLeftAssoc(p.parseAnd, func(t token) string {
		if t.is("OR") {
			return "OR"
		}
		return ""
	})
}

func (p *parser) parseAnd() (Node, error) {
	return p.parseLeftAssoc(p.parseNot, func(t token) string {
		if t.is("AND") || t.isOp("&&") {
			return "AND"
		}
		return ""
	})
}

func (p *parser) parseNot() (Node, error) {
	t := p.peek()
	if t.is("NOT") || t.isOp("!") {
		p.next()
		return p.parsePrefixed(t, "NOT", p.parseNot)
	}
	return p.parsePredicate()
}

// parsePrefixed parses, one level deeper, the operand of the prefix
// operator t (already consumed) with operand, and applies op to it.
func (p *parser) parsePrefixed(t token, op string, operand func() (Node, error)) (Node, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	x, err := operand()
	if err != nil {
		return nil, err
	}
	return &Unary{P: t.pos, Op: op, X: x}, nil
}

// negate wraps e in NOT when not is set.
func negate(pos int, e Node, not bool) Node {
	if not {
		return &Unary{P: pos, Op: "NOT", X: e}
	}
	return e
}

func (p *parser) parsePredicate() (Node, error) {
	x, err := p.parseComparison()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		not := false
		if t.is("NOT") {
			n := p.peekAt(1)
			if n.is("BETWEEN") || n.is("IN") || n.is("LIKE") || n.is("RLIKE") || n.is("REGEXP") {
				p.next()
				not = true
				t = p.peek()
			} else {
				return x, nil
			}
		}
		switch {
		case t.is("BETWEEN"):
			p.next()
			lo, hi, err := p.parseKwPair(p.parseBitOr, "AND")
			if err != nil {
				return nil, err
			}
			x = &Between{P: t.pos, X: x, Lo: lo, Hi: hi, Not: not}
		case t.is("IN"):
			p.next()
			if err := p.expectOp("("); err != nil {
				return nil, err
			}
			list, err := parseList(p, ")", p.parseExpr)
			if err != nil {
				return nil, err
			}
			x = &In{P: t.pos, X: x, List: list, Not: not}
		case t.is("LIKE"), t.is("RLIKE"), t.is("REGEXP"):
			p.next()
			pat, err := p.parseBitOr()
			if err != nil {
				return nil, err
			}
			lk := &Like{P: t.pos, X: x, Pattern: pat, Not: not, Regex: !t.is("LIKE")}
			if !lk.Regex && p.acceptKw("ESCAPE") {
				e := p.next()
				if e.kind != tString || utf8.RuneCountInString(e.val) != 1 {
					return nil, newSyntaxError(p.src, e.pos, "ESCAPE needs a one-character string")
				}
				lk.Escape, _ = utf8.DecodeRuneInString(e.val)
			}
			x = lk
		case t.is("IS"):
			p.next()
			neg := p.acceptKw("NOT")
			n := p.next()
			switch {
			case n.is("NULL"), n.is("UNKNOWN"):
				x = &IsNull{P: t.pos, X: x, Not: neg}
			case n.is("TRUE"), n.is("FALSE"):
				x = negate(t.pos, &Binary{P: t.pos, Op: "<=>", L: x, R: &Literal{P: n.pos, Kind: LitBool, Bool: n.is("TRUE")}}, neg)
			case n.is("DISTINCT"):
				if err := p.expectKw("FROM"); err != nil {
					return nil, err
				}
				r, err := p.parseBitOr()
				if err != nil {
					return nil, err
				}
				x = negate(t.pos, &Binary{P: t.pos, Op: "<=>", L: x, R: r}, !neg)
			default:
				return nil, newSyntaxError(p.src, n.pos, "expected NULL, TRUE, FALSE or DISTINCT FROM after IS, found %s", n.describe())
			}
		default:
			if not {
				return nil, p.unexpected(t)
			}
			return x, nil
		}
	}
}

var cmpOps = map[string]string{"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "<=>": "<=>"}

func (p *parser) parseComparison() (Node, error) {
	return p.parseLeftAssoc(p.parseBitOr, func(t token) string {
		if t.kind != tOp {
			return ""
		}
		return cmpOps[t.text]
	})
}

// opIn gives a function that returns the text of a token that is one of
// the operators ops, and "" for any other token.
func opIn(ops ...string) func(token) string {
	return func(t token) string {
		for _, op := range ops {
			if t.isOp(op) {
				return op
			}
		}
		return ""
	}
}

var (
	bitOrOp  = opIn("|")
	bitXorOp = opIn("^")
	bitAndOp = opIn("&")
	addOp    = opIn("+", "-", "||")
	mulOp    = opIn("*", "/", "%")
)

func (p *parser) parseBitOr() (Node, error)    { return p.parseLeftAssoc(p.parseBitXor, bitOrOp) }
func (p *parser) parseBitXor() (Node, error)   { return p.parseLeftAssoc(p.parseBitAnd, bitXorOp) }
func (p *parser) parseBitAnd() (Node, error)   { return p.parseLeftAssoc(p.parseAdditive, bitAndOp) }
func (p *parser) parseAdditive() (Node, error) { return p.parseLeftAssoc(p.parseMultiplicative, addOp) }

func (p *parser) parseMultiplicative() (Node, error) {
	return p.parseLeftAssoc(p.parseUnary, func(t token) string {
		if t.is("DIV") {
			return "DIV"
		}
		return mulOp(t)
	})
}

// parseLeftAssoc parses a chain of sub operands joined by the binary
// operators opOf recognises (it returns "" for any other token), grouping
// from the left.
func (p *parser) parseLeftAssoc(sub func() (Node, error), opOf func(token) string) (Node, error) {
	l, err := sub()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		op := opOf(t)
		if op == "" {
			return l, nil
		}
		p.next()
		r, err := sub()
		if err != nil {
			return nil, err
		}
		l = &Binary{P: t.pos, Op: op, L: l, R: r}
	}
}

func (p *parser) parseUnary() (Node, error) {
	t := p.peek()
	if t.isOp("-") || t.isOp("+") || t.isOp("~") {
		p.next()
		return p.parsePrefixed(t, t.text, p.parseUnary)
	}
	return p.parsePostfix()
}

func (p *parser) parsePostfix() (Node, error) {
	x, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.isOp("."):
			p.next()
			f := p.next()
			switch f.kind {
			case tIdent:
				x = &Field{P: t.pos, X: x, Name: f.text}
			case tQIdent:
				x = &Field{P: t.pos, X: x, Name: f.val}
			default:
				return nil, newSyntaxError(p.src, f.pos, "expected field name after \".\", found %s", f.describe())
			}
		case t.isOp("["):
			p.next()
			idx, err := p.parseExprThen("]")
			if err != nil {
				return nil, err
			}
			x = &Index{P: t.pos, X: x, Index: idx}
		default:
			return x, nil
		}
	}
}

// reserved words cannot be bare column names; back-quote them.
var reserved = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "is": true, "like": true, "rlike": true,
	"regexp": true, "between": true, "when": true, "then": true, "else": true, "end": true,
	"div": true, "as": true, "from": true,
}

func (p *parser) parsePrimary() (Node, error) {
	t := p.peek()
	switch t.kind {
	case tNumber:
		p.next()
		return &Literal{P: t.pos, Kind: LitNumber, Raw: t.text}, nil
	case tString:
		p.next()
		v := t.val
		for p.peek().kind == tString { // adjacent literals concatenate
			v += p.next().val
		}
		return &Literal{P: t.pos, Kind: LitString, Value: v}, nil
	case tQIdent:
		p.next()
		return &Ident{P: t.pos, Name: t.val, Quoted: true}, nil
	case tOp:
		if t.isOp("(") {
			p.next()
			return p.parseExprThen(")")
		}
		return nil, p.unexpected(t)
	case tEOF:
		return nil, p.unexpected(t)
	}
	// identifier or keyword
	lower := strings.ToLower(t.text)
	switch lower {
	case "null":
		p.next()
		return &Literal{P: t.pos, Kind: LitNull}, nil
	case "true", "false":
		p.next()
		return &Literal{P: t.pos, Kind: LitBool, Bool: lower == "true"}, nil
	case "case":
		return p.parseCase()
	case "cast", "try_cast":
		if p.peekAt(1).isOp("(") {
			return p.parseCast()
		}
	case "date", "timestamp":
		if n := p.peekAt(1); n.kind == tString {
			p.next()
			p.next()
			k := LitDate
			if lower == "timestamp" {
				k = LitTimestamp
			}
			return &Literal{P: t.pos, Kind: k, Value: n.val}, nil
		}
	}
	if reserved[lower] && !((lower == "like" || lower == "rlike" || lower == "regexp") && p.peekAt(1).isOp("(")) {
		return nil, p.unexpected(t)
	}
	p.next()
	if !p.peek().isOp("(") {
		return &Ident{P: t.pos, Name: t.text}, nil
	}
	p.next()
	call := &Call{P: t.pos, Name: lower}
	if p.acceptOp(")") {
		return call, nil
	}
	args, err := parseList(p, ")", p.parseArg)
	if err != nil {
		return nil, err
	}
	call.Args = args
	return call, nil
}

func isName(t token) bool {
	return t.kind == tQIdent || (t.kind == tIdent && !reserved[strings.ToLower(t.text)])
}

func nameOf(t token) string {
	if t.kind == tQIdent {
		return t.val
	}
	return t.text
}

// parseArg parses a function argument, which may be a lambda.
func (p *parser) parseArg() (Node, error) {
	t := p.peek()
	if isName(t) && p.peekAt(1).isOp("->") {
		p.next()
		p.next()
		body, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		return &Lambda{P: t.pos, Params: []string{nameOf(t)}, Body: body}, nil
	}
	if t.isOp("(") {
		// (a, b, …) -> body ?
		k := 1
		var params []string
		for {
			n := p.peekAt(k)
			if !isName(n) {
				params = nil
				break
			}
			params = append(params, nameOf(n))
			k++
			if p.peekAt(k).isOp(",") {
				k++
				continue
			}
			if p.peekAt(k).isOp(")") && p.peekAt(k+1).isOp("->") {
				k += 2
				break
			}
			params = nil
			break
		}
		if params != nil {
			p.i += k
			body, err := p.parseExpr()
			if err != nil {
				return nil, err
			}
			return &Lambda{P: t.pos, Params: params, Body: body}, nil
		}
	}
	return p.parseExpr()
}

func (p *parser) parseCase() (Node, error) {
	t := p.next() // CASE
	c := &Case{P: t.pos}
	if !p.peek().is("WHEN") {
		op, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		c.Operand = op
	}
	for p.acceptKw("WHEN") {
		cond, then, err := p.parseKwPair(p.parseExpr, "THEN")
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, When{Cond: cond, Then: then})
	}
	if len(c.Whens) == 0 {
		n := p.peek()
		return nil, newSyntaxError(p.src, n.pos, "expected WHEN, found %s", n.describe())
	}
	if p.acceptKw("ELSE") {
		e, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		c.Else = e
	}
	if err := p.expectKw("END"); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *parser) parseCast() (Node, error) {
	t := p.next()
	p.next() // (
	x, err := p.parseExpr()
	if err != nil {
		return nil, err
	}
	if err := p.expectKw("AS"); err != nil {
		return nil, err
	}
	ts, err := p.parseType()
	if err != nil {
		return nil, err
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	return &Cast{P: t.pos, X: x, TypeName: ts.String(), Try: strings.EqualFold(t.text, "try_cast")}, nil
}

// typeSpec is a parsed SQL type name.
type typeSpec struct {
	pos    int
	name   string // lower case: int, array, map, struct, decimal, …
	args   []int
	elems  []*typeSpec
	fields []string // struct field names
}

// String renders the type name canonically (lower case, quoted field names).
func (s *typeSpec) String() string {
	switch s.name {
	case "array":
		return "array<" + s.elems[0].String() + ">"
	case "map":
		return "map<" + s.elems[0].String() + "," + s.elems[1].String() + ">"
	case "struct":
		parts := make([]string, len(s.fields))
		for i, f := range s.fields {
			parts[i] = quoteIdent(f) + ":" + s.elems[i].String()
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	}
	if len(s.args) > 0 {
		return s.name + "(" + join(s.args, ",", strconv.Itoa) + ")"
	}
	return s.name
}

func (p *parser) parseType() (*typeSpec, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.next()
	if t.kind != tIdent {
		return nil, newSyntaxError(p.src, t.pos, "expected a type name, found %s", t.describe())
	}
	s := &typeSpec{pos: t.pos, name: strings.ToLower(t.text)}
	switch s.name {
	case "array", "map":
		k := 1
		if s.name == "map" {
			k = 2
		}
		elems, err := p.parseElemTypes(k)
		if err != nil {
			return nil, err
		}
		s.elems = elems
	case "struct":
		if err := p.expectOp("<"); err != nil {
			return nil, err
		}
		for !p.peek().isOp(">") {
			f := p.next()
			if f.kind != tIdent && f.kind != tQIdent {
				return nil, newSyntaxError(p.src, f.pos, "expected a field name, found %s", f.describe())
			}
			p.acceptOp(":")
			ft, err := p.parseType()
			if err != nil {
				return nil, err
			}
			s.fields = append(s.fields, nameOf(f))
			s.elems = append(s.elems, ft)
			if p.acceptOp(",") {
				continue
			}
			if !p.peek().isOp(">") {
				return nil, p.unexpected(p.peek())
			}
		}
		p.next()
	default:
		if p.acceptOp("(") {
			args, err := parseList(p, ")", func() (int, error) {
				n := p.next()
				v, err := strconv.Atoi(n.text)
				if n.kind != tNumber || err != nil {
					return 0, newSyntaxError(p.src, n.pos, "expected a number in type %s, found %s", s.name, n.describe())
				}
				return v, nil
			})
			if err != nil {
				return nil, err
			}
			s.args = args
		}
	}
	return s, nil
}

// parseElemTypes parses the k element types of an array or map type:
// <t1,…,tk>.
func (p *parser) parseElemTypes(k int) ([]*typeSpec, error) {
	if err := p.expectOp("<"); err != nil {
		return nil, err
	}
	elems := make([]*typeSpec, k)
	for i := range elems {
		if i > 0 {
			if err := p.expectOp(","); err != nil {
				return nil, err
			}
		}
		e, err := p.parseType()
		if err != nil {
			return nil, err
		}
		elems[i] = e
	}
	if err := p.expectOp(">"); err != nil {
		return nil, err
	}
	return elems, nil
}

// parseTypeName parses a type name such as "bigint" or "map<string,double>".
func parseTypeName(s string) (*typeSpec, error) {
	return parseAll(s, (*parser).parseType)
}
