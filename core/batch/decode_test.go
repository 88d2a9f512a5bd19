// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// schemaString formats a schema as "name:type,..." with spec type names.
func schemaString(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = f.Name + ":" + SpecTypeName(f.Type)
	}
	return strings.Join(parts, ",")
}

// decodeAll drains dec, returning each row as "v1|v2|..." (nulls as "∅"),
// each batch's row count, and each row's line.
func decodeAll(t *testing.T, dec RecordDecoder) (rows []string, sizes []int64, lines []int64, err error) {
	t.Helper()
	for {
		rec, err := dec.Next()
		if err == io.EOF {
			return rows, sizes, lines, nil
		}
		if err != nil {
			return rows, sizes, lines, err
		}
		if !rec.Schema().Equal(dec.Schema()) {
			t.Fatalf("batch schema %v, want %v", rec.Schema(), dec.Schema())
		}
		sizes = append(sizes, rec.NumRows())
		for i := 0; i < int(rec.NumRows()); i++ {
			cells := make([]string, rec.NumCols())
			for c, col := range rec.Columns() {
				if col.IsNull(i) {
					cells[c] = "∅"
				} else {
					cells[c] = col.ValueStr(i)
				}
			}
			rows = append(rows, strings.Join(cells, "|"))
			lines = append(lines, dec.Line(i))
		}
		rec.Release()
	}
}

// textFormat is a text format's schema inference and decoder.
type textFormat struct {
	name   string // "CSV" for InferCSV, ...
	infer  func(io.Reader, SchemaSpec) (*arrow.Schema, int64, error)
	decode func(io.Reader, *arrow.Schema, DecodeOptions) (RecordDecoder, error)
}

var (
	csvFormat = textFormat{"CSV", InferCSV, func(r io.Reader, s *arrow.Schema, o DecodeOptions) (RecordDecoder, error) {
		return NewCSVDecoder(r, s, o)
	}}
	jsonlFormat = textFormat{"JSONL", InferJSONL, func(r io.Reader, s *arrow.Schema, o DecodeOptions) (RecordDecoder, error) {
		return NewJSONLDecoder(r, s, o)
	}}
)

