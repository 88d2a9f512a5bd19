// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
)

// jsonKind is the kind of a JSON value.
type jsonKind uint8

const (
	jsonNull jsonKind = 1 << iota
	jsonBool
	jsonInt // an integral number fitting int64
	jsonFloat
	jsonString
	jsonNested // an array or object
)

// jsonValue is one value of a flat JSON object. text is the decoded string
// for a string, the literal for a number, and the compact JSON text of an
// array or object.
type jsonValue struct {
	kind jsonKind
	text string
	b    bool
}

// lineReader reads lines of any length, counting them.
type lineReader struct {
	br   *bufio.Reader
	buf  []byte
	line int64
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 64*1024)}
}

// next returns the next line without its line ending, or io.EOF. The slice is
// valid until the next call.
func (lr *lineReader) next() ([]byte, error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.br.ReadSlice('\n')
		lr.buf = append(lr.buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			if len(lr.buf) == 0 {
				return nil, io.EOF
			}
		} else if err != nil {
			return nil, fmt.Errorf("read jsonl: %w", err)
		}
		lr.line++
		b := bytes.TrimSuffix(lr.buf, []byte("\n"))
		return bytes.TrimSuffix(b, []byte("\r")), nil
	}
}

// jsonObjectParser parses one flat JSON object per line.
type jsonObjectParser struct {
	s       []byte
	i       int
	compact bytes.Buffer
}

var errNotObject = errors.New("not a JSON object")

// parse calls visit for each member of the object in s, in order. It returns
// errNotObject when s holds another JSON value, a syntax error otherwise, or
// visit's error.
func (p *jsonObjectParser) parse(s []byte, visit func(key string, v jsonValue) error) error {
	p.s, p.i = s, 0
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		if p.i < len(p.s) && json.Valid(p.s) {
			return errNotObject
		}
		return p.syntax("want '{'")
	}
	p.i++
	p.ws()
	if p.peek() == '}' {
		p.i++
	} else {
		for {
			p.ws()
			if p.peek() != '"' {
				return p.syntax("want a string key")
			}
			key, err := p.str()
			if err != nil {
				return err
			}
			p.ws()
			if p.peek() != ':' {
				return p.syntax("want ':' after key")
			}
			p.i++
			p.ws()
			v, err := p.value()
			if err != nil {
				return err
			}
			if err := visit(key, v); err != nil {
				return err
			}
			p.ws()
			c := p.peek()
			p.i++
			if c == '}' {
				break
			}
			if c != ',' {
				p.i--
				return p.syntax("want ',' or '}'")
			}
		}
	}
	p.ws()
	if p.i != len(p.s) {
		return p.syntax("data after the object")
	}
	return nil
}

func (p *jsonObjectParser) syntax(msg string) error {
	return fmt.Errorf("bad JSON at byte %d: %s", p.i+1, msg)
}

func (p *jsonObjectParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *jsonObjectParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

// str parses a string starting at the opening quote.
func (p *jsonObjectParser) str() (string, error) {
	start := p.i
	p.i++
	escaped := false
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '\\':
			escaped = true
			p.i += 2
			continue
		case c == '"':
			p.i++
			if !escaped {
				return string(p.s[start+1 : p.i-1]), nil
			}
			var out string
			if err := json.Unmarshal(p.s[start:p.i], &out); err != nil {
				p.i = start
				return "", p.syntax("bad string escape")
			}
			return out, nil
		case c < 0x20:
			return "", p.syntax("control character in string")
		}
		p.i++
	}
	p.i = start
	return "", p.syntax("unterminated string")
}

func (p *jsonObjectParser) literal(word string) bool {
	if bytes.HasPrefix(p.s[p.i:], []byte(word)) {
		p.i += len(word)
		return true
	}
	return false
}

