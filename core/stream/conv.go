// SPDX-License-Identifier: Apache-2.0

package stream

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/expr"
)

// kind is what a converter produces.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindInt
	kindFloat
	kindString
	kindBinary
	kindDate
	kindTimestamp
	kindList
	kindMap
	kindStruct
)

// conv converts message values to the Go value of one Arrow type, in
// core/expr's value convention (bool, int8..int64, float32/float64, string,
// []byte, expr.Date, time.Time in UTC, []any, map[string]any, nil).
type conv struct {
	kind kind
	name string // the type's name in messages
	bits int    // integer and float width
	size int    // fixed-size binary width, else 0
	elem *conv  // list element or map item
	// members are a struct's fields in order.
	members []member
	casts   *casts
}

type member struct {
	name string
	conv *conv
}

// casts are core/expr's CAST(string AS DATE/TIMESTAMP), so that text dates
// and times in messages mean what they mean in a select or a where: Spark's
// formats, UTC unless the text names a zone.
type casts struct {
	date, ts *expr.Program
}

func newCasts() (*casts, error) {
	s := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	date, err := expr.Compile("CAST(v AS DATE)", s)
	if err != nil {
		return nil, fmt.Errorf("stream: date cast: %w", err)
	}
	ts, err := expr.Compile("CAST(v AS TIMESTAMP)", s)
	if err != nil {
		return nil, fmt.Errorf("stream: timestamp cast: %w", err)
	}
	return &casts{date: date, ts: ts}, nil
}

// newConv returns the converter of column type t, or an error for a type
// core/expr cannot read.
func newConv(t arrow.DataType, cs *casts) (*conv, error) {
	t = batch.ValueType(t)
	c := &conv{name: typeName(t), casts: cs}
	switch t.ID() {
	case arrow.NULL:
		c.kind = kindNull
	case arrow.BOOL:
		c.kind = kindBool
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		c.kind, c.bits = kindInt, t.(arrow.FixedWidthDataType).BitWidth()
	case arrow.FLOAT32, arrow.FLOAT64:
		c.kind, c.bits = kindFloat, t.(arrow.FixedWidthDataType).BitWidth()
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		c.kind = kindString
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
		c.kind = kindBinary
	case arrow.FIXED_SIZE_BINARY:
		c.kind, c.size = kindBinary, t.(*arrow.FixedSizeBinaryType).ByteWidth
	case arrow.DATE32, arrow.DATE64:
		c.kind = kindDate
	case arrow.TIMESTAMP:
		c.kind = kindTimestamp
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW:
		e, err := newConv(t.(arrow.ListLikeType).Elem(), cs)
		if err != nil {
			return nil, err
		}
		c.kind, c.elem = kindList, e
	case arrow.MAP:
		mt := t.(*arrow.MapType)
		if k := batch.ValueType(mt.KeyType()).ID(); k != arrow.STRING && k != arrow.LARGE_STRING && k != arrow.STRING_VIEW {
			return nil, fmt.Errorf("map keys must be strings, not %s", typeName(mt.KeyType()))
		}
		e, err := newConv(mt.ItemType(), cs)
		if err != nil {
			return nil, err
		}
		c.kind, c.elem = kindMap, e
	case arrow.STRUCT:
		st := t.(*arrow.StructType)
		c.kind = kindStruct
		for _, f := range st.Fields() {
			fc, err := newConv(f.Type, cs)
			if err != nil {
				return nil, fmt.Errorf("struct field %q: %w", f.Name, err)
			}
			c.members = append(c.members, member{name: f.Name, conv: fc})
		}
	default:
		return nil, fmt.Errorf("unsupported type %s", t)
	}
	return c, nil
}

