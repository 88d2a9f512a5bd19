// SPDX-License-Identifier: Apache-2.0

package online

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

var (
	tI64  = arrow.PrimitiveTypes.Int64
	tI32  = arrow.PrimitiveTypes.Int32
	tF64  = arrow.PrimitiveTypes.Float64
	tStr  = arrow.BinaryTypes.String
	tBool = arrow.FixedWidthTypes.Boolean
)

func TestKeyEncodingWidths(t *testing.T) {
	a, err := AppendKey(nil, []any{int32(5), "x"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := AppendKey(nil, []any{int64(5), "x"})
	if string(a) != string(b) {
		t.Errorf("int32 and int64 keys differ: %q %q", a, b)
	}
	c, _ := AppendKey(nil, []any{"5", "x"})
	if string(a) == string(c) {
		t.Errorf("the string key \"5\" encodes like the integer 5")
	}
	// Concatenation cannot collide: ("ab","c") vs ("a","bc").
	d, _ := AppendKey(nil, []any{"ab", "c"})
	e, _ := AppendKey(nil, []any{"a", "bc"})
	if string(d) == string(e) {
		t.Error("length prefixes missing")
	}
	if _, err := AppendKey(nil, []any{struct{}{}}); err == nil {
		t.Error("an unsupported key type is accepted")
	}
}

func TestCoerceKey(t *testing.T) {
	for _, tc := range []struct {
		in   any
		t    arrow.DataType
		want any
		ok   bool
	}{
		{"5", tStr, "5", true},
		{float64(5), tStr, "5", true},
		{json.Number("5"), tStr, "5", true},
		{"5", tI64, int64(5), true},
		{float64(5), tI64, int64(5), true},
		{float64(5.5), tI64, nil, false},
		{json.Number("7"), tI32, int32(7), true},
		{"3000000000", tI32, nil, false},
		{"x", tI64, nil, false},
		{"2.5", tF64, 2.5, true},
		{int64(2), tF64, 2.0, true},
		{"true", tBool, true, true},
		{nil, tI64, nil, true},
	} {
		got, err := CoerceKey(tc.in, tc.t)
		if (err == nil) != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("CoerceKey(%#v, %s) = %#v, %v; want %#v (ok %v)", tc.in, tc.t, got, err, tc.want, tc.ok)
		}
	}
}

func rowTypes() []arrow.DataType {
	return []arrow.DataType{tI64, tF64, tStr, tBool, tI32, arrow.ListOf(tI64), arrow.MapOf(tStr, tF64), arrow.BinaryTypes.Binary}
}

func TestRowRoundTrip(t *testing.T) {
	types := rowTypes()
	for _, row := range [][]any{
		{int64(-3), 2.5, "héllo", true, int32(7), []any{int64(1), nil, int64(3)}, map[string]any{"a": 1.5, "b": nil}, []byte{0, 1}},
		{nil, nil, nil, nil, nil, nil, nil, nil},
		{int64(0), 0.0, "", false, int32(0), []any{}, map[string]any{}, []byte{}},
	} {
		b, err := AppendRow(nil, types, row)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeRow(b, types)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, row) {
			t.Errorf("round trip: got %#v, want %#v", got, row)
		}
	}
	if _, err := AppendRow(nil, types[:1], []any{"not an int"}); err == nil {
		t.Error("a value of the wrong type is accepted")
	}
	if _, err := DecodeRow([]byte{1, 1}, types[:1]); !errors.Is(err, ErrCorruptRow) {
		t.Errorf("truncated row: err = %v", err)
	}
}

func FuzzDecodeRow(f *testing.F) {
	types := rowTypes()
	good, _ := AppendRow(nil, types, []any{int64(1), 1.0, "x", true, int32(2), []any{int64(4)}, map[string]any{"k": 2.0}, []byte("z")})
	f.Add(good)
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		row, err := DecodeRow(b, types)
		if err != nil {
			return
		}
		again, err := AppendRow(nil, types, row)
		if err != nil {
			t.Fatalf("a decoded row does not encode: %v", err)
		}
		if _, err := DecodeRow(again, types); err != nil {
			t.Fatalf("re-encoded row does not decode: %v", err)
		}
	})
}