func (p *jsonObjectParser) value() (jsonValue, error) {
	switch c := p.peek(); {
	case c == '"':
		s, err := p.str()
		return jsonValue{kind: jsonString, text: s}, err
	case c == 't' && p.literal("true"):
		return jsonValue{kind: jsonBool, b: true}, nil
	case c == 'f' && p.literal("false"):
		return jsonValue{kind: jsonBool}, nil
	case c == 'n' && p.literal("null"):
		return jsonValue{kind: jsonNull}, nil
	case c == '{' || c == '[':
		return p.nested()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return jsonValue{}, p.syntax("want a value")
}

// number parses a JSON number (RFC 8259 grammar).
func (p *jsonObjectParser) number() (jsonValue, error) {
	start := p.i
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	integral := true
	if p.peek() == '-' {
		p.i++
	}
	if p.peek() == '0' {
		p.i++
	} else if digits() == 0 {
		return jsonValue{}, p.syntax("bad number")
	}
	if p.peek() == '.' {
		integral = false
		p.i++
		if digits() == 0 {
			return jsonValue{}, p.syntax("bad number")
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		integral = false
		p.i++
		if c := p.peek(); c == '+' || c == '-' {
			p.i++
		}
		if digits() == 0 {
			return jsonValue{}, p.syntax("bad number")
		}
	}
	text := string(p.s[start:p.i])
	kind := jsonFloat
	if integral {
		if _, err := strconv.ParseInt(text, 10, 64); err == nil {
			kind = jsonInt
		}
	}
	return jsonValue{kind: kind, text: text}, nil
}

// nested parses an array or object, returning its compact JSON text.
func (p *jsonObjectParser) nested() (jsonValue, error) {
	start := p.i
	depth := 0
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '"':
			if _, err := p.str(); err != nil {
				return jsonValue{}, err
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
		}
		p.i++
		if depth == 0 {
			raw := p.s[start:p.i]
			p.compact.Reset()
			if err := json.Compact(&p.compact, raw); err != nil {
				p.i = start
				return jsonValue{}, p.syntax("bad nested value: " + err.Error())
			}
			return jsonValue{kind: jsonNested, text: p.compact.String()}, nil
		}
	}
	p.i = start
	return jsonValue{}, p.syntax("unterminated array or object")
}

// shown formats v for an error message.
func (v jsonValue) shown() string {
	switch v.kind {
	case jsonString:
		return strconv.Quote(v.text)
	case jsonBool:
		return strconv.FormatBool(v.b)
	case jsonNull:
		return "null"
	}
	return v.text
}

// typeOfKinds maps the kinds seen in a column to its inferred type.
func typeOfKinds(k jsonKind) arrow.DataType {
	k &^= jsonNull
	switch {
	case k == 0:
		return arrow.BinaryTypes.String
	case k == jsonInt:
		return arrow.PrimitiveTypes.Int64
	case k&^(jsonInt|jsonFloat) == 0:
		return arrow.PrimitiveTypes.Float64
	case k == jsonBool:
		return arrow.FixedWidthTypes.Boolean
	}
	return arrow.BinaryTypes.String
}

// InferJSONL reads JSON Lines input (one JSON object per line; blank lines
// are skipped) and returns its schema: one nullable field per key, in order
// of first appearance, typed by overrides when they name the key and
// otherwise inferred from its values: long when every non-null value is an
// integral number fitting int64, double when every one is a number, boolean
// when every one is a boolean, and string otherwise (arrays and objects are
// kept as their JSON text; all-null columns are strings). It also returns the
// number of objects. Overrides naming keys the input lacks are ignored (see
// SchemaSpec.Missing). Errors name the line.
func InferJSONL(r io.Reader, overrides SchemaSpec) (*arrow.Schema, int64, error) {
	if err := checkOverridesDecodable(overrides); err != nil {
		return nil, 0, err
	}
	lr := newLineReader(r)
	var (
		p     jsonObjectParser
		names []string
		kinds []jsonKind
		rows  int64
	)
	index := map[string]int{}
	visit := func(key string, v jsonValue) error {
		i, ok := index[key]
		if !ok {
			i = len(names)
			index[key] = i
			names = append(names, key)
			kinds = append(kinds, 0)
		}
		kinds[i] |= v.kind
		return nil
	}
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := p.parse(line, visit); err != nil {
			return nil, 0, &DecodeError{Line: lr.line, Msg: err.Error()}
		}
		rows++
	}
	return buildSchema(names, overrides, func(i int) arrow.DataType { return typeOfKinds(kinds[i]) }), rows, nil
}