// fromText converts a CSV field, or a JSON string, to the column's value.
func (c *conv) fromText(s string) (any, error) {
	switch c.kind {
	case kindNull:
		return nil, nil
	case kindString:
		return s, nil
	case kindBinary:
		return c.bytes(s)
	case kindBool:
		if b, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
			return b, nil
		}
	case kindInt:
		return c.parseInt(strings.TrimSpace(s), quote(s))
	case kindFloat:
		return c.parseFloat(strings.TrimSpace(s), quote(s))
	case kindDate:
		if v, err := c.casts.date.EvalRow(map[string]any{"v": s}); err == nil && v != nil {
			return v, nil
		}
	case kindTimestamp:
		t := strings.TrimSpace(s)
		if n, err := strconv.ParseInt(t, 10, 64); err == nil {
			return c.millis(n, quote(s))
		}
		if v, err := c.casts.ts.EvalRow(map[string]any{"v": s}); err == nil && v != nil {
			return v, nil
		}
	case kindList, kindMap, kindStruct:
		// A nested value in a CSV field (or a JSON string) is JSON text.
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("cannot parse %s as %s: %w", quote(s), c.name, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return nil, fmt.Errorf("cannot parse %s as %s: data after the JSON value", quote(s), c.name)
		}
		if _, isString := v.(string); isString {
			// "\"[1]\"" is a string, not an array: do not unwrap twice.
			return nil, fmt.Errorf("cannot use a string as %s", c.name)
		}
		return c.fromJSON(v)
	}
	return nil, fmt.Errorf("cannot parse %s as %s", quote(s), c.name)
}

// fromJSON converts a value decoded by encoding/json with UseNumber.
func (c *conv) fromJSON(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return c.fromText(x)
	case json.Number:
		return c.fromNumber(x)
	case bool:
		switch c.kind {
		case kindNull:
			return nil, nil
		case kindBool:
			return x, nil
		case kindString:
			return strconv.FormatBool(x), nil
		}
		return nil, fmt.Errorf("cannot use %t as %s", x, c.name)
	case []any:
		if c.kind == kindNull {
			return nil, nil
		}
		if c.kind != kindList {
			return nil, fmt.Errorf("cannot use an array as %s", c.name)
		}
		out := make([]any, len(x))
		for i, e := range x {
			ev, err := c.elem.fromJSON(e)
			if err != nil {
				return nil, &pathError{seg: "[" + strconv.Itoa(i) + "]", err: err}
			}
			out[i] = ev
		}
		return out, nil
	case map[string]any:
		switch c.kind {
		case kindNull:
			return nil, nil
		case kindMap:
			out := make(map[string]any, len(x))
			for k, e := range x {
				ev, err := c.elem.fromJSON(e)
				if err != nil {
					return nil, &pathError{seg: "[" + strconv.Quote(k) + "]", err: err}
				}
				out[k] = ev
			}
			return out, nil
		case kindStruct:
			// Every field is present, nil when missing, as core/expr
			// builds structs; members the struct lacks are ignored.
			out := make(map[string]any, len(c.members))
			for _, m := range c.members {
				mv, err := m.conv.fromJSON(x[m.name])
				if err != nil {
					return nil, &pathError{seg: "." + m.name, err: err}
				}
				out[m.name] = mv
			}
			return out, nil
		}
		return nil, fmt.Errorf("cannot use an object as %s", c.name)
	}
	return nil, fmt.Errorf("cannot use %T as %s", v, c.name)
}

// fromNumber converts a JSON number. Only conversions that lose nothing are
// made (as core/online.CoerceKey does for request keys): 5 and 5.0 reach a
// long, 5.5 does not; any number reaches a string as written.
func (c *conv) fromNumber(n json.Number) (any, error) {
	s := n.String()
	switch c.kind {
	case kindNull:
		return nil, nil
	case kindString:
		return s, nil
	case kindInt:
		return c.parseInt(s, short(s))
	case kindFloat:
		return c.parseFloat(s, short(s))
	case kindTimestamp:
		// A number is epoch milliseconds, Chronon's event-time convention.
		i, err := toInt64(s)
		if err != nil {
			return nil, c.intError(err, short(s))
		}
		return c.millis(i, short(s))
	}
	return nil, fmt.Errorf("cannot use %s as %s", short(s), c.name)
}

