// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"strings"
)

// Node is a parsed expression (the result of Parse). Concrete nodes are
// *Ident, *Literal, *Unary, *Binary, *Call, *Lambda, *Case, *Cast, *In,
// *Between, *Like, *IsNull, *Field and *Index. String renders a node back to
// SQL text that parses to an equal tree.
type Node interface {
	// Pos is the byte offset of the node in the parsed source.
	Pos() int
	// String renders the node as SQL.
	String() string
	node()
}

// Ident is a column or lambda variable reference. Quoted tells whether it
// was written in back quotes.
type Ident struct {
	P      int
	Name   string
	Quoted bool
}

// LitKind is the kind of a Literal.
type LitKind uint8

// Literal kinds.
const (
	LitNull LitKind = iota
	LitBool
	LitNumber
	LitString
	LitDate
	LitTimestamp
)

// Literal is a constant: null, true/false, a number (Raw keeps its text, with
// any L/S/Y/D/F/BD suffix), a string (Value holds its unescaped text), or a
// typed literal DATE 'yyyy-mm-dd' / TIMESTAMP '…' (Value holds the quoted
// text).
type Literal struct {
	P     int
	Kind  LitKind
	Raw   string
	Value string
	Bool  bool
}

// Unary is a prefix operator: "-", "+", "~" or "NOT".
type Unary struct {
	P  int
	Op string
	X  Node
}

// Binary is an infix operator. Op is one of + - * / % DIV || & | ^ = == !=
// <> < <= > >= <=> AND OR (upper case for the word operators).
type Binary struct {
	P    int
	Op   string
	L, R Node
}

// Call is a function call; Name is lower-cased.
type Call struct {
	P    int
	Name string
	Args []Node
}

// Lambda is a lambda function argument of a higher-order function, such as
// x -> x + 1 or (k, v) -> v > 0.
type Lambda struct {
	P      int
	Params []string
	Body   Node
}

// When is one WHEN … THEN … branch of a Case.
type When struct {
	Cond, Then Node
}

// Case is CASE [Operand] WHEN … THEN … [ELSE …] END. Else is nil when absent.
type Case struct {
	P       int
	Operand Node
	Whens   []When
	Else    Node
}

// Cast is CAST(X AS Type); TypeName is the type as written, normalised to
// lower case without blanks.
type Cast struct {
	P        int
	X        Node
	TypeName string
	Try      bool
}

// In is X [NOT] IN (List…).
type In struct {
	P    int
	X    Node
	List []Node
	Not  bool
}

// Between is X [NOT] BETWEEN Lo AND Hi.
type Between struct {
	P         int
	X, Lo, Hi Node
	Not       bool
}

// Like is X [NOT] LIKE Pattern [ESCAPE 'c'], or X [NOT] RLIKE Pattern when
// Regex is set. Escape is 0 when absent (the default escape is '\').
type Like struct {
	P          int
	X, Pattern Node
	Escape     rune
	Not        bool
	Regex      bool
}

// IsNull is X IS [NOT] NULL.
type IsNull struct {
	P   int
	X   Node
	Not bool
}

// Field is struct field access X.Name.
type Field struct {
	P    int
	X    Node
	Name string
}

// Index is X[Index]: 0-based array element or map lookup.
type Index struct {
	P     int
	X     Node
	Index Node
}

// Pos returns the byte offset of the node in the source.
func (n *Ident) Pos() int { return n.P }

// Pos returns the byte offset of the node in the source.
func (n *Literal) Pos() int { return n.P }

// Pos returns the byte offset of the node in the source.
func (n *Unary) Pos() int { return n.P }

// Pos returns the byte offset of the node in the source.
func (n *Binary) Pos() int { return n.P }

// Pos returns the byte offset of the node in the source.
func (n *Call) Pos() int { return n.P }

// Pos returns the byte offset of the node in the source.
func (n *Lambda) Pos() int { return n.P }

// Pos returns the byte offset of the node in the source.
func (n *Case) Pos() int { return n.P }

// Pos returns the byte offset of the node in the source.
func (n *Cast) Pos() int { return n.P }

// Pos returns the byte offset of the node in the source.
func (n *In) Pos() int { return n.P }

// Pos returns the byte offset of the node in the source.
func (n *Between) Pos() int { return n.P }

// Pos returns the byte offset of the node in the source.
func (n *Like) Pos() int { return n.P }

