// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestParseSchemaSpec(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string // SchemaSpec.String of the result
		wantErr string
	}{
		{in: "", want: ""},
		{in: "  ", want: ""},
		{in: "user_id:string,ts:long,price:double", want: "user_id:string,ts:long,price:double"},
		{in: " a : INT , b:float,c:bool,d:boolean ", want: "a:int,b:float,c:boolean,d:boolean"},
		{in: "a:long,b", wantErr: `entry 2 "b": want column:type`},
		{in: "a:long,:string", wantErr: `entry 2 ":string"`},
		{in: "a:long,b:", wantErr: `entry 2 "b:"`},
		{in: "a:long,b:decimal", wantErr: `entry 2 "b:decimal": unknown type "decimal"`},
		{in: "a:long,a:string", wantErr: `column "a" given twice`},
		{in: "a:long,,b:string", wantErr: `entry 2 ""`},
	} {
		got, err := ParseSchemaSpec(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseSchemaSpec(%q) error = %v, want it to contain %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSchemaSpec(%q): %v", tc.in, err)
			continue
		}
		if got.String() != tc.want {
			t.Errorf("ParseSchemaSpec(%q) = %q, want %q", tc.in, got.String(), tc.want)
		}
	}
}

func TestSchemaSpecLookupMissing(t *testing.T) {
	spec, err := ParseSchemaSpec("ts:long,nope:string,price:double")
	if err != nil {
		t.Fatal(err)
	}
	if dt, ok := spec.Lookup("price"); !ok || !arrow.TypeEqual(dt, arrow.PrimitiveTypes.Float64) {
		t.Errorf("Lookup(price) = %v, %v", dt, ok)
	}
	if _, ok := spec.Lookup("user_id"); ok {
		t.Error("Lookup(user_id) found an override")
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64},
		{Name: "price", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	if got := spec.Missing(schema); len(got) != 1 || got[0] != "nope" {
		t.Errorf("Missing = %v, want [nope]", got)
	}
}

func TestSpecTypeName(t *testing.T) {
	for _, name := range []string{"string", "long", "int", "double", "float", "boolean"} {
		dt, err := ParseSpecType(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := SpecTypeName(dt); got != name {
			t.Errorf("SpecTypeName(ParseSpecType(%q)) = %q", name, got)
		}
	}
	if got := SpecTypeName(arrow.FixedWidthTypes.Date32); got != "date32" {
		t.Errorf("SpecTypeName(date32) = %q", got)
	}
}