// Reasons toInt64 fails.
var (
	errSyntax   = errors.New("not a number")
	errRange    = errors.New("out of range")
	errFraction = errors.New("has a fraction")
	errInexact  = errors.New("too large to be exact")
)

// toInt64 parses a decimal integer, or a number literal with a zero
// fraction ("5.0", "1e3") whose value a float64 holds exactly (|x| <= 2^53;
// beyond, "9007199254740993.0" would silently become ...992).
func toInt64(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil {
		return n, nil
	}
	if errors.Is(err, strconv.ErrRange) {
		return 0, errRange
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, errRange
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		return 0, errSyntax
	case f != math.Trunc(f):
		return 0, errFraction
	case math.Abs(f) > 1<<53:
		return 0, errInexact
	}
	return int64(f), nil
}

// intError is the reason s (shown as shown) is not a value of c.
func (c *conv) intError(err error, shown string) error {
	switch err {
	case errRange:
		return fmt.Errorf("%s is out of range for %s", shown, c.name)
	case errFraction:
		return fmt.Errorf("cannot use %s as %s: it has a fraction", shown, c.name)
	case errInexact:
		return fmt.Errorf("cannot use %s as %s exactly: write it as an integer", shown, c.name)
	}
	return fmt.Errorf("cannot parse %s as %s", shown, c.name)
}

// parseInt parses s (see toInt64) as a value of the column's width. shown
// is s as messages show it.
func (c *conv) parseInt(s, shown string) (any, error) {
	n, err := toInt64(s)
	if err != nil {
		return nil, c.intError(err, shown)
	}
	switch c.bits {
	case 8:
		if n == int64(int8(n)) {
			return int8(n), nil
		}
	case 16:
		if n == int64(int16(n)) {
			return int16(n), nil
		}
	case 32:
		if n == int64(int32(n)) {
			return int32(n), nil
		}
	default:
		return n, nil
	}
	return nil, c.intError(errRange, shown)
}

func (c *conv) parseFloat(s, shown string) (any, error) {
	f, err := strconv.ParseFloat(s, c.bits)
	if errors.Is(err, strconv.ErrRange) {
		return nil, fmt.Errorf("%s is out of range for %s", shown, c.name)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot parse %s as %s", shown, c.name)
	}
	if c.bits == 32 {
		return float32(f), nil
	}
	return f, nil
}

func (c *conv) bytes(s string) (any, error) {
	if c.size > 0 && len(s) != c.size {
		return nil, fmt.Errorf("%s has %d bytes, %s needs %d", quote(s), len(s), c.name, c.size)
	}
	return []byte(s), nil
}

// maxMillis keeps a timestamp's microseconds (core/expr's Arrow unit)
// within an int64.
const maxMillis = math.MaxInt64 / 1000

// millis is the timestamp of epoch milliseconds ms.
func (c *conv) millis(ms int64, shown string) (any, error) {
	if ms > maxMillis || ms < -maxMillis {
		return nil, fmt.Errorf("%s is out of range for %s (epoch milliseconds)", shown, c.name)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// maxShown is the most bytes of a value an error message quotes: reasons
// travel as dead-letter attributes, which Pub/Sub limits to 1024 bytes.
const maxShown = 64

// truncate cuts s to at most maxShown bytes, at a rune boundary.
func truncate(s string) string {
	if len(s) <= maxShown {
		return s
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// short is s, truncated, for a message.
func short(s string) string {
	if t := truncate(s); len(t) < len(s) {
		return t + "..."
	}
	return s
}

// quote is s quoted, truncated, for a message.
func quote(s string) string {
	if t := truncate(s); len(t) < len(s) {
		return strconv.Quote(t) + "..."
	}
	return strconv.Quote(s)
}