// Pos returns the byte offset of the node in the source.
func (n *IsNull) Pos() int { return n.P }

// Pos returns the byte offset of the node in the source.
func (n *Field) Pos() int { return n.P }

// Pos returns the byte offset of the node in the source.
func (n *Index) Pos() int { return n.P }

// node marks the AST node types.
func (*Ident) node()   {}
func (*Literal) node() {}
func (*Unary) node()   {}
func (*Binary) node()  {}
func (*Call) node()    {}
func (*Lambda) node()  {}
func (*Case) node()    {}
func (*Cast) node()    {}
func (*In) node()      {}
func (*Between) node() {}
func (*Like) node()    {}
func (*IsNull) node()  {}
func (*Field) node()   {}
func (*Index) node()   {}

func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// String renders the identifier, always back-quoted.
func (n *Ident) String() string { return quoteIdent(n.Name) }

// String renders the literal.
func (n *Literal) String() string {
	switch n.Kind {
	case LitNull:
		return "NULL"
	case LitBool:
		if n.Bool {
			return "TRUE"
		}
		return "FALSE"
	case LitNumber:
		return n.Raw
	case LitDate:
		return "DATE " + quoteSQL(n.Value)
	case LitTimestamp:
		return "TIMESTAMP " + quoteSQL(n.Value)
	}
	return quoteSQL(n.Value)
}

// String renders the operator application in parentheses.
func (n *Unary) String() string {
	if n.Op == "NOT" {
		return "(NOT " + n.X.String() + ")"
	}
	return "(" + n.Op + n.X.String() + ")"
}

// String renders the operator application in parentheses.
func (n *Binary) String() string {
	return "(" + n.L.String() + " " + n.Op + " " + n.R.String() + ")"
}

// String renders the call.
func (n *Call) String() string { return n.Name + "(" + join(n.Args, ", ", Node.String) + ")" }

// join renders each of xs with str and joins them with sep.
func join[T any](xs []T, sep string, str func(T) string) string {
	ss := make([]string, len(xs))
	for i, x := range xs {
		ss[i] = str(x)
	}
	return strings.Join(ss, sep)
}

// notWord is " NOT" when not is set, else "".
func notWord(not bool) string {
	if not {
		return " NOT"
	}
	return ""
}

// String renders the lambda.
func (n *Lambda) String() string {
	return "(" + join(n.Params, ", ", quoteIdent) + ") -> " + n.Body.String()
}

// String renders the CASE expression.
func (n *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	if n.Operand != nil {
		b.WriteString(" " + n.Operand.String())
	}
	for _, w := range n.Whens {
		b.WriteString(" WHEN " + w.Cond.String() + " THEN " + w.Then.String())
	}
	if n.Else != nil {
		b.WriteString(" ELSE " + n.Else.String())
	}
	b.WriteString(" END")
	return b.String()
}

// String renders the cast.
func (n *Cast) String() string {
	kw := "CAST"
	if n.Try {
		kw = "TRY_CAST"
	}
	return kw + "(" + n.X.String() + " AS " + n.TypeName + ")"
}

// String renders the IN predicate.
func (n *In) String() string {
	return "(" + n.X.String() + notWord(n.Not) + " IN (" + join(n.List, ", ", Node.String) + "))"
}

// String renders the BETWEEN predicate.
func (n *Between) String() string {
	return "(" + n.X.String() + notWord(n.Not) + " BETWEEN " + n.Lo.String() + " AND " + n.Hi.String() + ")"
}

// String renders the LIKE or RLIKE predicate.
func (n *Like) String() string {
	op := " LIKE "
	if n.Regex {
		op = " RLIKE "
	}
	s := "(" + n.X.String() + notWord(n.Not) + op + n.Pattern.String()
	if n.Escape != 0 {
		s += " ESCAPE " + quoteSQL(string(n.Escape))
	}
	return s + ")"
}

// String renders the IS NULL predicate.
func (n *IsNull) String() string { return "(" + n.X.String() + " IS" + notWord(n.Not) + " NULL)" }

// String renders the field access.
func (n *Field) String() string { return "(" + n.X.String() + ")." + quoteIdent(n.Name) }

// String renders the subscript.
func (n *Index) String() string { return "(" + n.X.String() + ")[" + n.Index.String() + "]" }
