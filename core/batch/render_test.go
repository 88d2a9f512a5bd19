// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// renderSchema covers scalars, nested types, binary and temporal types.
var renderSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	{Name: "attrs", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), Nullable: true},
	{Name: "info", Type: arrow.StructOf(
		arrow.Field{Name: "y", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "x", Type: arrow.BinaryTypes.String, Nullable: true},
	), Nullable: true},
	{Name: "raw", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
	{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
}, nil)

const renderRows = `[
{"id": 1, "name": "héllo 世界", "score": 1.5, "tags": ["a", null, "b,c"],
 "attrs": [{"key": "k1", "value": 10}, {"key": "k\"2", "value": null}],
 "info": {"y": 7, "x": "über"}, "raw": "aGk=", "day": 19662, "ts": 1698841845123, "ok": true},
{"id": -9007199254740993, "name": null, "score": null, "tags": null, "attrs": null, "info": null,
 "raw": null, "day": null, "ts": null, "ok": null},
{"id": 3, "name": "line\nbreak", "score": 100000000000, "tags": [], "attrs": [],
 "info": {"y": null, "x": null}, "raw": "", "day": 0, "ts": 0, "ok": false}
]`

func renderRecord(t *testing.T) arrow.RecordBatch {
	t.Helper()
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, renderSchema, strings.NewReader(renderRows))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rec.Release)
	return rec
}

func render(t *testing.T, format string, opts RenderOptions, schema *arrow.Schema, recs ...arrow.RecordBatch) string {
	t.Helper()
	var buf bytes.Buffer
	if err := RenderBatches(&buf, format, schema, opts, recs...); err != nil {
		t.Fatalf("RenderBatches(%s): %v", format, err)
	}
	return buf.String()
}

func TestRenderFormats(t *testing.T) {
	rec := renderRecord(t)
	for _, tc := range []struct {
		format string
		opts   RenderOptions
		want   string
	}{
		{FormatTable, RenderOptions{}, "" +
			"               id | name        |        score | tags             | attrs                 | info                | raw  | day        | ts                      | ok\n" +
			"------------------+-------------+--------------+------------------+-----------------------+---------------------+------+------------+-------------------------+------\n" +
			"                1 | héllo 世界  |          1.5 | [\"a\",null,\"b,c\"] | {\"k1\":10,\"k\\\"2\":null} | {\"y\":7,\"x\":\"über\"}  | aGk= | 2023-11-01 | 2023-11-01 12:30:45.123 | true\n" +
			"-9007199254740993 | NULL        |         NULL | NULL             | NULL                  | NULL                | NULL | NULL       | NULL                    | NULL\n" +
			"                3 | line\\nbreak | 100000000000 | []               | {}                    | {\"y\":null,\"x\":null} |      | 1970-01-01 | 1970-01-01 00:00:00     | false\n" +
			"(3 rows)\n"},
		{FormatTable, RenderOptions{MaxCellWidth: 8}, "" +
			"               id | name     |        score | tags     | attrs    | info     | raw  | day        | ts                      | ok\n" +
			"------------------+----------+--------------+----------+----------+----------+------+------------+-------------------------+------\n" +
			"                1 | héllo …  |          1.5 | [\"a\",nu… | {\"k1\":1… | {\"y\":7,… | aGk= | 2023-11-01 | 2023-11-01 12:30:45.123 | true\n" +
			"-9007199254740993 | NULL     |         NULL | NULL     | NULL     | NULL     | NULL | NULL       | NULL                    | NULL\n" +
			"                3 | line\\nb… | 100000000000 | []       | {}       | {\"y\":nu… |      | 1970-01-01 | 1970-01-01 00:00:00     | false\n" +
			"(3 rows)\n"},
		{FormatCSV, RenderOptions{}, "" +
			"id,name,score,tags,attrs,info,raw,day,ts,ok\n" +
			"1,héllo 世界,1.5,\"[\"\"a\"\",null,\"\"b,c\"\"]\",\"{\"\"k1\"\":10,\"\"k\\\"\"2\"\":null}\",\"{\"\"y\"\":7,\"\"x\"\":\"\"über\"\"}\",aGk=,2023-11-01,2023-11-01 12:30:45.123,true\n" +
			"-9007199254740993,,,,,,,,,\n" +
			"3,\"line\nbreak\",100000000000,[],{},\"{\"\"y\"\":null,\"\"x\"\":null}\",,1970-01-01,1970-01-01 00:00:00,false\n"},
		{FormatJSON, RenderOptions{}, "" +
			`{"id":1,"name":"héllo 世界","score":1.5,"tags":["a",null,"b,c"],"attrs":{"k1":10,"k\"2":null},"info":{"y":7,"x":"über"},"raw":"aGk=","day":"2023-11-01","ts":"2023-11-01 12:30:45.123","ok":true}` + "\n" +
			`{"id":-9007199254740993,"name":null,"score":null,"tags":null,"attrs":null,"info":null,"raw":null,"day":null,"ts":null,"ok":null}` + "\n" +
			`{"id":3,"name":"line\nbreak","score":100000000000,"tags":[],"attrs":{},"info":{"y":null,"x":null},"raw":"","day":"1970-01-01","ts":"1970-01-01 00:00:00","ok":false}` + "\n"},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.format, tc.opts.MaxCellWidth), func(t *testing.T) {
			got := render(t, tc.format, tc.opts, renderSchema, rec)
			if got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestRenderJSONIsValid(t *testing.T) {
	rec := renderRecord(t)
	out := render(t, FormatJSON, RenderOptions{}, renderSchema, rec)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3", len(lines))
	}
	for _, line := range lines {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			t.Fatalf("invalid JSON %s: %v", line, err)
		}
		if len(row) != len(renderSchema.Fields()) {
			t.Errorf("row has %d keys, want %d", len(row), len(renderSchema.Fields()))
		}
	}
	// int64 beyond 2^53 is kept exact, as a number.
	if !strings.Contains(lines[1], `"id":-9007199254740993,`) {
		t.Errorf("int64 not rendered exactly: %s", lines[1])
	}
}

