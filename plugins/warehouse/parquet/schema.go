// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

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
		if _, err := batch.FieldToJSON(f); err != nil {
			return fmt.Errorf("column %q: %w", f.Name, err)
		}
	}
	return nil
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
	if _, ok := batch.PrimitiveTypeName(a); !ok {
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
