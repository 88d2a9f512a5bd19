// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"bufio"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/mattn/go-runewidth"
)

// Output formats understood by NewRenderer.
const (
	// FormatTable renders aligned columns with a header and a separator
	// line, for people.
	FormatTable = "table"
	// FormatCSV renders RFC 4180 CSV with a header line.
	FormatCSV = "csv"
	// FormatJSON renders one JSON object per row, newline-delimited.
	FormatJSON = "json"
)

// Formats returns the output formats NewRenderer supports.
func Formats() []string { return []string{FormatTable, FormatCSV, FormatJSON} }

// DefaultMaxCellWidth is the display width at which table cells are cut when
// RenderOptions.MaxCellWidth is zero.
const DefaultMaxCellWidth = 40

// DefaultAlignRows is how many rows the table format buffers to compute
// column widths when RenderOptions.AlignRows is zero.
const DefaultAlignRows = 1000

// ellipsis marks a table cell cut at the maximum width.
const ellipsis = "…"

// RenderOptions tune a Renderer. The zero value is ready to use.
type RenderOptions struct {
	// MaxCellWidth is the display width (in terminal cells) beyond which the
	// table format cuts a cell or column name, ending it with "…". Numbers,
	// booleans, dates and times are never cut. Zero means
	// DefaultMaxCellWidth; a negative value never cuts. Other formats never
	// cut.
	MaxCellWidth int
	// AlignRows is how many rows the table format buffers before writing
	// anything, to compute column widths. Later rows are padded to those
	// widths; a wider cell then pushes the rest of its row to the right.
	// Zero means DefaultAlignRows.
	AlignRows int
}

// Renderer writes record batches in one output format.
//
// Cells are formatted the same way by every format: integers and decimals in
// full, floats in the shortest form that round-trips (NaN, Infinity and
// -Infinity spelled out), dates as YYYY-MM-DD, timestamps in UTC as
// "YYYY-MM-DD hh:mm:ss[.fraction]" (with a "Z" suffix when the type has a
// time zone), binary as standard base64, and lists, maps and structs as
// compact JSON. The table format shows null as NULL and escapes control
// characters; CSV shows null as an empty field; JSON uses null.
//
// A Renderer is not safe for concurrent use.
type Renderer interface {
	// WriteBatch renders every row of rec, whose columns must match the
	// schema the Renderer was made with. The Renderer does not keep rec.
	WriteBatch(rec arrow.RecordBatch) error
	// Flush writes whatever is buffered (for the table format: the rows
	// still held for alignment and a "(N rows)" footer). Call it once after
	// the last batch; the Renderer cannot be used afterwards.
	Flush() error
}

// NewRenderer returns a Renderer writing rows with the given schema to w in
// format (one of Formats). Nothing is written before the first WriteBatch or
// Flush; an empty result still gets a header in the table and CSV formats.
func NewRenderer(w io.Writer, format string, schema *arrow.Schema, opts RenderOptions) (Renderer, error) {
	if w == nil {
		return nil, errors.New("render: nil writer")
	}
	if schema == nil {
		return nil, errors.New("render: nil schema")
	}
	names := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		names[i] = f.Name
	}
	switch format {
	case FormatTable:
		return newTableRenderer(w, schema, names, opts), nil
	case FormatCSV:
		return &csvRenderer{out: csv.NewWriter(w), names: names}, nil
	case FormatJSON:
		return newJSONRenderer(w, names), nil
	default:
		return nil, fmt.Errorf("render: unknown format %q (supported: %s)", format, strings.Join(Formats(), ", "))
	}
}

// RenderBatches renders every batch with a new Renderer and flushes it: a
// shorthand for printing a whole result.
func RenderBatches(w io.Writer, format string, schema *arrow.Schema, opts RenderOptions, recs ...arrow.RecordBatch) error {
	r, err := NewRenderer(w, format, schema, opts)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		if err := r.WriteBatch(rec); err != nil {
			return err
		}
	}
	return r.Flush()
}

// checkBatch verifies rec has as many columns as the renderer's schema.
func checkBatch(rec arrow.RecordBatch, ncols int, flushed bool) error {
	if flushed {
		return errors.New("render: WriteBatch after Flush")
	}
	if rec == nil {
		return errors.New("render: nil record batch")
	}
	if int(rec.NumCols()) != ncols {
		return fmt.Errorf("render: record batch has %d columns, schema has %d", rec.NumCols(), ncols)
	}
	return nil
}

