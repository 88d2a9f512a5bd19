// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/chronon-go/chronon/plugins/warehouse"
)

// jsonSchema is the manifest form of an Arrow schema.
type jsonSchema struct {
	Fields []jsonField `json:"fields"`
}

// jsonField is the manifest form of an Arrow field. Children hold the
// element of a list, the key and value of a map and the fields of a struct.
type jsonField struct {
	Name     string      `json:"name"`
	Type     string      `json:"type"`
	Unit     string      `json:"unit,omitempty"`
	TimeZone string      `json:"timezone,omitempty"`
	Nullable bool        `json:"nullable"`
	Children []jsonField `json:"children,omitempty"`
}

// primitiveType returns the Arrow type of a supported non-nested,
// non-timestamp type's manifest name.
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

// primitiveName returns the manifest name of a supported non-nested,
// non-timestamp type.
func primitiveName(dt arrow.DataType) (string, bool) {
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

// unitName returns the manifest name of a supported timestamp unit.
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

// checkSchema reports whether s can be written: supported types, unique
// non-empty column names, and no column named like the partition column.
func checkSchema(s *arrow.Schema) error {
	if s == nil {
		return fmt.Errorf("nil schema")
	}
	seen := make(map[string]bool, s.NumFields())
	for _, f := range s.Fields() {
		switch {
		case f.Name == "":
			return fmt.Errorf("schema has a column with an empty name")
		case f.Name == warehouse.PartitionColumn:
			return fmt.Errorf("column %q is the partition column and cannot be a data column", f.Name)
		case seen[f.Name]:
			return fmt.Errorf("duplicate column %q", f.Name)
		}
		seen[f.Name] = true
		if _, err := fieldToJSON(f); err != nil {
			return fmt.Errorf("column %q: %w", f.Name, err)
		}
	}
	return nil
}

func schemaToJSON(s *arrow.Schema) (jsonSchema, error) {
	out := jsonSchema{Fields: make([]jsonField, 0, s.NumFields())}
	for _, f := range s.Fields() {
		jf, err := fieldToJSON(f)
		if err != nil {
			return jsonSchema{}, fmt.Errorf("column %q: %w", f.Name, err)
		}
		out.Fields = append(out.Fields, jf)
	}
	return out, nil
}

func fieldToJSON(f arrow.Field) (jsonField, error) {
	jf := jsonField{Name: f.Name, Nullable: f.Nullable}
	if name, ok := primitiveName(f.Type); ok {
		jf.Type = name
		return jf, nil
	}
	var children []arrow.Field
	switch t := f.Type.(type) {
	case *arrow.TimestampType:
		unit, ok := unitName(t.Unit)
		if !ok {
			return jsonField{}, fmt.Errorf("unsupported type %s (timestamp units: ms, us, ns)", t)
		}
		jf.Type, jf.Unit, jf.TimeZone = "timestamp", unit, t.TimeZone
		return jf, nil
	case *arrow.MapType:
		// Checked before ListType: a map is not a list here.
		if _, ok := primitiveName(t.KeyType()); !ok {
			if _, ok := t.KeyType().(*arrow.TimestampType); !ok {
				return jsonField{}, fmt.Errorf("unsupported map key type %s", t.KeyType())
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
			return jsonField{}, fmt.Errorf("unsupported type %s (a struct needs a field)", t)
		}
	default:
		return jsonField{}, fmt.Errorf("unsupported type %s", f.Type)
	}
	jf.Children = make([]jsonField, 0, len(children))
	for _, c := range children {
		jc, err := fieldToJSON(c)
		if err != nil {
			return jsonField{}, err
		}
		jf.Children = append(jf.Children, jc)
	}
	return jf, nil
}

func schemaFromJSON(js jsonSchema) (*arrow.Schema, error) {
	fields := make([]arrow.Field, 0, len(js.Fields))
	for _, jf := range js.Fields {
		f, err := fieldFromJSON(jf)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", jf.Name, err)
		}
		fields = append(fields, f)
	}
	return arrow.NewSchema(fields, nil), nil
}

func fieldFromJSON(jf jsonField) (arrow.Field, error) {
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
		c, err := fieldFromJSON(jc)
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

// conflictf returns an error wrapping warehouse.ErrSchemaConflict.
func conflictf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", warehouse.ErrSchemaConflict, fmt.Sprintf(format, args...))
}

// mergeSchema returns the table schema after a commit of a write with schema
// w on a table with schema table (nil for a new table): table's columns in
// order, merged with w's, then w's new columns made nullable. A column whose
// type changed, or a non-nullable table column missing from w, is a conflict.
func mergeSchema(table, w *arrow.Schema) (*arrow.Schema, error) {
	if table == nil {
		return arrow.NewSchema(stripMetadata(w.Fields()), nil), nil
	}
	fields := make([]arrow.Field, 0, table.NumFields()+w.NumFields())
	for _, tf := range table.Fields() {
		i := w.FieldIndices(tf.Name)
		if len(i) == 0 {
			if !tf.Nullable {
				return nil, conflictf("non-nullable column %q is missing from the write", tf.Name)
			}
			fields = append(fields, tf)
			continue
		}
		wf := w.Field(i[0])
		dt, ok := mergeType(tf.Type, wf.Type)
		if !ok {
			return nil, conflictf("column %q has type %s in the write but %s in the table", tf.Name, wf.Type, tf.Type)
		}
		fields = append(fields, arrow.Field{Name: tf.Name, Type: dt, Nullable: tf.Nullable || wf.Nullable})
	}
	for _, wf := range stripMetadata(w.Fields()) {
		if !table.HasField(wf.Name) {
			wf.Nullable = true
			fields = append(fields, wf)
		}
	}
	return arrow.NewSchema(fields, nil), nil
}

func stripMetadata(fields []arrow.Field) []arrow.Field {
	out := make([]arrow.Field, len(fields))
	for i, f := range fields {
		out[i] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: f.Nullable}
	}
	return out
}

