// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/expr"
)

// Derivations are compiled derivations over a record's columns.
type Derivations struct {
	defs  []*api.Derivation
	progs map[string]*expr.Program
	// keep are the input columns kept in front of the derived ones, in
	// order; out names every output column.
	keep []string
	out  []string
}

// CompileDerivations compiles defs over schema. fixed are columns always
// kept first (a join's left columns; none for a GroupBy), base the columns
// derivations apply to (Chronon's rule, api.DerivedColumns). With coalesce
// (a join's derivations), a derived column named like an existing column is
// coalesce(column, expression); a GroupBy's derivations simply replace it
// (Chronon's finalOutputColumn). what names the definition in errors.
func CompileDerivations(what string, defs []*api.Derivation, schema *arrow.Schema, fixed, base []string, coalesce bool) (*Derivations, error) {
	d := &Derivations{defs: defs, progs: map[string]*expr.Program{}}
	exists := map[string]bool{}
	for _, f := range schema.Fields() {
		exists[f.Name] = true
	}
	for i, def := range defs {
		if def == nil || def.Name == "*" {
			continue
		}
		src := def.Expression
		if coalesce && exists[def.Name] {
			src = "coalesce(" + QuoteIdent(def.Name) + ", (\n" + def.Expression + "\n))"
		}
		p, err := expr.Compile(src, schema)
		if err != nil {
			return nil, fmt.Errorf("%s: derivations[%d].expression: %w", what, i, err)
		}
		d.progs[def.Name] = p
	}
	seen := map[string]bool{}
	for _, c := range fixed {
		d.out = append(d.out, c)
		seen[c] = true
	}
	for _, c := range api.DerivedColumns(base, defs) {
		if !seen[c] {
			d.out = append(d.out, c)
			seen[c] = true
		}
	}
	return d, nil
}

// Columns are the output columns in order.
func (d *Derivations) Columns() []string { return d.out }

// Apply evaluates the derivations over rec and returns the output columns.
// A column not derived is taken from rec.
func (d *Derivations) Apply(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, 0, len(d.out))
	fields := make([]arrow.Field, 0, len(d.out))
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for _, name := range d.out {
		if p, ok := d.progs[name]; ok {
			a, err := p.EvalBatch(rec)
			if err != nil {
				return nil, fmt.Errorf("derivation %s: %w", name, err)
			}
			cols = append(cols, a)
			fields = append(fields, arrow.Field{Name: name, Type: a.DataType(), Nullable: true})
			continue
		}
		idx := rec.Schema().FieldIndices(name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("column %q is missing (columns: %s)", name, strings.Join(fieldNames(rec.Schema()), ", "))
		}
		c := rec.Column(idx[0])
		c.Retain()
		cols = append(cols, c)
		fields = append(fields, rec.Schema().Field(idx[0]))
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows()), nil
}

// Fields are the output columns with their types, for input schema in.
func (d *Derivations) Fields(in *arrow.Schema) []arrow.Field {
	out := make([]arrow.Field, 0, len(d.out))
	for _, name := range d.out {
		if p, ok := d.progs[name]; ok {
			out = append(out, arrow.Field{Name: name, Type: p.Type(), Nullable: true})
		} else if idx := in.FieldIndices(name); len(idx) > 0 {
			out = append(out, in.Field(idx[0]))
		}
	}
	return out
}

// ApplyRow evaluates the derivations over one row (the online path, where
// a row is a map of column values; a missing column is null) and returns
// the output columns.
func (d *Derivations) ApplyRow(row map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(d.out))
	for _, name := range d.out {
		p, ok := d.progs[name]
		if !ok {
			out[name] = row[name]
			continue
		}
		v, err := p.EvalRow(row)
		if err != nil {
			return nil, fmt.Errorf("derivation %s: %w", name, err)
		}
		out[name] = v
	}
	return out, nil
}
