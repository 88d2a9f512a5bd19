// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
)

// JSONSchema is the JSON form of an Arrow schema, as table manifests and
// the online serving info store it.
type JSONSchema struct {
	Fields []JSONField `json:"fields"`
}

// JSONField is the JSON form of an Arrow field. Children hold the
// element of a list, the key and value of a map and the fields of a struct.
type JSONField struct {
	Name     string      `json:"name"`
	Type     string      `json:"type"`
	Unit     string      `json:"unit,omitempty"`
	TimeZone string      `json:"timezone,omitempty"`
	Nullable bool        `json:"nullable"`
	Children []JSONField `json:"children,omitempty"`
}

// primitiveType returns the Arrow type of a supported non-nested,
// non-timestamp type's JSON name.
func primitiveType(name string) (arrow.DataType, bool) {
	switch name {
	case "bool":
		return arrow.FixedWidthTypes.Boolean, true
	case "int8":
		return arrow.PrimitiveTypes.Int8, true
	case "int16":
		return arrow.PrimitiveTypes.Int16, true
	case "int32":
		return arrow.PrimitiveTypes.Int32, true
	case "int64":
		return arrow.PrimitiveTypes.Int64, true
	case "uint8":
		return arrow.PrimitiveTypes.Uint8, true
	case "uint16":
		return arrow.PrimitiveTypes.Uint16, true
	case "uint32":
		return arrow.PrimitiveTypes.Uint32, true
	case "uint64":
		return arrow.PrimitiveTypes.Uint64, true
	case "float32":
		return arrow.PrimitiveTypes.Float32, true
	case "float64":
		return arrow.PrimitiveTypes.Float64, true
	case "utf8":
		return arrow.BinaryTypes.String, true
	case "large_utf8":
		return arrow.BinaryTypes.LargeString, true
	case "binary":
		return arrow.BinaryTypes.Binary, true
	case "large_binary":
		return arrow.BinaryTypes.LargeBinary, true
	case "date32":
		return arrow.FixedWidthTypes.Date32, true
	}
	return nil, false
}

// PrimitiveTypeName returns the JSON name of a supported non-nested,
// non-timestamp type.
func PrimitiveTypeName(dt arrow.DataType) (string, bool) {
	switch dt.ID() {
	case arrow.BOOL:
		return "bool", true
	case arrow.INT8:
		return "int8", true
	case arrow.INT16:
		return "int16", true
	case arrow.INT32:
		return "int32", true
	case arrow.INT64:
		return "int64", true
	case arrow.UINT8:
		return "uint8", true
	case arrow.UINT16:
		return "uint16", true
	case arrow.UINT32:
		return "uint32", true
	case arrow.UINT64:
		return "uint64", true
	case arrow.FLOAT32:
		return "float32", true
	case arrow.FLOAT64:
		return "float64", true
	case arrow.STRING:
		return "utf8", true
	case arrow.LARGE_STRING:
		return "large_utf8", true
	case arrow.BINARY:
		return "binary", true
	case arrow.LARGE_BINARY:
		return "large_binary", true
	case arrow.DATE32:
		return "date32", true
	}
	return "", false
}

// unitName returns the JSON name of a supported timestamp unit.
func unitName(u arrow.TimeUnit) (string, bool) {
	switch u {
	case arrow.Millisecond:
		return "ms", true
	case arrow.Microsecond:
		return "us", true
	case arrow.Nanosecond:
		return "ns", true
	}
	return "", false
}

// unitOf is the inverse of unitName.
func unitOf(name string) (arrow.TimeUnit, bool) {
	for _, u := range []arrow.TimeUnit{arrow.Millisecond, arrow.Microsecond, arrow.Nanosecond} {
		if n, _ := unitName(u); n == name {
			return u, true
		}
	}
	return 0, false
}

// SchemaToJSON returns the JSON form of s.
func SchemaToJSON(s *arrow.Schema) (JSONSchema, error) {
	out := JSONSchema{Fields: make([]JSONField, 0, s.NumFields())}
	for _, f := range s.Fields() {
		jf, err := FieldToJSON(f)
		if err != nil {
			return JSONSchema{}, fmt.Errorf("column %q: %w", f.Name, err)
		}
		out.Fields = append(out.Fields, jf)
	}
	return out, nil
}

