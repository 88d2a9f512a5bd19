// SPDX-License-Identifier: Apache-2.0

package server

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// reference encodes with encoding/json (no HTML escaping), which the
// hand-written encoder must match byte for byte.
func reference(t *testing.T, rs []Result) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	conv := make([]Result, len(rs))
	for i, r := range rs {
		conv[i] = r
		if r.Features != nil {
			conv[i].Features = JSONValue(r.Features).(map[string]any)
		}
	}
	if err := enc.Encode(struct {
		Results []Result `json:"results"`
	}{conv}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func FuzzAppendResults(f *testing.F) {
	f.Add("user", "a\"b\\c\n\x01\u2028é\xff<&>", 1.5, int64(-3))
	f.Add("", "", 1e21, int64(math.MaxInt64))
	f.Add("k", "v", 1e-7, int64(0))
	f.Add("k", "v", 123456789.125, int64(1))
	f.Add("k", "v", -0.0, int64(1))
	f.Add("k", "v", float64(float32(0.1)), int64(1))
	f.Fuzz(func(t *testing.T, key, s string, x float64, n int64) {
		feats := map[string]any{
			key + "_s": s, key + "_f": x, key + "_n": n, key + "_nil": nil, key + "_b": true,
			key + "_l": []any{s, x, n, nil, []any{int32(7)}}, key + "_m": map[string]any{s: x, "z": n},
			key + "_f32": float32(x), key + "_bytes": []byte(s),
		}
		rs := []Result{
			{Status: "Success", EntityKeys: map[string]any{key: s, "id": json.Number("12345678901234567890")}, Features: feats},
			{Status: "Failure", EntityKeys: map[string]any{}, Error: s},
		}
		want := reference(t, rs)
		if got := string(appendResults(nil, rs)); got != want {
			t.Fatalf("appendResults:\n%s\nencoding/json:\n%s", got, want)
		}
	})
}
