// SPDX-License-Identifier: Apache-2.0

package stream

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/batch"
)

// DecodeError is a message that cannot be decoded. Field is the column at
// fault, with a path into nested values ("address.zip", "tags[2]"), or ""
// when the whole message is (bad JSON, wrong CSV field count).
type DecodeError struct {
	Field string
	Msg   string
}

// Error implements error: "field user_id: cannot parse \"x\" as long".
func (e *DecodeError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return "field " + e.Field + ": " + e.Msg
}

// Decoder turns message payloads into rows of a source schema. It is
// immutable and safe for concurrent use.
type Decoder struct {
	// cols are the schema's decodable columns, by name.
	cols map[string]column
	// fields is the topic's CSV column order; csv[i] is the converter of
	// fields[i], nil for a column of a type the decoder skips.
	fields []string
	csv    []*conv
}

// NewDecoder returns a decoder of topic's messages into rows of schema,
// normally the source table's schema. Columns of types core/expr cannot
// read (unsigned integers, decimals, ...) are skipped: no query can use
// them, so their values are not decoded and never fail a message. Every
// name in topic.Fields must be a column of schema, which catches a typo in
// fields= before it nulls a column of every message.
func NewDecoder(topic Topic, schema *arrow.Schema) (*Decoder, error) {
	if schema == nil {
		return nil, errors.New("stream: decoder needs a schema")
	}
	casts, err := newCasts()
	if err != nil {
		return nil, err
	}
	d := &Decoder{cols: make(map[string]column, schema.NumFields()), fields: slices.Clone(topic.Fields)}
	known := make(map[string]bool, schema.NumFields())
	for i, f := range schema.Fields() {
		if known[f.Name] {
			continue // a duplicate name: the first column wins, as in lookups by name
		}
		known[f.Name] = true
		if c, err := newConv(f.Type, casts); err == nil {
			d.cols[f.Name] = column{index: i, conv: c}
		}
	}
	for _, name := range topic.Fields {
		if !known[name] {
			return nil, fmt.Errorf("stream: topic %s: field %q of fields= is not a column of the source schema (%s)",
				topic.ID, name, strings.Join(schemaNames(schema), ", "))
		}
		d.csv = append(d.csv, d.cols[name].conv)
	}
	return d, nil
}

func schemaNames(s *arrow.Schema) []string {
	out := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = f.Name
	}
	return out
}

var bom = []byte("\xef\xbb\xbf")

// Decode decodes one message payload: a JSON object when its first
// non-blank byte is "{", else a CSV record in the topic's fields= order.
// The row holds the non-null values of the schema columns the message
// carries; a column it does not carry is absent, which core/expr reads as
// null. Errors are *DecodeError.
func (d *Decoder) Decode(payload []byte) (map[string]any, error) {
	p := bytes.TrimPrefix(payload, bom)
	trimmed := bytes.TrimLeft(p, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil, &DecodeError{Msg: "empty message"}
	case trimmed[0] == '{':
		return d.decodeJSON(trimmed)
	case len(d.fields) > 0:
		return d.decodeCSV(p)
	}
	return nil, &DecodeError{Msg: "not a JSON object, and the topic has no fields= to read it as CSV"}
}

func (d *Decoder) decodeJSON(p []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(p))
	// Numbers stay text until the column type is known: a long beyond 2^53
	// or a decimal string keeps every digit.
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, &DecodeError{Msg: "bad JSON: " + err.Error()}
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &DecodeError{Msg: "bad JSON: data after the object"}
	}
	row := make(map[string]any, min(len(obj), len(d.cols)))
	var firstErr error
	errAt := -1
	for k, v := range obj {
		c, ok := d.cols[k]
		if !ok || v == nil || (errAt >= 0 && c.index > errAt) {
			continue
		}
		out, err := c.conv.fromJSON(v)
		if err != nil {
			// Report the first bad column in schema order, not in map
			// order, so that one message always fails with one reason.
			firstErr, errAt = fieldError(k, err), c.index
			continue
		}
		if out != nil {
			row[k] = out
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return row, nil
}

func (d *Decoder) decodeCSV(p []byte) (map[string]any, error) {
	var rec []string
	if bytes.ContainsAny(p, "\"\r\n") {
		r := csv.NewReader(bytes.NewReader(p))
		r.FieldsPerRecord = -1
		// Chronon's quickstart decoder splits on commas and keeps quotes as
		// they are; lazy quotes accept such values instead of dropping the
		// message.
		r.LazyQuotes = true
		var err error
		if rec, err = r.Read(); err == io.EOF {
			return nil, &DecodeError{Msg: "empty message"}
		} else if err != nil {
			return nil, &DecodeError{Msg: "bad CSV: " + err.Error()}
		}
		if _, err := r.Read(); err != io.EOF {
			return nil, &DecodeError{Msg: "bad CSV: more than one record in the message"}
		}
	} else {
		// The common case (numbers and plain ids) needs no CSV reader.
		rec = strings.Split(string(p), ",")
	}
	if len(rec) != len(d.fields) {
		return nil, &DecodeError{Msg: fmt.Sprintf("CSV record has %d fields, the topic's fields= lists %d (%s)",
			len(rec), len(d.fields), strings.Join(d.fields, ","))}
	}
	row := make(map[string]any, len(rec))
	for i, s := range rec {
		c := d.csv[i]
		if c == nil || s == "" {
			continue
		}
		v, err := c.fromText(s)
		if err != nil {
			return nil, fieldError(d.fields[i], err)
		}
		if v != nil {
			row[d.fields[i]] = v
		}
	}
	return row, nil
}

// column is a decodable schema column.
type column struct {
	index int // position in the schema
	conv  *conv
}

// pathError locates a conversion error inside a nested value.
type pathError struct {
	seg string // ".zip", "[2]" or "[\"k\"]"
	err error
}

func (e *pathError) Error() string { return e.seg + ": " + e.err.Error() }

// fieldError turns a conversion error of column col into a *DecodeError
// whose Field is the path to the value at fault.
func fieldError(col string, err error) error {
	path := col
	for {
		pe, ok := err.(*pathError)
		if !ok {
			break
		}
		path += pe.seg
		err = pe.err
	}
	return &DecodeError{Field: path, Msg: err.Error()}
}

// typeName names t in messages as Chronon and Spark do (long, not int64).
func typeName(t arrow.DataType) string {
	t = batch.ValueType(t)
	switch t.ID() {
	case arrow.INT8:
		return "tinyint"
	case arrow.INT16:
		return "smallint"
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return "string"
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY:
		return "binary"
	case arrow.DATE32, arrow.DATE64:
		return "date"
	case arrow.TIMESTAMP:
		return "timestamp"
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW:
		return "array<" + typeName(t.(arrow.ListLikeType).Elem()) + ">"
	case arrow.MAP:
		return "map<string," + typeName(t.(*arrow.MapType).ItemType()) + ">"
	case arrow.STRUCT:
		return "struct"
	}
	return batch.SpecTypeName(t)
}
