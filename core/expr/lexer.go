// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // bare identifier or keyword
	tQIdent         // `back quoted` identifier
	tNumber         // numeric literal, raw text kept
	tString         // string literal, val holds the unescaped text
	tOp             // operator or punctuation
)

type token struct {
	kind tokKind
	pos  int
	text string // raw text (identifier, number, operator)
	val  string // unescaped value for strings and quoted identifiers
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return "string " + quoteSQL(t.val)
	case tQIdent:
		return "identifier `" + t.val + "`"
	}
	return "\"" + t.text + "\""
}

// is reports whether t is the keyword kw (case-insensitive bare identifier).
func (t token) is(kw string) bool { return t.kind == tIdent && strings.EqualFold(t.text, kw) }

// isOp reports whether t is the operator op.
func (t token) isOp(op string) bool { return t.kind == tOp && t.text == op }

var ops3 = []string{"<=>"}
var ops2 = []string{"<>", "<=", ">=", "==", "!=", "->", "||", "&&"}

const ops1 = "+-*/%=<>(),.[]!&|^~:"

// lex splits src into tokens, ending with a tEOF token.
func lex(src string) ([]token, error) {
	var toks []token
	i := 0
	for {
		// skip blanks and comments
		for i < len(src) {
			c := src[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' {
				i++
				continue
			}
			if c == '-' && i+1 < len(src) && src[i+1] == '-' {
				for i < len(src) && src[i] != '\n' {
					i++
				}
				continue
			}
			if c == '/' && i+1 < len(src) && src[i+1] == '*' {
				end := strings.Index(src[i+2:], "*/")
				if end < 0 {
					return nil, newSyntaxError(src, i, "unterminated comment")
				}
				i += end + 4
				continue
			}
			break
		}
		if i >= len(src) {
			toks = append(toks, token{kind: tEOF, pos: len(src)})
			return toks, nil
		}
		start := i
		c := src[i]
		switch {
		case c == '\'' || c == '"':
			val, n, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			i += n
			toks = append(toks, token{kind: tString, pos: start, text: src[start:i], val: val})
		case c == '`':
			val, j, ok := readQuoted(src, i, '`')
			if !ok {
				return nil, newSyntaxError(src, start, "unterminated quoted identifier")
			}
			i = j
			toks = append(toks, token{kind: tQIdent, pos: start, text: src[start:i], val: val})
		case isDigit(c) || (c == '.' && i+1 < len(src) && isDigit(src[i+1])):
			n, err := lexNumber(src, i)
			if err != nil {
				return nil, err
			}
			i += n
			toks = append(toks, token{kind: tNumber, pos: start, text: src[start:i]})
		case c == '_' || c >= utf8.RuneSelf || isLetter(c):
			j := i
			for j < len(src) {
				r, w := utf8.DecodeRuneInString(src[j:])
				if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
					j += w
					continue
				}
				break
			}
			if j == i {
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, newSyntaxError(src, i, "unexpected character %q", r)
			}
			i = j
			toks = append(toks, token{kind: tIdent, pos: start, text: src[start:i]})
		default:
			matched := ""
			for _, op := range ops3 {
				if strings.HasPrefix(src[i:], op) {
					matched = op
				}
			}
			if matched == "" {
				for _, op := range ops2 {
					if strings.HasPrefix(src[i:], op) {
						matched = op
						break
					}
				}
			}
			if matched == "" && strings.IndexByte(ops1, c) >= 0 {
				matched = src[i : i+1]
			}
			if matched == "" {
				r, _ := utf8.DecodeRuneInString(src[i:])
				return nil, newSyntaxError(src, i, "unexpected character %q", r)
			}
			i += len(matched)
			toks = append(toks, token{kind: tOp, pos: start, text: matched})
		}
	}
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// lexNumber scans a numeric literal at src[i:]: digits, an optional fraction,
// an optional exponent and an optional type suffix (L, S, Y, D, F, BD).
func lexNumber(src string, i int) (int, error) {
	j := i
	for j < len(src) && isDigit(src[j]) {
		j++
	}
	if j < len(src) && src[j] == '.' {
		j++
		for j < len(src) && isDigit(src[j]) {
			j++
		}
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if k < len(src) && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < len(src) && isDigit(src[k]) {
			for k < len(src) && isDigit(src[k]) {
				k++
			}
			j = k
		}
	}
	// suffix
	if j+1 < len(src) && (src[j] == 'B' || src[j] == 'b') && (src[j+1] == 'D' || src[j+1] == 'd') {
		j += 2
	} else if j < len(src) && strings.IndexByte("LlSsYyDdFf", src[j]) >= 0 {
		j++
	}
	// a number directly followed by an identifier character is malformed
	if j < len(src) {
		r, _ := utf8.DecodeRuneInString(src[j:])
		if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) {
			return 0, newSyntaxError(src, i, "malformed number %q", src[i:j+utf8.RuneLen(r)])
		}
	}
	return j - i, nil
}

