// SPDX-License-Identifier: Apache-2.0

package fetchlog_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/fetchlog"
)

// The expected values are computed by hand from the MD5 digests (Python's
// hashlib): md5("") = d41d8cd98f00b204..., whose first 8 bytes read as a
// signed big-endian long are -3162216497309240828.
func TestMD5LongAndSampling(t *testing.T) {
	cases := []struct {
		in      []byte
		md5Long int64
		mod     int64 // |md5Long| % 100000
		hash    string
	}{
		{[]byte(""), -3162216497309240828, 40828, "1B2M2Y8Asg"},
		{[]byte("abc"), -8070080442485551184, 51184, "kAFQmDzST7"},
		{[]byte("\x01\x05user1"), 8431806940383146854, 46854, "dQPLvRg182"},
		{[]byte("hello world"), 6824707963431612112, 12112, "XrY7u+Ae7t"},
	}
	for _, c := range cases {
		if got := fetchlog.MD5Long(c.in); got != c.md5Long {
			t.Errorf("MD5Long(%q) = %d, want %d", c.in, got, c.md5Long)
		}
		if got := fetchlog.KeyHash(c.in) % 100000; got != c.mod {
			t.Errorf("KeyHash(%q) %% 100000 = %d, want %d", c.in, got, c.mod)
		}
		if got := fetchlog.Hash(string(c.in)); got != c.hash {
			t.Errorf("Hash(%q) = %q, want %q", c.in, got, c.hash)
		}
		// The threshold is inclusive: mod <= pct*1000.
		pct := float64(c.mod) / 1000
		for _, s := range []struct {
			pct  float64
			want bool
		}{{pct, true}, {pct - 0.001, false}, {100, true}, {0, false}, {-1, false}} {
			if got := fetchlog.Sampled(c.in, s.pct); got != s.want {
				t.Errorf("Sampled(%q, %v) = %v, want %v", c.in, s.pct, got, s.want)
			}
		}
	}
}

func TestSampledRate(t *testing.T) {
	n, logged := 20000, 0
	for i := range n {
		if fetchlog.Sampled([]byte{byte(i), byte(i >> 8), byte(i >> 16)}, 10) {
			logged++
		}
	}
	if rate := float64(logged) / float64(n); math.Abs(rate-0.10) > 0.01 {
		t.Errorf("logged %.3f of keys at 10%%, want about 0.10", rate)
	}
}

func f(name string, t arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: t, Nullable: true}
}