// flushOnce marks a renderer flushed; it is an error to flush one twice.
func flushOnce(flushed *bool) error {
	if *flushed {
		return errors.New("render: Flush called twice")
	}
	*flushed = true
	return nil
}

// renderErr wraps an error writing the output; nil stays nil.
func renderErr(err error) error {
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	return nil
}

// ---------------------------------------------------------------- table

type tableRenderer struct {
	out       *bufio.Writer
	cond      *runewidth.Condition
	names     []string
	right     []bool // right-align (numeric) columns
	whole     []bool // never cut (numbers, booleans, dates and times)
	maxWidth  int    // < 0: no cut
	alignRows int
	widths    []int      // nil until the header is written
	pending   [][]string // rows buffered for alignment
	rows      int64
	flushed   bool
	line      []byte // scratch
}

func newTableRenderer(w io.Writer, schema *arrow.Schema, names []string, opts RenderOptions) *tableRenderer {
	t := &tableRenderer{
		out: bufio.NewWriter(w),
		// Ambiguous-width runes (such as "…") are one cell wide, whatever
		// the locale, so output does not depend on the environment.
		cond:      &runewidth.Condition{StrictEmojiNeutral: true},
		names:     names,
		right:     make([]bool, len(names)),
		whole:     make([]bool, len(names)),
		maxWidth:  opts.MaxCellWidth,
		alignRows: opts.AlignRows,
	}
	if t.maxWidth == 0 {
		t.maxWidth = DefaultMaxCellWidth
	}
	if t.alignRows <= 0 {
		t.alignRows = DefaultAlignRows
	}
	for i, f := range schema.Fields() {
		t.right[i] = isNumeric(f.Type)
		t.whole[i] = t.right[i] || isWhole(f.Type)
	}
	return t
}

// cell prepares a table cell: control characters escaped, cut to maxWidth
// unless whole.
func (t *tableRenderer) cell(s string, whole bool) string {
	s = escapeControl(s)
	if !whole && t.maxWidth > 0 && t.cond.StringWidth(s) > t.maxWidth {
		s = t.cond.Truncate(s, t.maxWidth, ellipsis)
	}
	return s
}

func (t *tableRenderer) WriteBatch(rec arrow.RecordBatch) error {
	if err := checkBatch(rec, len(t.names), t.flushed); err != nil {
		return err
	}
	cols := rec.Columns()
	var buf []byte
	for i := 0; i < int(rec.NumRows()); i++ {
		row := make([]string, len(cols))
		for c, col := range cols {
			if isNull(col, i) {
				row[c] = "NULL"
				continue
			}
			buf = appendText(buf[:0], col, i)
			row[c] = t.cell(string(buf), t.whole[c])
		}
		t.rows++
		if t.widths != nil {
			if err := t.writeRow(row); err != nil {
				return err
			}
			continue
		}
		t.pending = append(t.pending, row)
		if len(t.pending) >= t.alignRows {
			if err := t.writePending(); err != nil {
				return err
			}
		}
	}
	return nil
}

// writePending computes the column widths from the buffered rows, then
// writes the header, the separator and the buffered rows.
func (t *tableRenderer) writePending() error {
	header := make([]string, len(t.names))
	t.widths = make([]int, len(t.names))
	for c, n := range t.names {
		header[c] = t.cell(n, false)
		t.widths[c] = t.cond.StringWidth(header[c])
	}
	for _, row := range t.pending {
		for c, s := range row {
			t.widths[c] = max(t.widths[c], t.cond.StringWidth(s))
		}
	}
	if len(t.names) > 0 {
		if err := t.writeRow(header); err != nil {
			return err
		}
		t.line = t.line[:0]
		for c, w := range t.widths {
			if c > 0 {
				t.line = append(t.line, "-+-"...)
			}
			t.line = append(t.line, strings.Repeat("-", w)...)
		}
		t.line = append(t.line, '\n')
		if _, err := t.out.Write(t.line); err != nil {
			return renderErr(err)
		}
	}
	for _, row := range t.pending {
		if err := t.writeRow(row); err != nil {
			return err
		}
	}
	t.pending = nil
	return nil
}