func TestRenderCSVRoundTrip(t *testing.T) {
	rec := renderRecord(t)
	out := render(t, FormatCSV, RenderOptions{}, renderSchema, rec)
	got, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("got %d records, want 4", len(got))
	}
	if got[1][1] != "héllo 世界" || got[3][1] != "line\nbreak" || got[1][3] != `["a",null,"b,c"]` {
		t.Errorf("unexpected fields: %q", got)
	}
}

func TestRenderEmpty(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64},
		{Name: "bb", Type: arrow.BinaryTypes.String},
	}, nil)
	empty, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(`[]`))
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Release()
	for _, tc := range []struct {
		format string
		recs   []arrow.RecordBatch
		want   string
	}{
		{FormatTable, nil, "a | bb\n--+---\n(0 rows)\n"},
		{FormatTable, []arrow.RecordBatch{empty}, "a | bb\n--+---\n(0 rows)\n"},
		{FormatCSV, nil, "a,bb\n"},
		{FormatCSV, []arrow.RecordBatch{empty, empty}, "a,bb\n"},
		{FormatJSON, []arrow.RecordBatch{empty}, ""},
	} {
		if got := render(t, tc.format, RenderOptions{}, schema, tc.recs...); got != tc.want {
			t.Errorf("%s with %d batches: got %q, want %q", tc.format, len(tc.recs), got, tc.want)
		}
	}
}

func TestRenderTableAlignRows(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "n", Type: arrow.PrimitiveTypes.Int32},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	var recs []arrow.RecordBatch
	for _, js := range []string{
		`[{"n": 1, "s": "a"}, {"n": 22, "s": "bb"}]`,
		`[{"n": 333, "s": "cccc"}]`,
		`[{"n": 4, "s": null}]`,
	} {
		rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(js))
		if err != nil {
			t.Fatal(err)
		}
		defer rec.Release()
		recs = append(recs, rec)
	}
	// Widths come from the first two rows; later rows overflow them.
	want := "" +
		" n | s\n" +
		"---+---\n" +
		" 1 | a\n" +
		"22 | bb\n" +
		"333 | cccc\n" +
		" 4 | NULL\n" +
		"(4 rows)\n"
	if got := render(t, FormatTable, RenderOptions{AlignRows: 2}, schema, recs...); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// stringDict returns an int8-indexed dictionary array of strings (nil for
