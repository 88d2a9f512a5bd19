// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// newCSVReader returns a csv.Reader over r that reuses its record slice and
// leaves field-count checks to the caller.
func newCSVReader(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	return cr
}

// csvReadErr turns a csv.Reader error into a DecodeError naming its line.
func csvReadErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &DecodeError{Line: int64(pe.Line), Msg: pe.Err.Error()}
	}
	return fmt.Errorf("read csv: %w", err)
}

// readCSVHeader reads and checks the header row: it must exist and name each
// column once. A UTF-8 byte order mark before the first name is dropped.
func readCSVHeader(cr *csv.Reader) ([]string, error) {
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, errors.New("empty input: want a header row")
	}
	if err != nil {
		return nil, csvReadErr(err)
	}
	header := append([]string(nil), rec...)
	header[0] = strings.TrimPrefix(header[0], "\ufeff")
	seen := make(map[string]bool, len(header))
	for i, h := range header {
		if h == "" {
			return nil, &DecodeError{Line: 1, Msg: fmt.Sprintf("header column %d has no name", i+1)}
		}
		if seen[h] {
			return nil, &DecodeError{Line: 1, Column: h, Msg: "appears twice in the header"}
		}
		seen[h] = true
	}
	return header, nil
}

func fieldCountErr(line int64, got, want int) error {
	noun := "fields"
	if got == 1 {
		noun = "field"
	}
	return &DecodeError{Line: line, Msg: fmt.Sprintf("has %d %s, the header has %d", got, noun, want)}
}

// InferCSV reads CSV input with a header row and returns its schema: one
// nullable field per header column, in header order, typed by overrides when
// they name the column and otherwise inferred from its cells: long when every
// non-empty cell is a base-10 integer fitting int64, else double when every
// non-empty cell is a decimal number, else string (also when every cell is
// empty). It also returns the number of data rows.
//
// When overrides cover every header column, InferCSV reads only the header
// and returns rows = -1. Overrides naming columns the input lacks are ignored
// (see SchemaSpec.Missing). Errors name the line.
func InferCSV(r io.Reader, overrides SchemaSpec) (*arrow.Schema, int64, error) {
	if err := checkOverridesDecodable(overrides); err != nil {
		return nil, 0, err
	}
	cr := newCSVReader(r)
	header, err := readCSVHeader(cr)
	if err != nil {
		return nil, 0, err
	}
	inf := make([]textInference, len(header))
	free := make([]int, 0, len(header)) // columns to infer
	for i, h := range header {
		if _, ok := overrides.Lookup(h); !ok {
			free = append(free, i)
		}
	}
	schemaOf := func() *arrow.Schema {
		return buildSchema(header, overrides, func(i int) arrow.DataType { return inf[i].result() })
	}
	if len(free) == 0 {
		return schemaOf(), -1, nil
	}
	var rows int64
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, csvReadErr(err)
		}
		if len(rec) != len(header) {
			line, _ := cr.FieldPos(0)
			return nil, 0, fieldCountErr(int64(line), len(rec), len(header))
		}
		rows++
		for _, i := range free {
			inf[i].observe(rec[i])
		}
	}
	return schemaOf(), rows, nil
}

// CSVDecoder decodes CSV input with a header row into record batches of a
// given schema. An empty cell is null. It implements RecordDecoder.
type CSVDecoder struct {
	decoder
	cr      *csv.Reader
	pos     []int // pos[i] is the header index of schema field i
	nheader int
}

var _ RecordDecoder = (*CSVDecoder)(nil)

// NewCSVDecoder reads the header row of r and returns a decoder producing
// batches of schema. The header must name exactly the schema's fields, in
// any order. Field types must be string, int64, int32, float64, float32 or
// boolean.
func NewCSVDecoder(r io.Reader, schema *arrow.Schema, opts DecodeOptions) (*CSVDecoder, error) {
	if err := checkDecodable(schema); err != nil {
		return nil, err
	}
	cr := newCSVReader(r)
	header, err := readCSVHeader(cr)
	if err != nil {
		return nil, err
	}
	at := make(map[string]int, len(header))
	for i, h := range header {
		at[h] = i
	}
	pos := make([]int, schema.NumFields())
	for i, f := range schema.Fields() {
		p, ok := at[f.Name]
		if !ok {
			return nil, &DecodeError{Line: 1, Column: f.Name, Msg: "is missing from the header"}
		}
		pos[i] = p
	}
	if len(header) != schema.NumFields() {
		for _, h := range header {
			if _, ok := schema.FieldsByName(h); !ok {
				return nil, &DecodeError{Line: 1, Column: h, Msg: "is not in the schema"}
			}
		}
	}
	return &CSVDecoder{decoder: newDecoder(schema, opts), cr: cr, pos: pos, nheader: len(header)}, nil
}

// Next implements RecordDecoder.
func (d *CSVDecoder) Next() (arrow.RecordBatch, error) { return d.next(d.row) }

// row appends the next record.
func (d *CSVDecoder) row() (int64, error) {
	rec, err := d.cr.Read()
	if err == io.EOF {
		return 0, io.EOF
	}
	if err != nil {
		return 0, csvReadErr(err)
	}
	l, _ := d.cr.FieldPos(0)
	line := int64(l)
	if len(rec) != d.nheader {
		return 0, fieldCountErr(line, len(rec), d.nheader)
	}
	for i, w := range d.cols {
		cell := rec[d.pos[i]]
		if cell == "" {
			w.appendNull()
			continue
		}
		if !w.appendText(cell) {
			return 0, &DecodeError{Line: line, Column: w.name, Msg: notA(fmt.Sprintf("%q", cell), w.typ)}
		}
	}
	return line, nil
}