func testSchema(t testing.TB) *fetchlog.Schema {
	t.Helper()
	s, err := fetchlog.NewSchema("team/join.v1",
		[]arrow.Field{f("user", arrow.BinaryTypes.String), f("store", arrow.PrimitiveTypes.Int64)},
		[]arrow.Field{
			f("b", arrow.FixedWidthTypes.Boolean),
			f("i8", arrow.PrimitiveTypes.Int8), f("i16", arrow.PrimitiveTypes.Int16),
			f("i32", arrow.PrimitiveTypes.Int32), f("i64", arrow.PrimitiveTypes.Int64),
			f("f32", arrow.PrimitiveTypes.Float32), f("f64", arrow.PrimitiveTypes.Float64),
			f("s", arrow.BinaryTypes.String), f("bin", arrow.BinaryTypes.Binary),
			f("last", arrow.ListOf(arrow.PrimitiveTypes.Int64)),
			f("hist", arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)),
			f("nested", arrow.ListOf(arrow.ListOf(arrow.BinaryTypes.String))),
			f("p_exception", arrow.BinaryTypes.String),
		})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestValuesRoundTrip(t *testing.T) {
	s := testSchema(t)
	cases := []struct {
		name   string
		in     map[string]any
		want   map[string]any    // decoded row by field name (absent: null)
		extras map[string]string // decoded extras
	}{
		{name: "empty", in: map[string]any{}, want: map[string]any{}},
		{
			name: "every type",
			in: map[string]any{
				"b": true, "i8": int8(-8), "i16": int16(1600), "i32": int32(-32), "i64": int64(math.MinInt64),
				"f32": float32(1.5), "f64": math.Inf(-1), "s": "héllo", "bin": []byte{0, 1, 255},
				"last": []any{int64(3), nil, int64(1)}, "hist": map[string]any{"a": int64(2), "b": nil},
				"nested": []any{[]any{"x", nil}, nil, []any{}},
			},
		},
		{
			name: "exceptions and extras",
			in: map[string]any{
				"p_exception":                "KeyMissingException: missing keys user",
				"derivation_fetch_exception": "boom",
				"i64":                        float64(5), // a handler's JSON number for a long field
				"ext_risk_score":             map[string]any{"x": []any{1.5, "y"}},
				"f64":                        math.NaN(),
				"undeclared_nan":             math.NaN(),
			},
			want: map[string]any{"p_exception": "KeyMissingException: missing keys user"},
			extras: map[string]string{
				"derivation_fetch_exception": `"boom"`, "i64": "5",
				"ext_risk_score": `{"x":[1.5,"y"]}`, "undeclared_nan": `"NaN"`,
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, err := s.EncodeValues(c.in)
			if err != nil {
				t.Fatal(err)
			}
			row, extras, err := s.DecodeValues(b)
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			if want == nil {
				want = c.in
			}
			got := map[string]any{}
			for i, fld := range s.Values {
				if row[i] != nil {
					got[fld.Name] = row[i]
				}
			}
			if nan, ok := c.in["f64"].(float64); ok && math.IsNaN(nan) {
				if v, _ := got["f64"].(float64); !math.IsNaN(v) {
					t.Errorf("f64 = %v, want NaN", got["f64"])
				}
				delete(got, "f64")
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("values\n got %#v\nwant %#v", got, want)
			}
			if !reflect.DeepEqual(extras, c.extras) && len(extras)+len(c.extras) > 0 {
				t.Errorf("extras\n got %#v\nwant %#v", extras, c.extras)
			}
			again, _ := s.EncodeValues(c.in)
			if string(again) != string(b) {
				t.Errorf("encoding is not deterministic")
			}
		})
	}
}

func TestKeys(t *testing.T) {
	s := testSchema(t)
	cases := []struct {
		in   map[string]any
		want []any
		err  string
	}{
		{in: map[string]any{"user": "u1", "store": int64(7)}, want: []any{"u1", int64(7)}},
		// Cast as the fetcher casts: a JSON number reaches a string key, a
		// numeric string a long key; extra request keys are ignored.
		{in: map[string]any{"user": float64(5), "store": "9", "other": true}, want: []any{"5", int64(9)}},
		{in: map[string]any{"user": "u1"}, want: []any{"u1", nil}},
		{in: map[string]any{"store": "x"}, err: "key store"},
	}
	for _, c := range cases {
		b, err := s.EncodeKeys(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("EncodeKeys(%v) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("EncodeKeys(%v): %v", c.in, err)
		}
		got, err := s.DecodeKeys(b)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("keys %v: decoded %#v, %v; want %#v", c.in, got, err, c.want)
		}
	}
}

func TestSchemaParse(t *testing.T) {
	s := testSchema(t)
	if !strings.HasPrefix(s.String(), `{"join_name":"team/join.v1","key_schema":"{\"encoding\":\"chronon-go-row-v1\"`) {
		t.Errorf("schema string %s", s.String())
	}
	p, err := fetchlog.ParseSchema(s.String())
	if err != nil {
		t.Fatal(err)
	}
	if p.Hash() != s.Hash() || p.JoinName != s.JoinName || len(p.Values) != len(s.Values) {
		t.Fatalf("parsed schema differs: %+v", p)
	}
	for i := range s.Values {
		if !arrow.TypeEqual(p.Values[i].Type, s.Values[i].Type) || p.Values[i].Name != s.Values[i].Name {
			t.Errorf("value %d: %v, want %v", i, p.Values[i], s.Values[i])
		}
	}
	// Bytes written under the original decode under the parsed schema.
	b, _ := s.EncodeValues(map[string]any{"last": []any{int64(1)}})
	if row, _, err := p.DecodeValues(b); err != nil || !reflect.DeepEqual(row[9], []any{int64(1)}) {
		t.Errorf("decode under parsed schema: %v, %v", row, err)
	}
	for _, bad := range []string{
		`{`,
		`{"join_name":"j","key_schema":"{\"encoding\":\"avro\",\"fields\":[]}","value_schema":"{\"encoding\":\"chronon-go-row-v1\",\"fields\":[]}"}`,
		`{"join_name":"j","key_schema":"{\"encoding\":\"chronon-go-row-v1\",\"fields\":[{\"name\":\"a\",\"type\":\"nope\"}]}","value_schema":"{\"encoding\":\"chronon-go-row-v1\",\"fields\":[]}"}`,
	} {
		if _, err := fetchlog.ParseSchema(bad); err == nil {
			t.Errorf("ParseSchema(%s) succeeded", bad)
		}
	}
	if _, err := fetchlog.NewSchema("j", []arrow.Field{f("a", arrow.BinaryTypes.String), f("a", arrow.BinaryTypes.String)}, nil); err == nil {
		t.Error("NewSchema accepted a duplicate key")
	}
}