// null), released when the test ends.
func stringDict(t *testing.T, values ...any) arrow.Array {
	t.Helper()
	dictType := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	db := array.NewDictionaryBuilder(memory.DefaultAllocator, dictType).(*array.BinaryDictionaryBuilder)
	defer db.Release()
	for _, v := range values {
		if v == nil {
			db.AppendNull()
		} else if err := db.AppendString(v.(string)); err != nil {
			t.Fatal(err)
		}
	}
	dict := db.NewArray()
	t.Cleanup(dict.Release)
	return dict
}

func TestRenderScalars(t *testing.T) {
	mem := memory.DefaultAllocator
	dict := stringDict(t, "x", "y", "x")
	dictType := dict.DataType()

	fb := array.NewFloat64Builder(mem)
	defer fb.Release()
	fb.AppendValues([]float64{math.NaN(), math.Inf(1), 1e-7}, nil)
	floats := fb.NewArray()
	defer floats.Release()

	decType := &arrow.Decimal128Type{Precision: 10, Scale: 3}
	decs, _, err := array.FromJSON(mem, decType, strings.NewReader(`["1.250", "-0.001", "12345"]`))
	if err != nil {
		t.Fatal(err)
	}
	defer decs.Release()

	tsType := &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	tss, _, err := array.FromJSON(mem, tsType, strings.NewReader(`[1698841845000001, 0, null]`))
	if err != nil {
		t.Fatal(err)
	}
	defer tss.Release()

	// A list of structs and a map with integer keys.
	lsType := arrow.ListOf(arrow.StructOf(arrow.Field{Name: "k", Type: arrow.BinaryTypes.String, Nullable: true}))
	ls, _, err := array.FromJSON(mem, lsType, strings.NewReader(`[[{"k": "a"}, null], null, [{"k": null}]]`))
	if err != nil {
		t.Fatal(err)
	}
	defer ls.Release()
	miType := arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.ListOf(arrow.PrimitiveTypes.Float32))
	mi, _, err := array.FromJSON(mem, miType, strings.NewReader(`[[{"key": 1, "value": [0.5]}], [], [{"key": -2, "value": null}]]`))
	if err != nil {
		t.Fatal(err)
	}
	defer mi.Release()

	schema := arrow.NewSchema([]arrow.Field{
		{Name: "dict", Type: dictType, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "dec", Type: decType, Nullable: true},
		{Name: "ts", Type: tsType, Nullable: true},
		{Name: "ls", Type: lsType, Nullable: true},
		{Name: "mi", Type: miType, Nullable: true},
	}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{dict, floats, decs, tss, ls, mi}, 3)
	defer rec.Release()

	for _, tc := range []struct {
		format, want string
	}{
		{FormatJSON, "" +
			`{"dict":"x","f":"NaN","dec":1.250,"ts":"2023-11-01 12:30:45.000001Z","ls":[{"k":"a"},null],"mi":{"1":[0.5]}}` + "\n" +
			`{"dict":"y","f":"Infinity","dec":-0.001,"ts":"1970-01-01 00:00:00Z","ls":null,"mi":{}}` + "\n" +
			`{"dict":"x","f":1e-7,"dec":12345.000,"ts":null,"ls":[{"k":null}],"mi":{"-2":null}}` + "\n"},
		{FormatTable, "" +
			"dict |        f |       dec | ts                          | ls               | mi\n" +
			"-----+----------+-----------+-----------------------------+------------------+------------\n" +
			"x    |      NaN |     1.250 | 2023-11-01 12:30:45.000001Z | [{\"k\":\"a\"},null] | {\"1\":[0.5]}\n" +
			"y    | Infinity |    -0.001 | 1970-01-01 00:00:00Z        | NULL             | {}\n" +
			"x    |     1e-7 | 12345.000 | NULL                        | [{\"k\":null}]     | {\"-2\":null}\n" +
			"(3 rows)\n"},
	} {
		if got := render(t, tc.format, RenderOptions{}, schema, rec); got != tc.want {
			t.Errorf("%s: got:\n%s\nwant:\n%s", tc.format, got, tc.want)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	var buf bytes.Buffer
	_, err := NewRenderer(&buf, "yaml", renderSchema, RenderOptions{})
	if err == nil || !strings.Contains(err.Error(), "table, csv, json") {
		t.Errorf("unknown format: got %v, want error listing formats", err)
	}
	if _, err := NewRenderer(&buf, FormatCSV, nil, RenderOptions{}); err == nil {
		t.Error("nil schema: want error")
	}
	rec := renderRecord(t)
	other := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}}, nil)
	for _, format := range Formats() {
		r, err := NewRenderer(&buf, format, other, RenderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.WriteBatch(rec); err == nil {
			t.Errorf("%s: column count mismatch: want error", format)
		}
		if err := r.Flush(); err != nil {
			t.Errorf("%s: Flush: %v", format, err)
		}
		if err := r.WriteBatch(rec); err == nil {
			t.Errorf("%s: WriteBatch after Flush: want error", format)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRenderWriteError(t *testing.T) {
	rec := renderRecord(t)
	for _, format := range Formats() {
		err := RenderBatches(failWriter{}, format, renderSchema, RenderOptions{}, rec)
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: got %v, want the write error", format, err)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":       `"plain"`,
		"q\"b\\":      `"q\"b\\"`,
		"<&>":         `"<&>"`,
		"\x01\x7f\t":  `"\u0001\u007f\t"`,
		"bad\xffutf8": `"bad\ufffdutf8"`,
		"日本\u2028":    `"日本\u2028"`,
		"emoji 🎉":     `"emoji 🎉"`,
	} {
		got := string(appendJSONString(nil, in))
		if got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("appendJSONString(%q) = %s: invalid JSON: %v", in, got, err)
		}
	}
}

func TestTableUnicodeWidth(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "名前", Type: arrow.BinaryTypes.String},
		{Name: "n", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(
		`[{"名前": "日本語テキスト", "n": 1}, {"名前": "e\u0301", "n": 2}, {"名前": "🎉🎉", "n": 3}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	want := "" +
		"名前      | n\n" +
		"----------+--\n" +
		"日本語テ… | 1\n" +
		"e\u0301         | 2\n" +
		"🎉🎉      | 3\n" +
		"(3 rows)\n"
	if got := render(t, FormatTable, RenderOptions{MaxCellWidth: 9}, schema, rec); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestRenderEncodedNulls(t *testing.T) {
	mem := memory.DefaultAllocator
	dict := stringDict(t, "a", nil)
	dictType := dict.DataType()

	reeType := arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64)
	rb := array.NewBuilder(mem, reeType).(*array.RunEndEncodedBuilder)
	defer rb.Release()
	rb.Append(1)
	rb.ValueBuilder().(*array.Int64Builder).Append(7)
	rb.AppendNull()
	ree := rb.NewArray()
	defer ree.Release()

	schema := arrow.NewSchema([]arrow.Field{
		{Name: "d", Type: dictType, Nullable: true},
		{Name: "r", Type: reeType, Nullable: true},
	}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{dict, ree}, 2)
	defer rec.Release()
	for format, want := range map[string]string{
		FormatCSV:   "d,r\na,7\n,\n",
		FormatJSON:  `{"d":"a","r":7}` + "\n" + `{"d":null,"r":null}` + "\n",
		FormatTable: "d    |    r\n-----+-----\na    |    7\nNULL | NULL\n(2 rows)\n",
	} {
		if got := render(t, format, RenderOptions{}, schema, rec); got != want {
			t.Errorf("%s: got %q, want %q", format, got, want)
		}
	}
}