func (t *tableRenderer) writeRow(row []string) error {
	t.line = t.line[:0]
	for c, s := range row {
		if c > 0 {
			t.line = append(t.line, " | "...)
		}
		pad := t.widths[c] - t.cond.StringWidth(s)
		last := c == len(row)-1
		switch {
		case pad <= 0:
			t.line = append(t.line, s...)
		case t.right[c]:
			t.line = append(t.line, strings.Repeat(" ", pad)...)
			t.line = append(t.line, s...)
		case last:
			t.line = append(t.line, s...) // no trailing blanks
		default:
			t.line = append(t.line, s...)
			t.line = append(t.line, strings.Repeat(" ", pad)...)
		}
	}
	t.line = append(t.line, '\n')
	_, err := t.out.Write(t.line)
	return renderErr(err)
}

func (t *tableRenderer) Flush() error {
	if err := flushOnce(&t.flushed); err != nil {
		return err
	}
	if t.widths == nil {
		if err := t.writePending(); err != nil {
			return err
		}
	}
	noun := "rows"
	if t.rows == 1 {
		noun = "row"
	}
	if _, err := fmt.Fprintf(t.out, "(%d %s)\n", t.rows, noun); err != nil {
		return renderErr(err)
	}
	return renderErr(t.out.Flush())
}

// ------------------------------------------------------------------ csv

type csvRenderer struct {
	out     *csv.Writer
	names   []string
	header  bool
	flushed bool
}

func (r *csvRenderer) writeHeader() error {
	if r.header {
		return nil
	}
	r.header = true
	return renderErr(r.out.Write(r.names))
}

func (r *csvRenderer) WriteBatch(rec arrow.RecordBatch) error {
	if err := checkBatch(rec, len(r.names), r.flushed); err != nil {
		return err
	}
	if err := r.writeHeader(); err != nil {
		return err
	}
	cols := rec.Columns()
	row := make([]string, len(cols))
	var buf []byte
	for i := 0; i < int(rec.NumRows()); i++ {
		for c, col := range cols {
			if isNull(col, i) {
				row[c] = ""
				continue
			}
			buf = appendText(buf[:0], col, i)
			row[c] = string(buf)
		}
		if err := r.out.Write(row); err != nil {
			return renderErr(err)
		}
	}
	return nil
}

func (r *csvRenderer) Flush() error {
	if err := flushOnce(&r.flushed); err != nil {
		return err
	}
	if err := r.writeHeader(); err != nil {
		return err
	}
	r.out.Flush()
	return renderErr(r.out.Error())
}

// ----------------------------------------------------------------- json

type jsonRenderer struct {
	out     *bufio.Writer
	keys    [][]byte // quoted column names followed by ':'
	line    []byte
	flushed bool
}

func newJSONRenderer(w io.Writer, names []string) *jsonRenderer {
	r := &jsonRenderer{out: bufio.NewWriter(w), keys: make([][]byte, len(names))}
	for i, n := range names {
		r.keys[i] = append(appendJSONString(nil, n), ':')
	}
	return r
}

func (r *jsonRenderer) WriteBatch(rec arrow.RecordBatch) error {
	if err := checkBatch(rec, len(r.keys), r.flushed); err != nil {
		return err
	}
	cols := rec.Columns()
	for i := 0; i < int(rec.NumRows()); i++ {
		r.line = append(r.line[:0], '{')
		for c, col := range cols {
			if c > 0 {
				r.line = append(r.line, ',')
			}
			r.line = append(r.line, r.keys[c]...)
			r.line = appendJSON(r.line, col, i)
		}
		r.line = append(r.line, '}', '\n')
		if _, err := r.out.Write(r.line); err != nil {
			return renderErr(err)
		}
	}
	return nil
}

func (r *jsonRenderer) Flush() error {
	if err := flushOnce(&r.flushed); err != nil {
		return err
	}
	return renderErr(r.out.Flush())
}

// ---------------------------------------------------------------- cells

// scalarKind says how a scalar's text goes into JSON.
type scalarKind int

const (
	kindString  scalarKind = iota // quoted
	kindLiteral                   // a JSON number, true or false, as is
)