func TestCorrupt(t *testing.T) {
	s := testSchema(t)
	good, _ := s.EncodeValues(map[string]any{"s": "x", "extra": "y"})
	for _, b := range [][]byte{nil, {2}, good[:len(good)-1], append(append([]byte{}, good...), 0), good[:3]} {
		if _, _, err := s.DecodeValues(b); !errors.Is(err, fetchlog.ErrCorrupt) {
			t.Errorf("DecodeValues(%x) error %v, want ErrCorrupt", b, err)
		}
	}
	keys, _ := s.EncodeKeys(map[string]any{"user": "u"})
	if _, err := testSchema(t).DecodeKeys(good); err == nil {
		t.Error("DecodeKeys accepted value bytes")
	}
	if _, err := s.DecodeKeys(keys); err != nil {
		t.Error(err)
	}
}

func TestRecordsArrow(t *testing.T) {
	s := testSchema(t)
	recs := []fetchlog.Record{
		{KeyBytes: []byte{1, 2}, ValueBytes: []byte{3}, JoinName: "team/join.v1", TsMillis: 1727827200000, SchemaHash: s.Hash()},
		fetchlog.NewSchemaPublishEvent(s, 1727827200001),
	}
	rb := fetchlog.ToArrow(recs)
	defer rb.Release()
	r, err := fetchlog.NewReader(rb)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range recs {
		got, err := r.Record(i)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("row %d: %+v, %v; want %+v", i, got, err, want)
		}
	}
	if recs[0].DS() != "2024-10-02" {
		t.Errorf("DS = %s", recs[0].DS())
	}
	ev, _ := r.Record(1)
	if p, err := fetchlog.ParseSchema(string(ev.ValueBytes)); err != nil || p.Hash() != string(ev.KeyBytes) {
		t.Errorf("schema event does not parse to its hash: %v", err)
	}
}

func FuzzDecodeValues(f *testing.F) {
	s := testSchema(f)
	for _, v := range []map[string]any{
		{}, {"s": "x", "last": []any{int64(1), nil}, "hist": map[string]any{"k": int64(1)}},
		{"nested": []any{[]any{"a"}}, "zz": 1.5, "i64": int64(-1)},
	} {
		b, _ := s.EncodeValues(v)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		row, _, err := s.DecodeValues(b)
		if err != nil {
			if !errors.Is(err, fetchlog.ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		// What decodes re-encodes to bytes that decode the same.
		vals := map[string]any{}
		for i, fld := range s.Values {
			vals[fld.Name] = row[i]
		}
		again, err := s.EncodeValues(vals)
		if err != nil {
			t.Fatal(err)
		}
		row2, _, err := s.DecodeValues(again)
		if err != nil || len(row2) != len(row) {
			t.Fatalf("re-encoded row does not decode: %v", err)
		}
	})
}

func FuzzDecodeKeys(f *testing.F) {
	s := testSchema(f)
	b, _ := s.EncodeKeys(map[string]any{"user": "u", "store": int64(3)})
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := s.DecodeKeys(b); err != nil && !errors.Is(err, fetchlog.ErrCorrupt) {
			t.Fatalf("error %v is not ErrCorrupt", err)
		}
	})
}

func FuzzParseSchema(f *testing.F) {
	f.Add(testSchema(f).String())
	f.Fuzz(func(t *testing.T, str string) {
		s, err := fetchlog.ParseSchema(str)
		if err != nil {
			return
		}
		if s.Hash() != fetchlog.Hash(str) {
			t.Fatal("hash of a parsed schema differs from the string's")
		}
	})
}