// JSONLDecoder decodes JSON Lines input (one flat JSON object per line; blank
// lines are skipped) into record batches of a given schema. A missing key or
// a JSON null is null. A string column takes strings as they are, and
// numbers, booleans, arrays and objects as their JSON text. Numeric and
// boolean columns also take strings holding their values, and treat the
// empty string as null. Every key must be a schema field. It implements
// RecordDecoder.
type JSONLDecoder struct {
	decoder
	lr    *lineReader
	index map[string]int
	set   []int64 // set[i] is the last line that gave column i a value
	p     jsonObjectParser
	visit func(key string, v jsonValue) error
}

var _ RecordDecoder = (*JSONLDecoder)(nil)

// NewJSONLDecoder returns a decoder reading r into batches of schema. Field
// types must be string, int64, int32, float64, float32 or boolean.
func NewJSONLDecoder(r io.Reader, schema *arrow.Schema, opts DecodeOptions) (*JSONLDecoder, error) {
	if err := checkDecodable(schema); err != nil {
		return nil, err
	}
	d := &JSONLDecoder{
		decoder: newDecoder(schema, opts), lr: newLineReader(r),
		index: make(map[string]int, schema.NumFields()), set: make([]int64, schema.NumFields()),
	}
	for i, f := range schema.Fields() {
		d.index[f.Name] = i
	}
	d.visit = d.appendValue
	return d, nil
}

// Next implements RecordDecoder.
func (d *JSONLDecoder) Next() (arrow.RecordBatch, error) { return d.next(d.row) }

// row appends the object of the next non-blank line.
func (d *JSONLDecoder) row() (int64, error) {
	for {
		line, err := d.lr.next()
		if err != nil {
			return 0, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := d.p.parse(line, d.visit); err != nil {
			var de *DecodeError
			if !errors.As(err, &de) {
				err = &DecodeError{Line: d.lr.line, Msg: err.Error()}
			}
			return 0, err
		}
		for i, w := range d.cols {
			if d.set[i] != d.lr.line {
				w.appendNull()
			}
		}
		return d.lr.line, nil
	}
}

// appendValue appends one member of the current line's object.
func (d *JSONLDecoder) appendValue(key string, v jsonValue) error {
	line := d.lr.line
	i, ok := d.index[key]
	if !ok {
		return &DecodeError{Line: line, Column: key, Msg: "is not in the schema"}
	}
	if d.set[i] == line {
		return &DecodeError{Line: line, Column: key, Msg: "appears twice in the object"}
	}
	d.set[i] = line
	w := d.cols[i]
	if v.kind == jsonNull {
		w.appendNull()
		return nil
	}
	if w.str != nil {
		switch v.kind {
		case jsonBool:
			w.str.Append(strconv.FormatBool(v.b))
		default:
			w.str.Append(v.text)
		}
		return nil
	}
	ok = false
	switch v.kind {
	case jsonString:
		if v.text == "" {
			w.appendNull()
			return nil
		}
		ok = w.appendText(v.text)
	case jsonInt, jsonFloat:
		if w.bl == nil {
			ok = w.appendText(v.text)
		}
	case jsonBool:
		if w.bl != nil {
			w.bl.Append(v.b)
			ok = true
		}
	}
	if !ok {
		return &DecodeError{Line: line, Column: key, Msg: notA(v.shown(), w.typ)}
	}
	return nil
}