// resolve follows dictionary, run-end encoded, extension and union arrays
// to the array and index that hold the value of arr at row i.
func resolve(arr arrow.Array, i int) (arrow.Array, int) {
	for {
		if arr.IsNull(i) { // e.g. a null dictionary index
			return arr, i
		}
		switch a := arr.(type) {
		case *array.Dictionary:
			arr, i = a.Dictionary(), a.GetValueIndex(i)
		case *array.RunEndEncoded:
			arr, i = a.Values(), a.GetPhysicalIndex(i)
		case array.ExtensionArray:
			arr = a.Storage()
		case *array.SparseUnion:
			arr = a.Field(a.ChildID(i))
		case *array.DenseUnion:
			arr, i = a.Field(a.ChildID(i)), int(a.ValueOffset(i))
		default:
			return arr, i
		}
	}
}

// isNull reports whether arr[i] is null, looking through dictionaries,
// run-end encoding, extensions and unions.
func isNull(arr arrow.Array, i int) bool {
	arr, i = resolve(arr, i)
	return arr.IsNull(i)
}

// isNested reports whether arr holds lists, maps or structs, rendered as
// JSON in every format.
func isNested(arr arrow.Array) bool {
	switch arr.(type) {
	case *array.Struct, array.ListLike:
		return true
	}
	return false
}

// appendText appends the text of the non-null value arr[i] as the table and
// CSV formats show it: scalars plainly, nested values as compact JSON.
func appendText(b []byte, arr arrow.Array, i int) []byte {
	arr, i = resolve(arr, i)
	if arr.IsNull(i) { // a null behind a dictionary or union
		return append(b, "NULL"...)
	}
	if isNested(arr) {
		return appendJSON(b, arr, i)
	}
	s, _ := scalarText(arr, i)
	return append(b, s...)
}

// appendJSON appends arr[i] as a JSON value.
func appendJSON(b []byte, arr arrow.Array, i int) []byte {
	arr, i = resolve(arr, i)
	if arr.IsNull(i) {
		return append(b, "null"...)
	}
	switch a := arr.(type) {
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		b = append(b, '{')
		for k := 0; k < a.NumField(); k++ {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, st.Field(k).Name)
			b = append(b, ':')
			b = appendJSON(b, a.Field(k), i)
		}
		return append(b, '}')
	case *array.Map:
		start, end := a.ValueOffsets(i)
		keys, items := a.Keys(), a.Items()
		b = append(b, '{')
		var key []byte
		for j := int(start); j < int(end); j++ {
			if j > int(start) {
				b = append(b, ',')
			}
			// JSON keys are strings: use the key's text form.
			if keys.IsNull(j) {
				key = append(key[:0], "null"...)
			} else {
				key = appendText(key[:0], keys, j)
			}
			b = appendJSONString(b, string(key))
			b = append(b, ':')
			b = appendJSON(b, items, j)
		}
		return append(b, '}')
	case array.ListLike:
		start, end := a.ValueOffsets(i)
		values := a.ListValues()
		b = append(b, '[')
		for j := int(start); j < int(end); j++ {
			if j > int(start) {
				b = append(b, ',')
			}
			b = appendJSON(b, values, j)
		}
		return append(b, ']')
	}
	s, kind := scalarText(arr, i)
	if kind == kindLiteral {
		return append(b, s...)
	}
	return appendJSONString(b, s)
}

// Timestamp layouts: UTC, fraction only when not zero.
const (
	tsLayout   = "2006-01-02 15:04:05.999999999"
	tsLayoutTZ = "2006-01-02 15:04:05.999999999Z"
)

