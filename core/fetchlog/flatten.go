// SPDX-License-Identifier: Apache-2.0

package fetchlog

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
)

// Columns of the flattened log table (<join output table>_logged) besides
// the keys and values: Chronon's LogFlattenerJob metadata columns
// (schema_hash, ts; ds is the partition), and ours, extra_values, holding
// a record's extras (name to JSON text, see the package doc) so that
// nothing logged is lost.
const (
	ColTs          = api.TimeColumn
	ColExtraValues = "extra_values"
)

// ContextualPrefix marks the contextual source's values, which Chronon's
// flattener leaves out: they repeat request keys.
const ContextualPrefix = "ext_contextual"

// ErrMalformed is wrapped by Flattener.Add's errors about a record it
// cannot flatten (corrupt bytes, an unknown schema hash). Use errors.Is.
var ErrMalformed = errors.New("fetchlog: malformed log record")

// Flattener turns a join's log records into rows of the flattened log
// table: one column per key and value of every schema version (the union;
// a row has nulls in the columns its version lacks). It is not safe for
// concurrent use.
type Flattener struct {
	joinName string
	schema   *arrow.Schema
	// layouts maps a schema hash to, per output data column, where the
	// value comes from.
	layouts map[string][]source
	b       *array.RecordBuilder
}

// source locates an output column's value in a decoded record: a key
// (key true) or a value index, or nowhere (index -1).
type source struct {
	key   bool
	index int
}

// NewFlattener builds the flattener of a join's schemas (any order; those
// of other joins are an error). Columns are keys then values in order of
// first appearance in schemas, then extra_values; a name with two
// different types is an error (Chronon's dedupeFields), and contextual
// values are left out.
func NewFlattener(joinName string, schemas []*Schema) (*Flattener, error) {
	fields := []arrow.Field{
		{Name: ColSchemaHash, Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: ColTs, Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}
	at := map[string]int{}
	add := func(f arrow.Field, hash string) error {
		if strings.HasPrefix(f.Name, ContextualPrefix) {
			return nil
		}
		switch f.Name {
		case ColSchemaHash, ColTs, ColExtraValues, api.PartitionColumn:
			return fmt.Errorf("fetchlog: schema %s of %s: field %s collides with a column of the flattened table", hash, joinName, f.Name)
		}
		if i, ok := at[f.Name]; ok {
			if !arrow.TypeEqual(fields[i].Type, f.Type) {
				return fmt.Errorf("fetchlog: join %s: field %s has type %s in schema %s and %s in an earlier one", joinName, f.Name, f.Type, hash, fields[i].Type)
			}
			return nil
		}
		f.Nullable = true
		at[f.Name] = len(fields)
		fields = append(fields, f)
		return nil
	}
	for _, kind := range []func(*Schema) []arrow.Field{func(s *Schema) []arrow.Field { return s.Keys }, func(s *Schema) []arrow.Field { return s.Values }} {
		for _, s := range schemas {
			if s.JoinName != joinName {
				return nil, fmt.Errorf("fetchlog: schema %s is of join %s, not %s", s.Hash(), s.JoinName, joinName)
			}
			for _, f := range kind(s) {
				if err := add(f, s.Hash()); err != nil {
					return nil, err
				}
			}
		}
	}
	fields = append(fields, arrow.Field{Name: ColExtraValues, Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String), Nullable: true})
	fl := &Flattener{joinName: joinName, schema: arrow.NewSchema(fields, nil), layouts: map[string][]source{}}
	for _, s := range schemas {
		layout := make([]source, len(fields))
		for i, f := range fields {
			layout[i] = source{index: -1}
			if k := slices.IndexFunc(s.Keys, func(x arrow.Field) bool { return x.Name == f.Name }); k >= 0 {
				layout[i] = source{key: true, index: k}
			} else if v, ok := s.valueIndex[f.Name]; ok {
				layout[i] = source{index: v}
			}
		}
		fl.layouts[s.Hash()] = layout
	}
	fl.b = array.NewRecordBuilder(memory.DefaultAllocator, fl.schema)
	return fl, nil
}

// Schema is the flattened table's schema (without ds).
func (fl *Flattener) Schema() *arrow.Schema { return fl.schema }

// Rows is how many rows were added since the last Flush.
func (fl *Flattener) Rows() int {
	return fl.b.Field(0).Len()
}

// Add appends rec's row. A record of another join or a schema-publish
// event is an error (the caller filters by name); a record that cannot be
// decoded under its schema hash wraps ErrMalformed and adds nothing.
func (fl *Flattener) Add(rec Record, schemas map[string]*Schema) error {
	if rec.JoinName != fl.joinName {
		return fmt.Errorf("fetchlog: record of %s given to the flattener of %s", rec.JoinName, fl.joinName)
	}
	s, layout := schemas[rec.SchemaHash], fl.layouts[rec.SchemaHash]
	if s == nil || layout == nil {
		return fmt.Errorf("%w: schema hash %q was never published", ErrMalformed, rec.SchemaHash)
	}
	keys, err := s.DecodeKeys(rec.KeyBytes)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	values, extras, err := s.DecodeValues(rec.ValueBytes)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	row := make([]any, len(layout))
	row[0], row[1] = rec.SchemaHash, rec.TsMillis
	for i, src := range layout[2 : len(layout)-1] {
		switch {
		case src.index < 0:
		case src.key:
			row[i+2] = keys[src.index]
		default:
			row[i+2] = values[src.index]
		}
	}
	if len(extras) > 0 {
		m := make(map[string]any, len(extras))
		for k, x := range extras {
			m[k] = x
		}
		row[len(row)-1] = m
	}
	for i, v := range row {
		if err := batch.AppendValue(fl.b.Field(i), v); err != nil {
			// Decoded values follow their field's type, which is the
			// column's (NewFlattener checked): a bug, not bad input.
			return fmt.Errorf("fetchlog: column %s: %w", fl.schema.Field(i).Name, err)
		}
	}
	return nil
}

// Flush returns the rows added since the last Flush as a batch (possibly
// empty), which the caller releases.
func (fl *Flattener) Flush() arrow.RecordBatch { return fl.b.NewRecordBatch() }

// Release frees the builder.
func (fl *Flattener) Release() { fl.b.Release() }
