// SPDX-License-Identifier: Apache-2.0

package pluginwire

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMarshalValue(t *testing.T) {
	type point struct {
		X float64 `json:"x"`
		Y int     `json:"y"`
	}
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"nil", nil, `null`},
		{"bool", true, `true`},
		{"int64", int64(-42), `-42`},
		{"int", 7, `7`},
		{"max int64", int64(math.MaxInt64), `9223372036854775807`},
		{"integral float", 3.0, `3.0`},
		{"negative zero", math.Copysign(0, -1), `-0.0`},
		{"fraction", 2.5, `2.5`},
		{"large float", 1e21, `1e+21`},
		{"small float", 1e-7, `1e-7`},
		{"float below 1e21", 1e20, `100000000000000000000.0`},
		{"float32", float32(0.1), `0.1`},
		{"float32 integral", float32(4), `4.0`},
		{"uint8", uint8(255), `255`},
		{"uint64", uint64(math.MaxUint64), `18446744073709551615`},
		{"json.Number", json.Number("1.50"), `1.50`},
		{"string escapes", "a\"b\\c\n<", `"a\"b\\c\n\u003c"`},
		{"list", []any{int64(1), 1.0, "x", nil}, `[1,1.0,"x",null]`},
		{"map sorted", map[string]any{"b": int64(2), "a": 1.5, "c": map[string]any{}}, `{"a":1.5,"b":2,"c":{}}`},
		{"typed slice", []float64{1, 2.5}, `[1.0,2.5]`},
		{"typed map", map[string]int32{"z": 1, "y": 2}, `{"y":2,"z":1}`},
		{"nil slice", []int(nil), `null`},
		{"pointer", new(float64), `0.0`},
		{"nil pointer", (*int)(nil), `null`},
		{"bytes", []byte("hi"), `"aGk="`},
		{"time", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), `"2026-01-02T03:04:05Z"`},
		{"struct", point{X: 1, Y: 2}, `{"x":1,"y":2}`},
		{"int keys", map[int]string{2: "b", 1: "a"}, `{"1":"a","2":"b"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MarshalValue(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("MarshalValue(%#v) = %s, want %s", tc.v, got, tc.want)
			}
			if !json.Valid(got) {
				t.Errorf("MarshalValue(%#v) = %s: not valid JSON", tc.v, got)
			}
		})
	}
}

func TestMarshalValueErrors(t *testing.T) {
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"NaN", math.NaN(), "encode value: NaN has no JSON representation"},
		{"nested Inf", map[string]any{"a": []any{int64(1), map[string]any{"b": math.Inf(-1)}}}, "encode value at a[1].b: -Inf"},
		{"typed", map[string][]float32{"v": {float32(math.Inf(1))}}, "at v[0]: +Inf"},
		{"bad json.Number", json.Number("1x"), "invalid json.Number"},
		{"cycle", cyclic, "nested too deeply"},
		{"channel", make(chan int), "type chan int"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := MarshalValue(tc.v)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("MarshalValue: %v, want an error saying %q", err, tc.want)
			}
			if len(err.Error()) > 300 {
				t.Errorf("error of %d bytes: %.100s…", len(err.Error()), err)
			}
		})
	}
}

func TestUnmarshalValue(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{`1`, int64(1)},
		{`-0`, int64(0)},
		{`1.0`, 1.0},
		{`1e2`, 100.0},
		{`1E-2`, 0.01},
		{`9223372036854775807`, int64(math.MaxInt64)},
		{`9223372036854775808`, 9223372036854775808.0},
		{`-9223372036854775809`, -9223372036854775809.0},
		{` {"a":[1,2.0,{"b":null}]} `, map[string]any{"a": []any{int64(1), 2.0, map[string]any{"b": nil}}}},
		{`"s"`, "s"},
		{`null`, nil},
	}
	for _, tc := range tests {
		got, err := UnmarshalValue([]byte(tc.in))
		if err != nil {
			t.Errorf("UnmarshalValue(%s): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("UnmarshalValue(%s) = %#v (%T), want %#v (%T)", tc.in, got, got, tc.want, tc.want)
		}
	}
	for _, bad := range []string{``, `{`, `1 2`, `1e999`, `[1,]`} {
		if v, err := UnmarshalValue([]byte(bad)); err == nil {
			t.Errorf("UnmarshalValue(%q) = %v, want an error", bad, v)
		}
	}
}

func TestUnmarshalObject(t *testing.T) {
	for _, in := range []string{``, `null`} {
		if m, err := UnmarshalObject([]byte(in)); err != nil || m != nil {
			t.Errorf("UnmarshalObject(%q) = %v, %v; want nil, nil", in, m, err)
		}
	}
	if _, err := UnmarshalObject([]byte(`[1]`)); err == nil || !strings.Contains(err.Error(), "want a JSON object") {
		t.Errorf("UnmarshalObject of a list: %v", err)
	}
}

// TestRoundTrip: every JSON-like value comes back with its Go types.
func TestRoundTrip(t *testing.T) {
	values := []any{
		nil, true, "", "ünïcode ✓", int64(0), int64(math.MinInt64), 0.0, -1.5, 1e300, 5e-324,
		math.MaxFloat64, 123456789.0, []any{}, map[string]any{},
		map[string]any{"i": int64(1), "f": 1.0, "l": []any{int64(2), 2.0, []any{nil}}, "m": map[string]any{"x": "y"}},
	}
	for _, v := range values {
		b, err := MarshalValue(v)
		if err != nil {
			t.Errorf("MarshalValue(%#v): %v", v, err)
			continue
		}
		got, err := UnmarshalValue(b)
		if err != nil {
			t.Errorf("UnmarshalValue(%s): %v", b, err)
			continue
		}
		if !reflect.DeepEqual(got, v) {
			t.Errorf("round trip of %#v via %s: %#v", v, b, got)
		}
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add(int64(3), 3.0, "s")
	f.Add(int64(-1), 1e21, "")
	f.Fuzz(func(t *testing.T, i int64, x float64, s string) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return
		}
		v := map[string]any{"i": i, "x": x, "s": s, "l": []any{i, x}}
		b, err := MarshalValue(v)
		if err != nil {
			if strings.ToValidUTF8(s, "") != s {
				return // encoding/json replaces invalid UTF-8
			}
			t.Fatal(err)
		}
		got, err := UnmarshalValue(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if s != strings.ToValidUTF8(s, "\uFFFD") {
			return
		}
		if !reflect.DeepEqual(got, v) {
			t.Fatalf("round trip of %#v via %s: %#v", v, b, got)
		}
	})
}