// mergeType reports whether a and b are the same type up to the nullability
// and names of nested list elements and map entries, and returns a with the
// nullability of every nested field widened to cover b.
func mergeType(a, b arrow.DataType) (arrow.DataType, bool) {
	if a.ID() != b.ID() {
		return nil, false
	}
	switch at := a.(type) {
	case *arrow.TimestampType:
		bt := b.(*arrow.TimestampType)
		return a, at.Unit == bt.Unit && at.TimeZone == bt.TimeZone
	case *arrow.MapType:
		bt := b.(*arrow.MapType)
		k, ok := mergeType(at.KeyType(), bt.KeyType())
		if !ok {
			return nil, false
		}
		v, ok := mergeType(at.ItemType(), bt.ItemType())
		if !ok {
			return nil, false
		}
		mt := arrow.MapOf(k, v)
		mt.SetItemNullable(at.ItemField().Nullable || bt.ItemField().Nullable)
		return mt, true
	case *arrow.ListType:
		bt := b.(*arrow.ListType)
		e, ok := mergeType(at.Elem(), bt.Elem())
		if !ok {
			return nil, false
		}
		ef := at.ElemField()
		return arrow.ListOfField(arrow.Field{Name: ef.Name, Type: e, Nullable: ef.Nullable || bt.ElemField().Nullable}), true
	case *arrow.LargeListType:
		bt := b.(*arrow.LargeListType)
		e, ok := mergeType(at.Elem(), bt.Elem())
		if !ok {
			return nil, false
		}
		ef := at.ElemField()
		return arrow.LargeListOfField(arrow.Field{Name: ef.Name, Type: e, Nullable: ef.Nullable || bt.ElemField().Nullable}), true
	case *arrow.StructType:
		bt := b.(*arrow.StructType)
		if at.NumFields() != bt.NumFields() {
			return nil, false
		}
		fields := make([]arrow.Field, at.NumFields())
		for i, af := range at.Fields() {
			bf := bt.Field(i)
			if af.Name != bf.Name {
				return nil, false
			}
			t, ok := mergeType(af.Type, bf.Type)
			if !ok {
				return nil, false
			}
			fields[i] = arrow.Field{Name: af.Name, Type: t, Nullable: af.Nullable || bf.Nullable}
		}
		return arrow.StructOf(fields...), true
	}
	if _, ok := primitiveName(a); !ok {
		return nil, false
	}
	return a, true
}

// sameFields reports whether a and b have the same columns (names, types and
// nullability), ignoring metadata.
func sameFields(a, b *arrow.Schema) bool {
	if a.NumFields() != b.NumFields() {
		return false
	}
	for i, af := range a.Fields() {
		bf := b.Field(i)
		if af.Name != bf.Name || af.Nullable != bf.Nullable || !arrow.TypeEqual(af.Type, bf.Type) {
			return false
		}
	}
	return true
}

// retype returns d relabeled with type to, which must have d's physical
// layout (as checked by mergeType): it only renames nested fields and widens
// their nullability. The caller releases the result.
func retype(d arrow.ArrayData, to arrow.DataType) arrow.ArrayData {
	var children []arrow.ArrayData
	switch t := to.(type) {
	case *arrow.MapType:
		children = []arrow.ArrayData{retype(d.Children()[0], t.Elem())}
	case *arrow.ListType:
		children = []arrow.ArrayData{retype(d.Children()[0], t.Elem())}
	case *arrow.LargeListType:
		children = []arrow.ArrayData{retype(d.Children()[0], t.Elem())}
	case *arrow.StructType:
		children = make([]arrow.ArrayData, t.NumFields())
		for i, f := range t.Fields() {
			children[i] = retype(d.Children()[i], f.Type)
		}
	default:
		if arrow.TypeEqual(d.DataType(), to) {
			d.Retain()
			return d
		}
	}
	out := array.NewData(to, d.Len(), d.Buffers(), children, d.NullN(), d.Offset())
	for _, c := range children {
		c.Release()
	}
	return out
}
