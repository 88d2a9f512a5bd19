// SPDX-License-Identifier: Apache-2.0

package server

import (
	"math"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/batch"
)

// JSONValue converts a feature value to what encoding/json can write:
// NaN and infinities become the strings "NaN", "Infinity" and "-Infinity"
// (as Chronon's Jackson writes them), times RFC 3339 strings; lists and
// maps are converted element by element. Other values pass through.
func JSONValue(v any) any {
	switch x := v.(type) {
	case float64:
		return jsonFloat(x)
	case float32:
		if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
			return jsonFloat(f)
		}
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = JSONValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = JSONValue(e)
		}
		return out
	}
	return v
}

// needsConversion reports whether JSONValue would change v.
func needsConversion(v any) bool {
	switch x := v.(type) {
	case float64:
		return math.IsNaN(x) || math.IsInf(x, 0)
	case float32:
		return math.IsNaN(float64(x)) || math.IsInf(float64(x), 0)
	case time.Time:
		return true
	case []any:
		for _, e := range x {
			if needsConversion(e) {
				return true
			}
		}
	case map[string]any:
		for _, e := range x {
			if needsConversion(e) {
				return true
			}
		}
	}
	return false
}

func jsonFloat(f float64) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return f
}

// columns describes fields in the JSON schema form table manifests use.
func columns(fields []arrow.Field) []batch.JSONField {
	out := make([]batch.JSONField, 0, len(fields))
	for _, f := range fields {
		jf, err := batch.FieldToJSON(f)
		if err != nil {
			jf = batch.JSONField{Name: f.Name, Type: f.Type.String(), Nullable: f.Nullable}
		}
		out = append(out, jf)
	}
	return out
}
