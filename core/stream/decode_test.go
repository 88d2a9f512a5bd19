// SPDX-License-Identifier: Apache-2.0

package stream

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/expr"
)

// returnsSchema is the quickstart's data.returns table.
func returnsSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "ds", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "return_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "user_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "product_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "refund_amt", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
}

const returnsTopic = "events.returns/fields=ts,return_id,user_id,product_id,refund_amt/host=kafka/port=9092"

// richSchema has a column of every type the decoder reads, and one it skips.
func richSchema() *arrow.Schema {
	f := func(name string, t arrow.DataType) arrow.Field {
		return arrow.Field{Name: name, Type: t, Nullable: true}
	}
	return arrow.NewSchema([]arrow.Field{
		f("b", arrow.FixedWidthTypes.Boolean),
		f("i8", arrow.PrimitiveTypes.Int8),
		f("i16", arrow.PrimitiveTypes.Int16),
		f("i32", arrow.PrimitiveTypes.Int32),
		f("i64", arrow.PrimitiveTypes.Int64),
		f("f32", arrow.PrimitiveTypes.Float32),
		f("f64", arrow.PrimitiveTypes.Float64),
		f("s", arrow.BinaryTypes.String),
		f("ls", arrow.BinaryTypes.LargeString),
		f("bin", arrow.BinaryTypes.Binary),
		f("fsb", &arrow.FixedSizeBinaryType{ByteWidth: 4}),
		f("d", arrow.FixedWidthTypes.Date32),
		f("t", &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}),
		f("tags", arrow.ListOf(arrow.PrimitiveTypes.Int64)),
		f("m", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64)),
		f("st", arrow.StructOf(f("zip", arrow.PrimitiveTypes.Int32), f("city", arrow.BinaryTypes.String))),
		f("dict", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}),
		f("u", arrow.PrimitiveTypes.Uint32),
		f("n", arrow.Null),
	}, nil)
}

