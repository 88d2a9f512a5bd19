// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestCheckValue(t *testing.T) {
	i64, str := arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String
	for _, tc := range []struct {
		v       any
		t       arrow.DataType
		wantErr string // "" for no error
	}{
		{nil, i64, ""},
		{nil, arrow.FixedWidthTypes.Date32, ""},
		{true, arrow.FixedWidthTypes.Boolean, ""},
		{int8(1), arrow.PrimitiveTypes.Int8, ""},
		{int16(1), arrow.PrimitiveTypes.Int16, ""},
		{int32(1), arrow.PrimitiveTypes.Int32, ""},
		{int64(1), i64, ""},
		{float32(1), arrow.PrimitiveTypes.Float32, ""},
		{1.5, arrow.PrimitiveTypes.Float64, ""},
		{"x", str, ""},
		{[]byte("x"), arrow.BinaryTypes.Binary, ""},
		{[]any{int64(1), nil}, arrow.ListOf(i64), ""},
		{map[string]any{"a": []any{"x"}, "b": nil}, arrow.MapOf(str, arrow.ListOf(str)), ""},
		{1, i64, "value 1 has Go type int, want the Go type of int64"},
		{int32(1), i64, "has Go type int32"},
		{[]byte("x"), str, "has Go type []uint8"},
		{[]any{int64(1), "x"}, arrow.ListOf(i64), "element 1: value x has Go type string"},
		{map[string]any{"k": 1.5}, arrow.MapOf(str, i64), `key "k": value 1.5 has Go type float64`},
		{[]int64{1}, arrow.ListOf(i64), "has Go type []int64"},
		{int32(1), arrow.FixedWidthTypes.Date32, "unsupported Arrow type date32"},
	} {
		err := CheckValue(tc.v, tc.t)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("CheckValue(%#v, %s) = %v, want nil", tc.v, tc.t, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("CheckValue(%#v, %s) = %v, want an error containing %q", tc.v, tc.t, err, tc.wantErr)
		}
	}
}