// inferAndDecode infers the schema of in with f and overrides, checks it is
// wantSchema with wantRows data rows, and decodes in with f in batches of
// batchRows rows, as decodeAll returns them, failing the test on an error.
// The decoder's allocator must be empty once the test has released it.
func inferAndDecode(t *testing.T, f textFormat, in, overrides, wantSchema string, wantRows int64, batchRows int) (dec RecordDecoder, rows []string, sizes, lines []int64) {
	t.Helper()
	schema, n, err := f.infer(strings.NewReader(in), mustSpec(t, overrides))
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaString(schema); got != wantSchema || n != wantRows {
		t.Fatalf("schema %s rows %d, want %s %d", got, n, wantSchema, wantRows)
	}
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	dec, err = f.decode(strings.NewReader(in), schema, DecodeOptions{BatchRows: batchRows, Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dec.Release)
	rows, sizes, lines, err = decodeAll(t, dec)
	if err != nil {
		t.Fatal(err)
	}
	return dec, rows, sizes, lines
}

func mustSpec(t *testing.T, s string) SchemaSpec {
	t.Helper()
	spec, err := ParseSchemaSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// inferCase is a schema inference test: in with overrides has the schema
// want (spec type names) and rows data rows, or fails with an error holding
// wantErr.
type inferCase struct {
	name, in, overrides, want string
	rows                      int64
	wantErr                   string
}

// run checks tc against f's inference and returns the inferred schema, or
// nil when tc expects an error.
func (tc inferCase) run(t *testing.T, f textFormat) *arrow.Schema {
	t.Helper()
	schema, rows, err := f.infer(strings.NewReader(tc.in), mustSpec(t, tc.overrides))
	if tc.wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Fatalf("error = %v, want it to contain %q", err, tc.wantErr)
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := schemaString(schema); got != tc.want || rows != tc.rows {
		t.Errorf("Infer%s = %s, %d rows; want %s, %d rows", f.name, got, rows, tc.want, tc.rows)
	}
	return schema
}

func TestInferCSV(t *testing.T) {
	for _, tc := range []inferCase{
		{
			name: "types",
			in:   "\ufeffa,b,c,d,e\n1,1.5,x,,-7\n2,2,y,,+8\n,1e3,3,,9223372036854775807\n",
			want: "a:long,b:double,c:string,d:string,e:long", rows: 3,
		},
		{
			name: "overflow is double, hex and nan are strings",
			in:   "a,b,c\n99999999999999999999,0x10,1\n1,2,NaN\n",
			want: "a:double,b:string,c:string", rows: 2,
		},
		{
			name: "overrides", in: "ds,ts,user_id,price\n2023-11-01,1,5,10\n",
			overrides: "user_id:string,price:double,absent:long",
			want:      "ds:string,ts:long,user_id:string,price:double", rows: 1,
		},
		{
			name: "every column overridden reads only the header", in: "a,b\n1,2\nbroken,\"",
			overrides: "b:int,a:string", want: "a:string,b:int", rows: -1,
		},
		{name: "header only", in: "a,b\n", want: "a:string,b:string", rows: 0},
		{name: "quoted newline", in: "a,b\n\"x\ny\",1\n", want: "a:string,b:long", rows: 1},
		{name: "empty", in: "", wantErr: "empty input"},
		{name: "duplicate header", in: "a,b,a\n", wantErr: `line 1: column "a": appears twice in the header`},
		{name: "unnamed header", in: "a,,b\n", wantErr: "line 1: header column 2 has no name"},
		{name: "short row", in: "a,b\n1,2\n3\n", wantErr: "line 3: has 1 field, the header has 2"},
		{name: "bad quote", in: "a,b\n1,2\n3,x\"y\n", wantErr: "line 3:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			schema := tc.run(t, csvFormat)
			if schema == nil {
				return
			}
			for _, f := range schema.Fields() {
				if !f.Nullable {
					t.Errorf("field %s is not nullable", f.Name)
				}
			}
		})
	}
}

func TestCSVDecoder(t *testing.T) {
	const in = "ds,ts,user_id,price,ok\n" +
		"2023-11-01,1698883648000,5,10.5,true\n" +
		"2023-11-01,,7,,\n" +
		"2023-11-02,\"1698970048000\",\"a,b\",3,0\n" +
		"2023-11-03,1699056448000,\"multi\nline\",4,F\n" +
		"2023-11-03,1699056448001,9,5e0,1\n"
	dec, got, sizes, lines := inferAndDecode(t, csvFormat, in, "ok:boolean,user_id:string",
		"ds:string,ts:long,user_id:string,price:double,ok:boolean", 5, 2)
	want := []string{
		"2023-11-01|1698883648000|5|10.5|true",
		"2023-11-01|∅|7|∅|∅",
		"2023-11-02|1698970048000|a,b|3|false",
		"2023-11-03|1699056448000|multi\nline|4|false",
		"2023-11-03|1699056448001|9|5|true",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows:\n%q\nwant\n%q", got, want)
	}
	if fmt.Sprint(sizes) != "[2 2 1]" {
		t.Errorf("batch sizes %v, want [2 2 1]", sizes)
	}
	if fmt.Sprint(lines) != "[2 3 4 5 7]" {
		t.Errorf("lines %v, want [2 3 4 5 7]", lines)
	}
	if _, err := dec.Next(); err != io.EOF {
		t.Errorf("Next after the end = %v, want io.EOF", err)
	}
}

func TestCSVDecoderHeaderOrderAndErrors(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	t.Run("header in another order", func(t *testing.T) {
		dec, err := NewCSVDecoder(strings.NewReader("name,f,n,ts\nx,1.5,2,3\n"), schema, DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Release()
		got, _, _, err := decodeAll(t, dec)
		if err != nil || fmt.Sprint(got) != "[3|2|1.5|x]" {
			t.Errorf("rows %q, err %v", got, err)
		}
	})
	for _, tc := range []struct {
		name, in, wantErr string
	}{
		{"missing column", "ts,n,f\n", `line 1: column "name": is missing from the header`},
		{"extra column", "ts,n,f,name,x\n", `line 1: column "x": is not in the schema`},
		{"bad long", "ts,n,f,name\n1,2,3,a\n2,2,3,b\nabc,2,3,c\n", `line 4: column "ts": "abc" is not a long`},
		{"int overflow", "ts,n,f,name\n1,3000000000,3,a\n", `line 2: column "n": "3000000000" is not an int`},
		{"bad float", "ts,n,f,name\n1,2,x,a\n", `line 2: column "f": "x" is not a float`},
		{"field count", "ts,n,f,name\n1,2,3,a\n1,2,3\n", `line 3: has 3 fields, the header has 4`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec, err := NewCSVDecoder(strings.NewReader(tc.in), schema, DecodeOptions{BatchRows: 1})
			if err == nil {
				defer dec.Release()
				_, _, _, err = decodeAll(t, dec)
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Errorf("error %T is not a *DecodeError", err)
			}
			if dec != nil {
				if _, err2 := dec.Next(); err2 == nil || err2.Error() != tc.wantErr {
					t.Errorf("Next after an error = %v, want the same error", err2)
				}
			}
		})
	}
	t.Run("undecodable type", func(t *testing.T) {
		s := arrow.NewSchema([]arrow.Field{{Name: "d", Type: arrow.FixedWidthTypes.Date32}}, nil)
		if _, err := NewCSVDecoder(strings.NewReader("d\n"), s, DecodeOptions{}); err == nil || !strings.Contains(err.Error(), `column "d"`) {
			t.Errorf("error = %v", err)
		}
	})
}

func TestInferJSONL(t *testing.T) {
	for _, tc := range []inferCase{
		{
			name: "types and first-appearance order",
			in: `{"a": 1, "b": 1.5, "c": "x", "d": true, "e": null}` + "\n\n" +
				`{"b": 2, "f": [1, {"x": 2}], "a": -3, "d": false}` + "\r\n" +
				`{"c": 5, "g": 1e2, "h": 99999999999999999999, "i": {"k": "v"}, "j": true}` + "\n" +
				`{"j": 1}`,
			want: "a:long,b:double,c:string,d:boolean,e:string,f:string,g:double,h:double,i:string,j:string",
			rows: 3 + 1,
		},
		{
			name: "overrides", in: `{"a": 1, "b": 2}`, overrides: "a:string,zz:long",
			want: "a:string,b:long", rows: 1,
		},
		{name: "empty", in: "", want: "", rows: 0},
		{name: "not an object", in: "{\"a\":1}\n[1,2]\n", wantErr: "line 2: not a JSON object"},
		{name: "bad json", in: "{\"a\":1}\n{\"a\":1,}\n", wantErr: "line 2: bad JSON"},
		{name: "trailing data", in: "{\"a\":1} x\n", wantErr: "line 1: bad JSON"},
		{name: "bad number", in: "{\"a\":01}\n", wantErr: "line 1: bad JSON"},
		{name: "unterminated", in: "{\"a\":\"x}\n", wantErr: "line 1: bad JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, jsonlFormat) })
	}
}

func TestJSONLDecoder(t *testing.T) {
	in := `{"user_id": "5", "ts": 1698883648000, "price": 10.5, "ok": true, "tags": ["a", "b"]}` + "\n" +
		`{"ts": 2, "user_id": 7, "price": 3, "ok": null}` + "\n" +
		"\n" +
		`{"user_id": "a\"b\u00e9", "ts": "3", "price": "2.5", "ok": "false", "tags": {"k": [1, 2]}}` + "\n" +
		`{"user_id": "x", "ts": "", "price": -1, "tags": "plain"}`
	_, got, sizes, lines := inferAndDecode(t, jsonlFormat, in, "ts:long,price:double,ok:boolean",
		"user_id:string,ts:long,price:double,ok:boolean,tags:string", 4, 3)
	want := []string{
		`5|1698883648000|10.5|true|["a","b"]`,
		`7|2|3|∅|∅`,
		`a"bé|3|2.5|false|{"k":[1,2]}`,
		`x|∅|-1|∅|plain`,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("rows:\n%q\nwant\n%q", got, want)
	}
	if fmt.Sprint(sizes) != "[3 1]" || fmt.Sprint(lines) != "[1 2 4 5]" {
		t.Errorf("sizes %v lines %v, want [3 1] [1 2 4 5]", sizes, lines)
	}
}

func TestJSONLDecoderErrors(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	for _, tc := range []struct{ name, in, wantErr string }{
		{"float into long", "{\"ts\":1}\n{\"ts\":1.5}\n", `line 2: column "ts": 1.5 is not a long`},
		{"string into long", `{"ts":"abc"}`, `line 1: column "ts": "abc" is not a long`},
		{"nested into long", `{"ts":[1]}`, `line 1: column "ts": [1] is not a long`},
		{"number into boolean", `{"ok":1}`, `line 1: column "ok": 1 is not a boolean`},
		{"unknown key", `{"zz":1}`, `line 1: column "zz": is not in the schema`},
		{"duplicate key", `{"ts":1,"ts":2}`, `line 1: column "ts": appears twice in the object`},
		{"bad json", "{\"ts\":1}\n\n{\"ts\":}\n", `line 3: bad JSON at byte 7: want a value`},
		{"bad escape", `{"s":"\x"}`, `line 1: bad JSON at byte 6: bad string escape`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec, err := NewJSONLDecoder(strings.NewReader(tc.in), schema, DecodeOptions{BatchRows: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Release()
			_, _, _, err = decodeAll(t, dec)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestJSONLLongLine(t *testing.T) {
	long := strings.Repeat("x", 200*1024)
	in := `{"s":"` + long + `"}` + "\n" + `{"s":"y"}`
	schema, rows, err := InferJSONL(strings.NewReader(in), nil)
	if err != nil || rows != 2 {
		t.Fatalf("InferJSONL: %v rows %d", err, rows)
	}
	dec, err := NewJSONLDecoder(strings.NewReader(in), schema, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Release()
	got, _, lines, err := decodeAll(t, dec)
	if err != nil || len(got) != 2 || got[0] != long || got[1] != "y" || fmt.Sprint(lines) != "[1 2]" {
		t.Fatalf("long line decode: err %v, %d rows, lines %v", err, len(got), lines)
	}
}
