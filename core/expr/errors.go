// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// SyntaxError is returned by Parse (and Compile) when the source text is not a
// valid expression. Pos is the byte offset of the offending token in the
// source, Line and Col are 1-based (Col counts runes). It prints as
// "line:col: message", for example `1:17: unexpected ")"`.
type SyntaxError struct {
	Pos  int
	Line int
	Col  int
	Msg  string
}

// Error implements error.
func (e *SyntaxError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// TypeError is returned by Compile when an expression parses but does not
// type-check against the input schema: an unknown column or function, a type
// mismatch, a bad argument count. Pos, Line and Col locate the offending
// sub-expression as in SyntaxError. It prints as "line:col: message", for
// example `1:5: unknown column "pric" (did you mean "price"?)`.
type TypeError struct {
	Pos  int
	Line int
	Col  int
	Msg  string
}

// Error implements error.
func (e *TypeError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// ErrInput is wrapped by the errors EvalRow, EvalBatch, Apply and ApplyRow
// return when their input does not match the compiled schema (a missing batch
// column, a Go value of the wrong type). Use errors.Is.
var ErrInput = errors.New("expr: input does not match schema")

// lineCol returns the 1-based line and column (in runes) of byte offset pos.
func lineCol(src string, pos int) (int, int) {
	if pos > len(src) {
		pos = len(src)
	}
	if pos < 0 {
		pos = 0
	}
	before := src[:pos]
	line := strings.Count(before, "\n") + 1
	if i := strings.LastIndexByte(before, '\n'); i >= 0 {
		before = before[i+1:]
	}
	return line, utf8.RuneCountInString(before) + 1
}

func newSyntaxError(src string, pos int, format string, args ...any) *SyntaxError {
	l, c := lineCol(src, pos)
	return &SyntaxError{Pos: pos, Line: l, Col: c, Msg: fmt.Sprintf(format, args...)}
}

func newTypeError(src string, pos int, format string, args ...any) *TypeError {
	l, c := lineCol(src, pos)
	return &TypeError{Pos: pos, Line: l, Col: c, Msg: fmt.Sprintf(format, args...)}
}