// FieldToJSON returns the JSON form of f, or an error for a type the JSON
// form cannot hold.
func FieldToJSON(f arrow.Field) (JSONField, error) {
	jf := JSONField{Name: f.Name, Nullable: f.Nullable}
	if name, ok := PrimitiveTypeName(f.Type); ok {
		jf.Type = name
		return jf, nil
	}
	var children []arrow.Field
	switch t := f.Type.(type) {
	case *arrow.TimestampType:
		unit, ok := unitName(t.Unit)
		if !ok {
			return JSONField{}, fmt.Errorf("unsupported type %s (timestamp units: ms, us, ns)", t)
		}
		jf.Type, jf.Unit, jf.TimeZone = "timestamp", unit, t.TimeZone
		return jf, nil
	case *arrow.MapType:
		// Checked before ListType: a map is not a list here.
		if _, ok := PrimitiveTypeName(t.KeyType()); !ok {
			if _, ok := t.KeyType().(*arrow.TimestampType); !ok {
				return JSONField{}, fmt.Errorf("unsupported map key type %s", t.KeyType())
			}
		}
		jf.Type = "map"
		key := t.KeyField()
		key.Nullable = false
		children = []arrow.Field{key, t.ItemField()}
	case *arrow.ListType:
		jf.Type = "list"
		children = []arrow.Field{t.ElemField()}
	case *arrow.LargeListType:
		jf.Type = "large_list"
		children = []arrow.Field{t.ElemField()}
	case *arrow.StructType:
		jf.Type = "struct"
		children = t.Fields()
		if len(children) == 0 {
			return JSONField{}, fmt.Errorf("unsupported type %s (a struct needs a field)", t)
		}
	default:
		return JSONField{}, fmt.Errorf("unsupported type %s", f.Type)
	}
	jf.Children = make([]JSONField, 0, len(children))
	for _, c := range children {
		jc, err := FieldToJSON(c)
		if err != nil {
			return JSONField{}, err
		}
		jf.Children = append(jf.Children, jc)
	}
	return jf, nil
}

// SchemaFromJSON is the inverse of SchemaToJSON.
func SchemaFromJSON(js JSONSchema) (*arrow.Schema, error) {
	fields := make([]arrow.Field, 0, len(js.Fields))
	for _, jf := range js.Fields {
		f, err := FieldFromJSON(jf)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", jf.Name, err)
		}
		fields = append(fields, f)
	}
	return arrow.NewSchema(fields, nil), nil
}

// FieldFromJSON is the inverse of FieldToJSON.
func FieldFromJSON(jf JSONField) (arrow.Field, error) {
	f := arrow.Field{Name: jf.Name, Nullable: jf.Nullable}
	if dt, ok := primitiveType(jf.Type); ok {
		f.Type = dt
		return f, nil
	}
	want := -1
	switch jf.Type {
	case "list", "large_list":
		want = 1
	case "map":
		want = 2
	}
	if want >= 0 && len(jf.Children) != want {
		return arrow.Field{}, fmt.Errorf("type %s needs %d children, has %d", jf.Type, want, len(jf.Children))
	}
	children := make([]arrow.Field, 0, len(jf.Children))
	for _, jc := range jf.Children {
		c, err := FieldFromJSON(jc)
		if err != nil {
			return arrow.Field{}, err
		}
		children = append(children, c)
	}
	switch jf.Type {
	case "timestamp":
		unit, ok := unitOf(jf.Unit)
		if !ok {
			return arrow.Field{}, fmt.Errorf("bad timestamp unit %q", jf.Unit)
		}
		f.Type = &arrow.TimestampType{Unit: unit, TimeZone: jf.TimeZone}
	case "list":
		f.Type = arrow.ListOfField(children[0])
	case "large_list":
		f.Type = arrow.LargeListOfField(children[0])
	case "map":
		mt := arrow.MapOf(children[0].Type, children[1].Type)
		mt.SetItemNullable(children[1].Nullable)
		f.Type = mt
	case "struct":
		if len(children) == 0 {
			return arrow.Field{}, fmt.Errorf("struct without fields")
		}
		f.Type = arrow.StructOf(children...)
	default:
		return arrow.Field{}, fmt.Errorf("unknown type %q", jf.Type)
	}
	return f, nil
}