// lexString scans a quoted string literal at src[i:] and returns its value
// and length. Escapes follow Spark's unescapeSQLString: \n \t \r \b \0 \Z,
// \uXXXX, octal \ooo, \% and \_ are kept with their backslash (for LIKE),
// any other escaped character stands for itself.
func lexString(src string, i int) (string, int, error) {
	q := src[i]
	var b strings.Builder
	j := i + 1
	for j < len(src) {
		c := src[j]
		if c == q {
			return b.String(), j + 1 - i, nil
		}
		if c != '\\' {
			b.WriteByte(c)
			j++
			continue
		}
		if j+1 >= len(src) {
			break
		}
		n := src[j+1]
		switch n {
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'Z':
			b.WriteByte(0x1a)
		case '%', '_':
			b.WriteByte('\\')
			b.WriteByte(n)
		case 'u':
			if j+6 <= len(src) && isHex(src[j+2:j+6]) {
				r := rune(hexVal(src[j+2 : j+6]))
				b.WriteRune(r)
				j += 6
				continue
			}
			b.WriteByte('u')
		case '0', '1', '2', '3':
			if j+4 <= len(src) && isOct(src[j+1:j+4]) {
				v := (int(src[j+1]-'0') << 6) | (int(src[j+2]-'0') << 3) | int(src[j+3]-'0')
				b.WriteByte(byte(v))
				j += 4
				continue
			}
			if n == '0' {
				b.WriteByte(0)
			} else {
				b.WriteByte(n)
			}
		default:
			b.WriteByte(n)
		}
		j += 2
	}
	return "", 0, newSyntaxError(src, i, "unterminated string literal")
}

// readQuoted reads the text quoted by q whose opening quote is s[i]; a
// doubled q inside stands for one. It returns the text and the index after
// the closing quote, or false when there is none.
func readQuoted(s string, i int, q byte) (string, int, bool) {
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		if s[j] != q {
			b.WriteByte(s[j])
			continue
		}
		if j+1 < len(s) && s[j+1] == q {
			b.WriteByte(q)
			j++
			continue
		}
		return b.String(), j + 1, true
	}
	return "", 0, false
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func hexVal(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			v = v*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v*16 + int(c-'a') + 10
		default:
			v = v*16 + int(c-'A') + 10
		}
	}
	return v
}

func isOct(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '7' {
			return false
		}
	}
	return true
}

// quoteSQL renders s as a single-quoted SQL literal that lexString reads back
// to s. Backslash sequences \% and \_ are kept as they are, since lexString
// keeps them too.
func quoteSQL(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\'':
			b.WriteString(`\'`)
		case '\\':
			if i+1 < len(s) && (s[i+1] == '%' || s[i+1] == '_') {
				b.WriteByte('\\')
				b.WriteByte(s[i+1])
				i++
				continue
			}
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		case 0:
			b.WriteString(`\000`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteByte('\\')
				b.WriteByte('0' + c>>6)
				b.WriteByte('0' + (c>>3)&7)
				b.WriteByte('0' + c&7)
				continue
			}
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}
