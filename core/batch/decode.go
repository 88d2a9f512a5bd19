// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DefaultDecodeBatchRows is the number of rows per record batch a decoder
// returns when DecodeOptions.BatchRows is zero.
const DefaultDecodeBatchRows = 64 * 1024

// DecodeOptions configure a text decoder (NewCSVDecoder, NewJSONLDecoder).
// The zero value is ready to use.
type DecodeOptions struct {
	// BatchRows is the number of rows per record batch (the last batch may
	// hold fewer). Zero or less means DefaultDecodeBatchRows.
	BatchRows int
	// Mem allocates the batches' buffers. Nil means memory.DefaultAllocator.
	Mem memory.Allocator
}

func (o DecodeOptions) batchRows() int {
	if o.BatchRows <= 0 {
		return DefaultDecodeBatchRows
	}
	return o.BatchRows
}

func (o DecodeOptions) mem() memory.Allocator {
	if o.Mem == nil {
		return memory.DefaultAllocator
	}
	return o.Mem
}

// RecordDecoder streams the rows of a text file as Arrow record batches of a
// fixed schema.
type RecordDecoder interface {
	// Schema is the schema of every batch Next returns.
	Schema() *arrow.Schema
	// Next returns the next batch of at most BatchRows rows, or io.EOF after
	// the last one. The caller owns the batch and must Release it. After an
	// error other than io.EOF, Next keeps returning that error.
	Next() (arrow.RecordBatch, error)
	// Line returns the 1-based line number in the input where row i of the
	// batch last returned by Next starts.
	Line(row int) int64
	// Release frees the decoder's builders. It does not close the input.
	Release()
}

// decoder holds what the CSV and JSONL decoders share: the schema, the
// batch builder and its column writers, and the input line of each row of the
// batch being built.
type decoder struct {
	schema    *arrow.Schema
	rb        *array.RecordBuilder
	cols      []*colWriter
	batchRows int
	lines     []int64
	err       error
}

func newDecoder(schema *arrow.Schema, opts DecodeOptions) decoder {
	rb := array.NewRecordBuilder(opts.mem(), schema)
	return decoder{schema: schema, rb: rb, cols: newColWriters(rb), batchRows: opts.batchRows()}
}

// Schema implements RecordDecoder.
func (d *decoder) Schema() *arrow.Schema { return d.schema }

// Line implements RecordDecoder.
func (d *decoder) Line(row int) int64 { return d.lines[row] }

// Release implements RecordDecoder.
func (d *decoder) Release() {
	if d.rb != nil {
		d.rb.Release()
		d.rb = nil
	}
}

// next implements RecordDecoder.Next: it builds a batch of the rows that row
// appends, one a call. row returns the line where its row starts, or io.EOF
// after the last row; any other error is the decoder's from then on.
func (d *decoder) next(row func() (line int64, err error)) (arrow.RecordBatch, error) {
	if d.err != nil {
		return nil, d.err
	}
	d.lines = d.lines[:0]
	for len(d.lines) < d.batchRows {
		line, err := row()
		if err == io.EOF {
			break
		}
		if err != nil {
			d.err = err
			d.lines = d.lines[:0]
			return nil, err
		}
		d.lines = append(d.lines, line)
	}
	if len(d.lines) == 0 {
		d.err = io.EOF
		return nil, io.EOF
	}
	return d.rb.NewRecordBatch(), nil
}

