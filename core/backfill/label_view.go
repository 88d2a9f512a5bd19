// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/api"
)

// LabeledColumn is the name a label table column takes in the labeled
// views: "label_" + name, unless it already starts with "label" (Chronon's
// JoinUtils.createOrReplaceView; label_ds keeps its name).
func LabeledColumn(name string) string {
	if strings.HasPrefix(name, labeledPrefix) {
		return name
	}
	return labeledPrefix + "_" + name
}

// LabeledSchema is the data schema (without ds) of the `_labeled` and
// `_labeled_latest` tables: rowKeys, the other feature columns, then the
// label table's other columns renamed by LabeledColumn (Chronon's view
// selects the join keys, the rest of the feature table, then the label
// table's columns).
func LabeledSchema(features, labels *arrow.Schema, rowKeys []string) (*arrow.Schema, error) {
	var fields []arrow.Field
	seen := map[string]bool{}
	add := func(f arrow.Field, what string) error {
		if seen[f.Name] {
			return fmt.Errorf("labeled view: %s column %q clashes with another column", what, f.Name)
		}
		seen[f.Name] = true
		fields = append(fields, f)
		return nil
	}
	for _, k := range rowKeys {
		idx := features.FieldIndices(k)
		if len(idx) == 0 {
			return nil, fmt.Errorf("labeled view: the feature table lacks row key %q", k)
		}
		if err := add(features.Field(idx[0]), "key"); err != nil {
			return nil, err
		}
	}
	for _, f := range features.Fields() {
		if f.Name != api.PartitionColumn && !seen[f.Name] {
			if err := add(f, "feature"); err != nil {
				return nil, err
			}
		}
	}
	for _, f := range labels.Fields() {
		if f.Name == api.PartitionColumn || slices.Contains(rowKeys, f.Name) {
			continue
		}
		f.Name = LabeledColumn(f.Name)
		f.Nullable = true
		if err := add(f, "label"); err != nil {
			return nil, err
		}
	}
	return arrow.NewSchema(fields, nil), nil
}

// LabeledRows joins one partition's feature rows (the join's output table)
// with its label table rows, as Chronon's `_labeled` view does: a left
// outer join on rowKeys (and ds, the partition), so a feature row appears
// once per label version of its keys, or once with null labels when it has
// none (a null key matches nothing). With latest, only the partition's
// latest version is kept (Chronon's `_labeled_latest`: the greatest
// label_ds the partition holds; a feature row without it is dropped, unless
// the partition has no labels at all). The result has schema (see
// LabeledSchema), rows in feature order, versions ascending.
func LabeledRows(schema *arrow.Schema, features, labels arrow.RecordBatch, rowKeys []string, latest bool) (arrow.RecordBatch, error) {
	matches := map[string][]int32{}
	var newest string
	if labels != nil && labels.NumRows() > 0 {
		enc, err := NewKeyEncoder(labels, rowKeys)
		if err != nil {
			return nil, fmt.Errorf("labeled view: label rows: %w", err)
		}
		versions, err := stringColumn(labels, LabelDSColumn)
		if err != nil {
			return nil, fmt.Errorf("labeled view: label rows: %w", err)
		}
		for i := 0; i < versions.Len(); i++ {
			if versions.IsValid(i) && versions.Value(i) > newest {
				newest = versions.Value(i)
			}
		}
		var buf []byte
		for _, i := range versionOrder(versions) {
			key, nulls := enc.Append(buf[:0], int(i))
			buf = key
			if nulls > 0 || latest && versions.Value(int(i)) != newest {
				continue
			}
			matches[string(key)] = append(matches[string(key)], i)
		}
	}
	enc, err := NewKeyEncoder(features, rowKeys)
	if err != nil {
		return nil, fmt.Errorf("labeled view: feature rows: %w", err)
	}
	fb := array.NewInt32Builder(memory.DefaultAllocator)
	lb := array.NewInt32Builder(memory.DefaultAllocator)
	defer fb.Release()
	defer lb.Release()
	var buf []byte
	for i := 0; i < int(features.NumRows()); i++ {
		key, nulls := enc.Append(buf[:0], i)
		buf = key
		var m []int32
		if nulls == 0 {
			m = matches[string(key)]
		}
		if len(m) == 0 && !(latest && newest != "") {
			fb.Append(int32(i))
			lb.AppendNull()
		}
		for _, at := range m {
			fb.Append(int32(i))
			lb.Append(at)
		}
	}
	fidx, lidx := fb.NewArray(), lb.NewArray()
	defer fidx.Release()
	defer lidx.Release()
	cols := make([]arrow.Array, schema.NumFields())
	defer func() { releaseAll(cols) }()
	for i, f := range schema.Fields() {
		src, idx := features, fidx
		name := f.Name
		if fi := features.Schema().FieldIndices(name); len(fi) == 0 || name == LabelDSColumn {
			src, idx = labels, lidx
			name = labelSource(labels, name)
		}
		var col arrow.Array
		if src != nil {
			if ci := src.Schema().FieldIndices(name); len(ci) > 0 {
				taken, err := takeColumns([]arrow.Array{src.Column(ci[0])}, idx)
				if err != nil {
					return nil, fmt.Errorf("labeled view: column %s: %w", f.Name, err)
				}
				col = taken[0]
			}
		}
		if col == nil {
			col = array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, idx.Len())
		}
		if !arrow.TypeEqual(col.DataType(), f.Type) {
			col.Release()
			return nil, fmt.Errorf("labeled view: column %s is %s, want %s", f.Name, col.DataType(), f.Type)
		}
		cols[i] = col
	}
	out := array.NewRecordBatch(schema, cols, int64(fidx.Len()))
	return out, nil
}

// labelSource finds the label table column a labeled column comes from.
func labelSource(labels arrow.RecordBatch, labeled string) string {
	if labels == nil {
		return labeled
	}
	for _, f := range labels.Schema().Fields() {
		if LabeledColumn(f.Name) == labeled {
			return f.Name
		}
	}
	return labeled
}

// versionOrder returns the row indices of versions sorted by label_ds
// (stable), so a feature row lists its versions in ascending order.
func versionOrder(versions *array.String) []int32 {
	rows := make([]int32, versions.Len())
	for i := range rows {
		rows[i] = int32(i)
	}
	value := func(i int32) string {
		if versions.IsNull(int(i)) {
			return ""
		}
		return versions.Value(int(i))
	}
	slices.SortStableFunc(rows, func(a, b int32) int { return strings.Compare(value(a), value(b)) })
	return rows
}

func stringColumn(rec arrow.RecordBatch, name string) (*array.String, error) {
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return nil, fmt.Errorf("column %q is missing", name)
	}
	c, ok := rec.Column(idx[0]).(*array.String)
	if !ok {
		return nil, fmt.Errorf("column %q is %s, want string", name, rec.Column(idx[0]).DataType())
	}
	return c, nil
}