// scalarText formats the non-null, non-nested value arr[i].
func scalarText(arr arrow.Array, i int) (string, scalarKind) {
	switch a := arr.(type) {
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i)), kindLiteral
	case *array.Int8:
		return strconv.FormatInt(int64(a.Value(i)), 10), kindLiteral
	case *array.Int16:
		return strconv.FormatInt(int64(a.Value(i)), 10), kindLiteral
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10), kindLiteral
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10), kindLiteral
	case *array.Uint8:
		return strconv.FormatUint(uint64(a.Value(i)), 10), kindLiteral
	case *array.Uint16:
		return strconv.FormatUint(uint64(a.Value(i)), 10), kindLiteral
	case *array.Uint32:
		return strconv.FormatUint(uint64(a.Value(i)), 10), kindLiteral
	case *array.Uint64:
		return strconv.FormatUint(a.Value(i), 10), kindLiteral
	case *array.Float16:
		return formatFloat(float64(a.Value(i).Float32()), 32)
	case *array.Float32:
		return formatFloat(float64(a.Value(i)), 32)
	case *array.Float64:
		return formatFloat(a.Value(i), 64)
	case *array.Decimal32:
		return a.Value(i).ToString(a.DataType().(arrow.DecimalType).GetScale()), kindLiteral
	case *array.Decimal64:
		return a.Value(i).ToString(a.DataType().(arrow.DecimalType).GetScale()), kindLiteral
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(arrow.DecimalType).GetScale()), kindLiteral
	case *array.Decimal256:
		return a.Value(i).ToString(a.DataType().(arrow.DecimalType).GetScale()), kindLiteral
	case *array.String:
		return a.Value(i), kindString
	case *array.LargeString:
		return a.Value(i), kindString
	case *array.StringView:
		return a.Value(i), kindString
	case *array.Binary:
		return base64.StdEncoding.EncodeToString(a.Value(i)), kindString
	case *array.LargeBinary:
		return base64.StdEncoding.EncodeToString(a.Value(i)), kindString
	case *array.BinaryView:
		return base64.StdEncoding.EncodeToString(a.Value(i)), kindString
	case *array.FixedSizeBinary:
		return base64.StdEncoding.EncodeToString(a.Value(i)), kindString
	case *array.Date32:
		return a.Value(i).FormattedString(), kindString
	case *array.Date64:
		return a.Value(i).FormattedString(), kindString
	case *array.Timestamp:
		typ := a.DataType().(*arrow.TimestampType)
		t := a.Value(i).ToTime(typ.Unit).UTC()
		if typ.TimeZone != "" {
			return t.Format(tsLayoutTZ), kindString
		}
		return t.Format(tsLayout), kindString
	case *array.Time32:
		return a.Value(i).FormattedString(a.DataType().(*arrow.Time32Type).Unit), kindString
	case *array.Time64:
		return a.Value(i).FormattedString(a.DataType().(*arrow.Time64Type).Unit), kindString
	case *array.Duration:
		unit := a.DataType().(*arrow.DurationType).Unit
		return time.Duration(int64(a.Value(i)) * int64(unit.Multiplier())).String(), kindString
	}
	return arr.ValueStr(i), kindString
}

// formatFloat formats f like encoding/json does (shortest round-trip form,
// exponent only for very large or small magnitudes); NaN and infinities,
// which JSON cannot hold as numbers, become strings.
func formatFloat(f float64, bits int) (string, scalarKind) {
	switch {
	case math.IsNaN(f):
		return "NaN", kindString
	case math.IsInf(f, 1):
		return "Infinity", kindString
	case math.IsInf(f, -1):
		return "-Infinity", kindString
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	s := strconv.FormatFloat(f, format, -1, bits)
	if n := len(s); format == 'e' && n >= 4 && s[n-4] == 'e' && s[n-3] == '-' && s[n-2] == '0' {
		s = s[:n-2] + s[n-1:] // 1e-07 → 1e-7, as encoding/json does
	}
	return s, kindLiteral
}

// isNumeric reports whether the table format right-aligns columns of t.
func isNumeric(t arrow.DataType) bool {
	t = ValueType(t)
	if _, ok := t.(arrow.DecimalType); ok {
		return true
	}
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64,
		arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return false
}

// isWhole reports whether the table format shows values of t uncut: cutting
// a boolean, date or time would only mislead.
func isWhole(t arrow.DataType) bool {
	switch ValueType(t).ID() {
	case arrow.BOOL, arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP,
		arrow.TIME32, arrow.TIME64, arrow.DURATION:
		return true
	}
	return false
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD; HTML characters are not escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

// escapeControl replaces control characters, which would break table
// alignment, with Go-style escapes (\n, \t, \x01, \u0085).
func escapeControl(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !unicode.IsControl(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r) // e.g. '\n', '\x01'
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}