// DecodeError reports a row of text input that cannot be decoded. Its
// message names the line and, when one is at fault, the column:
//
//	line 17: column "ts": "abc" is not a long
type DecodeError struct {
	// Line is the 1-based line number (a CSV header is line 1).
	Line int64
	// Column is the column at fault, or empty when the whole row is.
	Column string
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *DecodeError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("line %d: column %q: %s", e.Line, e.Column, e.Msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// decodableType reports whether the text decoders can produce dt.
func decodableType(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.STRING, arrow.INT64, arrow.INT32, arrow.FLOAT64, arrow.FLOAT32, arrow.BOOL:
		return true
	}
	return false
}

// checkDecodable returns an error naming the first field of schema the text
// decoders cannot produce.
func checkDecodable(schema *arrow.Schema) error {
	for _, f := range schema.Fields() {
		if !decodableType(f.Type) {
			return fmt.Errorf("column %q: cannot decode text into type %s (want string, long, int, double, float or boolean)", f.Name, f.Type)
		}
	}
	return nil
}

// colWriter appends text values to one column's builder.
type colWriter struct {
	name string
	typ  arrow.DataType
	b    array.Builder
	// str and bl are b for a string or a boolean column, else nil.
	str *array.StringBuilder
	bl  *array.BooleanBuilder
}

func newColWriters(rb *array.RecordBuilder) []*colWriter {
	fields := rb.Schema().Fields()
	out := make([]*colWriter, len(fields))
	for i, f := range fields {
		w := &colWriter{name: f.Name, typ: f.Type, b: rb.Field(i)}
		w.str, _ = w.b.(*array.StringBuilder)
		w.bl, _ = w.b.(*array.BooleanBuilder)
		out[i] = w
	}
	return out
}

func (w *colWriter) appendNull() { w.b.AppendNull() }

// appendText parses s as the column's type and appends it; ok is false when
// s does not parse (nothing is appended then). It does not treat "" as null.
func (w *colWriter) appendText(s string) bool {
	switch b := w.b.(type) {
	case *array.StringBuilder:
		b.Append(s)
	case *array.Int64Builder:
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return false
		}
		b.Append(v)
	case *array.Int32Builder:
		v, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return false
		}
		b.Append(int32(v))
	case *array.Float64Builder:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return false
		}
		b.Append(v)
	case *array.Float32Builder:
		v, err := strconv.ParseFloat(s, 32)
		if err != nil {
			return false
		}
		b.Append(float32(v))
	case *array.BooleanBuilder:
		v, err := strconv.ParseBool(s)
		if err != nil {
			return false
		}
		b.Append(v)
	default:
		return false
	}
	return true
}

// notA is the message for a value that does not parse as typ.
func notA(shown string, typ arrow.DataType) string {
	name := SpecTypeName(typ)
	article := "a"
	if strings.ContainsRune("aeiou", rune(name[0])) {
		article = "an"
	}
	return fmt.Sprintf("%s is not %s %s", shown, article, name)
}

// textInference accumulates what the non-empty text values of a column could
// be, for CSV type inference.
type textInference struct {
	seen     bool
	notLong  bool
	notFloat bool
}

func (t *textInference) observe(s string) {
	if s == "" || t.notFloat {
		return
	}
	t.seen = true
	if !t.notLong {
		if _, err := strconv.ParseInt(s, 10, 64); err == nil {
			return
		}
		t.notLong = true
	}
	if !isDecimalFloat(s) {
		t.notFloat = true
	}
}

func (t *textInference) result() arrow.DataType {
	switch {
	case !t.seen || t.notFloat:
		return arrow.BinaryTypes.String
	case t.notLong:
		return arrow.PrimitiveTypes.Float64
	default:
		return arrow.PrimitiveTypes.Int64
	}
}

// isDecimalFloat reports whether s is a plain decimal number ("1.5", "-2",
// "3e10", ".5"), excluding the hexadecimal, infinity and NaN spellings
// strconv.ParseFloat also accepts.
func isDecimalFloat(s string) bool {
	digits := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-':
		default:
			return false
		}
	}
	if !digits {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// buildSchema returns a schema of nullable fields named names, typed by
// overrides first and by infer otherwise.
func buildSchema(names []string, overrides SchemaSpec, infer func(i int) arrow.DataType) *arrow.Schema {
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		dt, ok := overrides.Lookup(n)
		if !ok {
			dt = infer(i)
		}
		fields[i] = arrow.Field{Name: n, Type: dt, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// checkOverridesDecodable rejects overrides with a type the decoders cannot
// produce.
func checkOverridesDecodable(overrides SchemaSpec) error {
	for _, c := range overrides {
		if !decodableType(c.Type) {
			return fmt.Errorf("override column %q: cannot decode text into type %s", c.Name, c.Type)
		}
	}
	return nil
}