func mustDecoder(t testing.TB, topic string, schema *arrow.Schema) *Decoder {
	t.Helper()
	tp, err := ParseTopic(topic)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewDecoder(tp, schema)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDecodeQuickstart(t *testing.T) {
	d := mustDecoder(t, returnsTopic, returnsSchema())
	tests := []struct {
		name, payload string
		want          map[string]any
	}{
		{"csv", "1701475200000,F8E3,91,81,356", map[string]any{
			"ts": int64(1701475200000), "return_id": "F8E3", "user_id": "91", "product_id": "81", "refund_amt": int64(356)}},
		{"csv with newline", "1701475200000,F8E3,91,81,356\r\n", map[string]any{
			"ts": int64(1701475200000), "return_id": "F8E3", "user_id": "91", "product_id": "81", "refund_amt": int64(356)}},
		{"csv empty fields are null", "1701475200000,,91,,", map[string]any{"ts": int64(1701475200000), "user_id": "91"}},
		{"csv quoted", `1701475200000,"a,""b""",91,81, 356 `, map[string]any{
			"ts": int64(1701475200000), "return_id": `a,"b"`, "user_id": "91", "product_id": "81", "refund_amt": int64(356)}},
		{"csv bare quote", `1,a"b,91,81,3`, map[string]any{
			"ts": int64(1), "return_id": `a"b`, "user_id": "91", "product_id": "81", "refund_amt": int64(3)}},
		{"csv bom", "\xef\xbb\xbf1,r,u,p,2", map[string]any{
			"ts": int64(1), "return_id": "r", "user_id": "u", "product_id": "p", "refund_amt": int64(2)}},
		{"json", `{"ts": 1701475200000, "user_id": 91, "refund_amt": "356", "extra": [1, {"x": 2}], "product_id": null}`, map[string]any{
			"ts": int64(1701475200000), "user_id": "91", "refund_amt": int64(356)}},
		{"json leading blanks", "  \n{\"user_id\": \"5\"}\n", map[string]any{"user_id": "5"}},
		{"json big long keeps digits", `{"ts": 9007199254740993}`, map[string]any{"ts": int64(9007199254740993)}},
		{"json whole float to long", `{"refund_amt": 356.0, "ts": 1.7e12}`, map[string]any{"refund_amt": int64(356), "ts": int64(1.7e12)}},
		{"json number to string keeps text", `{"user_id": 1.50, "return_id": true}`, map[string]any{"user_id": "1.50", "return_id": "true"}},
		{"json empty object", `{}`, map[string]any{}},
	}
	for _, tt := range tests {
		got, err := d.Decode([]byte(tt.payload))
		if err != nil {
			t.Errorf("%s: Decode(%q): %v", tt.name, tt.payload, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Decode(%q) = %#v, want %#v", tt.name, tt.payload, got, tt.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	d := mustDecoder(t, returnsTopic, returnsSchema())
	tests := []struct{ payload, field, msg string }{
		{"", "", "empty message"},
		{" \r\n", "", "empty message"},
		{"1,2,3", "", "CSV record has 3 fields, the topic's fields= lists 5 (ts,return_id,user_id,product_id,refund_amt)"},
		{"1,2,3,4,5,6", "", "CSV record has 6 fields"},
		{"1,r,u,p,5\n2,r,u,p,5", "", "bad CSV: more than one record in the message"},
		{"x,r,u,p,5", "ts", `cannot parse "x" as long`},
		{"1,r,u,p,5.5", "refund_amt", `cannot use "5.5" as long: it has a fraction`},
		{"1,r,u,p,99999999999999999999", "refund_amt", `"99999999999999999999" is out of range for long`},
		{`{"user_id": "5"`, "", "bad JSON: unexpected EOF"},
		{`{"user_id": "5"} {}`, "", "bad JSON: data after the object"},
		{`{"user_id": "5"}}`, "", "bad JSON"},
		{`{"ts": "abc"}`, "ts", `cannot parse "abc" as long`},
		{`{"ts": 1.5}`, "ts", "cannot use 1.5 as long: it has a fraction"},
		{`{"ts": 1e300}`, "ts", "cannot use 1e300 as long exactly"},
		{`{"ts": 1e400}`, "ts", "1e400 is out of range for long"},
		{`{"ts": true}`, "ts", "cannot use true as long"},
		{`{"ts": [1]}`, "ts", "cannot use an array as long"},
		{`{"user_id": {"a": 1}}`, "user_id", "cannot use an object as string"},
		// The first bad column in schema order is reported, whatever the
		// map order.
		{`{"refund_amt": "x", "ts": "y", "user_id": []}`, "ts", `cannot parse "y" as long`},
	}
	for _, tt := range tests {
		_, err := d.Decode([]byte(tt.payload))
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Errorf("Decode(%q) error = %v, want a *DecodeError", tt.payload, err)
			continue
		}
		if de.Field != tt.field || !strings.Contains(de.Msg, tt.msg) {
			t.Errorf("Decode(%q) error = field %q msg %q, want field %q msg containing %q", tt.payload, de.Field, de.Msg, tt.field, tt.msg)
		}
	}
	// The message as the issue shows it.
	_, err := d.Decode([]byte(`{"ts": "x"}`))
	if got, want := err.Error(), `field ts: cannot parse "x" as long`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestDecodeNoFields(t *testing.T) {
	d := mustDecoder(t, "events.returns", returnsSchema())
	if _, err := d.Decode([]byte("1,2,3")); err == nil || !strings.Contains(err.Error(), "no fields=") {
		t.Errorf("CSV without fields=: error = %v", err)
	}
	if _, err := d.Decode([]byte("[1]")); err == nil {
		t.Error("a JSON array should not decode")
	}
	got, err := d.Decode([]byte(`{"ts": 5}`))
	if err != nil || got["ts"] != int64(5) {
		t.Errorf("JSON without fields= = %v, %v", got, err)
	}
}

func TestNewDecoderErrors(t *testing.T) {
	if _, err := NewDecoder(Topic{ID: "abc"}, nil); err == nil {
		t.Error("nil schema: no error")
	}
	tp, _ := ParseTopic("events.returns/fields=ts,user_idd")
	_, err := NewDecoder(tp, returnsSchema())
	if err == nil || !strings.Contains(err.Error(), `field "user_idd" of fields= is not a column`) {
		t.Errorf("typo in fields=: error = %v", err)
	}
}

func TestDecodeTypes(t *testing.T) {
	d := mustDecoder(t, "abc/fields=b,i8,i16,i32,i64,f32,f64,s,ls,bin,fsb,d,t,tags,m,st,dict,u,n", richSchema())
	day := expr.Date(19724) // 2024-01-02
	ts := time.Date(2024, 1, 2, 3, 4, 5, 123e6, time.UTC)
	tests := []struct {
		name, payload string
		want          map[string]any
	}{
		{"json", `{"b": true, "i8": -128, "i16": "300", "i32": 7.0, "i64": -9223372036854775808,
			"f32": 1.5, "f64": "NaN", "s": "x", "ls": "y", "bin": "raw", "fsb": "abcd", "d": "2024-01-02",
			"t": "2024-01-02T03:04:05.123Z", "tags": [1, "2", null], "m": {"a": 1, "b": null},
			"st": {"zip": "94107", "other": 1}, "dict": "v", "u": "skipped: not decoded", "n": 5}`,
			map[string]any{"b": true, "i8": int8(-128), "i16": int16(300), "i32": int32(7), "i64": int64(math.MinInt64),
				"f32": float32(1.5), "f64": math.NaN(), "s": "x", "ls": "y", "bin": []byte("raw"), "fsb": []byte("abcd"), "d": day,
				"t": ts, "tags": []any{int64(1), int64(2), nil}, "m": map[string]any{"a": 1.0, "b": nil},
				"st": map[string]any{"zip": int32(94107), "city": nil}, "dict": "v"}},
		{"json timestamp millis", `{"t": 1704164645123}`, map[string]any{"t": ts}},
		{"json bool as string", `{"b": "false"}`, map[string]any{"b": false}},
		{"csv", `t,-1,2,3,4,0.25,1e3,x,y,raw,abcd,2024-01-02,2024-01-02 03:04:05.123,"[1,2]","{""a"":2}","{""zip"":1}",v,7,z`,
			map[string]any{"b": true, "i8": int8(-1), "i16": int16(2), "i32": int32(3), "i64": int64(4),
				"f32": float32(0.25), "f64": 1000.0, "s": "x", "ls": "y", "bin": []byte("raw"), "fsb": []byte("abcd"), "d": day,
				"t": ts, "tags": []any{int64(1), int64(2)}, "m": map[string]any{"a": 2.0},
				"st": map[string]any{"zip": int32(1), "city": nil}, "dict": "v"}},
		{"csv timestamp millis", `,,,,,,,,,,,,1704164645123,,,,,,`, map[string]any{"t": ts}},
	}
	for _, tt := range tests {
		got, err := d.Decode([]byte(tt.payload))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !sameRow(got, tt.want) {
			t.Errorf("%s: Decode =\n%#v\nwant\n%#v", tt.name, got, tt.want)
		}
		// core/expr takes the row as it is and hands the values back.
		out, _, err := identity(t, richSchema()).ApplyRow(got)
		if err != nil {
			t.Errorf("%s: ApplyRow: %v", tt.name, err)
		}
		for k, v := range out {
			if v == nil {
				delete(out, k)
			}
		}
		if !sameRow(out, tt.want) {
			t.Errorf("%s: ApplyRow =\n%#v\nwant\n%#v", tt.name, out, tt.want)
		}
	}
}

// identity is a projection selecting every column core/expr can read.
func identity(t testing.TB, s *arrow.Schema) *expr.Projection {
	t.Helper()
	var sel [][2]string
	for _, f := range s.Fields() {
		if f.Name != "u" {
			sel = append(sel, [2]string{f.Name, "`" + f.Name + "`"})
		}
	}
	p, err := expr.CompileProjection(sel, nil, s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sameRow is reflect.DeepEqual where NaN equals NaN.
func sameRow(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok {
			return false
		}
		if f, ok := v.(float64); ok && math.IsNaN(f) {
			if g, ok := w.(float64); !ok || !math.IsNaN(g) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(v, w) {
			return false
		}
	}
	return true
}

func TestDecodeTypeErrors(t *testing.T) {
	d := mustDecoder(t, "abc", richSchema())
	tests := []struct{ payload, field, msg string }{
		{`{"b": 1}`, "b", "cannot use 1 as boolean"},
		{`{"b": "yes"}`, "b", `cannot parse "yes" as boolean`},
		{`{"i8": 128}`, "i8", "128 is out of range for tinyint"},
		{`{"i16": "-32769"}`, "i16", `"-32769" is out of range for smallint`},
		{`{"i32": 2147483648}`, "i32", "2147483648 is out of range for int"},
		{`{"f32": 1e39}`, "f32", "1e39 is out of range for float"},
		{`{"f64": "x"}`, "f64", `cannot parse "x" as double`},
		{`{"f64": false}`, "f64", "cannot use false as double"},
		{`{"bin": 5}`, "bin", "cannot use 5 as binary"},
		{`{"fsb": "abc"}`, "fsb", `"abc" has 3 bytes, binary needs 4`},
		{`{"d": "2024-13-01"}`, "d", `cannot parse "2024-13-01" as date`},
		{`{"d": 19724}`, "d", "cannot use 19724 as date"},
		{`{"t": "yesterday"}`, "t", `cannot parse "yesterday" as timestamp`},
		{`{"t": 1.5}`, "t", "cannot use 1.5 as timestamp: it has a fraction"},
		{`{"t": 9223372036854776}`, "t", "out of range for timestamp"},
		{`{"tags": [1, "x"]}`, "tags[1]", `cannot parse "x" as long`},
		{`{"tags": {"a": 1}}`, "tags", "cannot use an object as array<long>"},
		{`{"tags": "[1,"}`, "tags", `cannot parse "[1," as array<long>`},
		{`{"tags": "[1] 2"}`, "tags", "data after the JSON value"},
		{`{"tags": "\"[1]\""}`, "tags", "cannot use a string as array<long>"},
		{`{"m": {"k": "x"}}`, "m[\"k\"]", `cannot parse "x" as double`},
		{`{"st": {"zip": "x"}}`, "st.zip", `cannot parse "x" as int`},
		{`{"st": [1]}`, "st", "cannot use an array as struct"},
		{`{"s": "` + strings.Repeat("é", 100) + `", "i64": "` + strings.Repeat("9", 100) + `"}`, "i64", `"` + strings.Repeat("9", 64) + `"... is out of range`},
	}
	for _, tt := range tests {
		_, err := d.Decode([]byte(tt.payload))
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Errorf("Decode(%q) error = %v, want a *DecodeError", tt.payload, err)
			continue
		}
		if de.Field != tt.field || !strings.Contains(de.Msg, tt.msg) {
			t.Errorf("Decode(%q) error = field %q msg %q, want field %q msg containing %q", tt.payload, de.Field, de.Msg, tt.field, tt.msg)
		}
	}
}

// TestDecodeExprRow checks that decoded rows are what core/expr takes: a
// projection over the decoded row gives the values it gives offline.
func TestDecodeExprRow(t *testing.T) {
	d := mustDecoder(t, returnsTopic, returnsSchema())
	p, err := expr.CompileProjection([][2]string{{"user_id", "user_id"}, {"refund_amt", "refund_amt"}, {"ts", "ts"}},
		[]string{"refund_amt > 100"}, returnsSchema())
	if err != nil {
		t.Fatal(err)
	}
	for payload, want := range map[string]map[string]any{
		"1701475200000,F8E3,91,81,356": {"user_id": "91", "refund_amt": int64(356), "ts": int64(1701475200000)},
		"1701475200000,F8E3,91,81,56":  nil,
	} {
		row, err := d.Decode([]byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		out, keep, err := p.ApplyRow(row)
		if err != nil {
			t.Fatal(err)
		}
		if keep != (want != nil) || (keep && !reflect.DeepEqual(out, want)) {
			t.Errorf("%s: ApplyRow = %v, %v; want %v", payload, out, keep, want)
		}
	}
}
