// SPDX-License-Identifier: Apache-2.0

package stream

import (
	"errors"
	"testing"
)

// checkDecoded is what every Decode must satisfy: an error is a
// *DecodeError with a message, and a row is one core/expr takes as it is.
func checkDecoded(t *testing.T, d *Decoder, payload []byte) {
	row, err := d.Decode(payload)
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) || de.Msg == "" {
			t.Fatalf("Decode(%q) error %v (%T) is not a *DecodeError with a message", payload, err, err)
		}
		if row != nil {
			t.Fatalf("Decode(%q) returned a row and an error", payload)
		}
		return
	}
	for k, v := range row {
		if v == nil {
			t.Fatalf("Decode(%q): column %s is present but nil", payload, k)
		}
	}
	if _, _, err := identity(t, richSchema()).ApplyRow(row); err != nil {
		t.Fatalf("Decode(%q) = %#v, which core/expr rejects: %v", payload, row, err)
	}
}

func FuzzDecodeCSV(f *testing.F) {
	for _, s := range []string{
		`t,-1,2,3,4,0.25,1e3,x,y,raw,abcd,2024-01-02,2024-01-02 03:04:05.123,"[1,2]","{""a"":2}","{""zip"":1}",v,7,z`,
		",,,,,,,,,,,,1704164645123,,,,,,",
		`"a""b",1,2`,
		"1,2\n3,4",
		"\xef\xbb\xbf,,,,,,,,,,,,,,,,,,",
		`,,,,,,,,,,,,,"[[1]]","{""a"":[1]}","{""zip"":{}}",,,`,
	} {
		f.Add([]byte(s))
	}
	d := mustDecoder(f, "abc/fields=b,i8,i16,i32,i64,f32,f64,s,ls,bin,fsb,d,t,tags,m,st,dict,u,n", richSchema())
	f.Fuzz(func(t *testing.T, payload []byte) {
		if len(payload) > 0 && payload[0] == '{' {
			payload = payload[1:] // keep this target on CSV
		}
		checkDecoded(t, d, payload)
	})
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"b": true, "i8": -128, "i16": "300", "i32": 7.0, "i64": -9223372036854775808, "f32": 1.5, "f64": "NaN",
			"s": "x", "ls": "y", "bin": "raw", "fsb": "abcd", "d": "2024-01-02", "t": "2024-01-02T03:04:05.123Z",
			"tags": [1, "2", null], "m": {"a": 1, "b": null}, "st": {"zip": "94107", "other": 1}, "dict": "v", "u": 1, "n": 5}`,
		`{"t": 1704164645123, "tags": "[1,2]", "st": "{\"zip\": 1}"}`,
		`{"i64": 1e300, "f32": 1e39, "t": -9223372036854775808}`,
		`{"m": {"k": {"x": [1]}}, "tags": [[1]]}`,
		`{}`, `{`, `{"a": 1} x`,
	} {
		f.Add([]byte(s))
	}
	d := mustDecoder(f, "abc", richSchema())
	f.Fuzz(func(t *testing.T, payload []byte) {
		checkDecoded(t, d, payload)
	})
}
