// SPDX-License-Identifier: Apache-2.0

package plan

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/expr"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// SchemaFunc returns the data schema of a table (its columns without ds), as
// the warehouse's Describe reports it. For a table that does not exist it
// returns an error wrapping warehouse.ErrTableNotFound.
type SchemaFunc func(table string) (*arrow.Schema, error)

// SchemaOf adapts a DescribeFunc to a SchemaFunc.
func SchemaOf(describe DescribeFunc) SchemaFunc {
	return func(table string) (*arrow.Schema, error) {
		info, err := describe(table)
		if err != nil {
			return nil, err
		}
		if info == nil || info.Schema == nil {
			return nil, warehouse.ErrTableNotFound
		}
		return info.Schema, nil
	}
}

// maxDepth bounds the nesting of join sources (a GroupBy over a Join whose
// parts read Joins ...), so that a cyclic hand-built definition fails
// instead of recursing forever.
const maxDepth = 16

var (
	tString = arrow.BinaryTypes.String
	tInt64  = arrow.PrimitiveTypes.Int64
)

// columns is an ordered set of typed columns.
type columns struct {
	names []string
	types map[string]arrow.DataType
}

func newColumns() *columns { return &columns{types: map[string]arrow.DataType{}} }

// add appends name (or retypes it in place when already present).
func (c *columns) add(name string, t arrow.DataType) {
	if _, ok := c.types[name]; !ok {
		c.names = append(c.names, name)
	}
	c.types[name] = t
}

// schema returns the columns as an Arrow schema of nullable fields.
func (c *columns) schema() *arrow.Schema {
	fields := make([]arrow.Field, len(c.names))
	for i, n := range c.names {
		fields[i] = arrow.Field{Name: n, Type: c.types[n], Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// list renders the column names for error messages.
func (c *columns) list() string { return strings.Join(c.names, ", ") }

// tsKind says where a source's ts comes from.
type tsKind int

const (
	tsNone   tsKind = iota // no ts
	tsColumn               // the timeColumn expression, or a column named ts
	tsFromDS               // SNAPSHOT events without timeColumn: end of the ds day
)

// typedSource is what a source's query produces.
type typedSource struct {
	// cols are the selected columns (every table column for SELECT *), plus
	// ts when the source has one.
	cols *columns
	// tableCols are the data columns of the table, for SELECT *.
	tableCols []string
	ts        tsKind
}

// quoteIdent back-quotes a column name for an expression.
func quoteIdent(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

// sourceField names the union member of s set in compiled JSON.
func sourceField(s *api.Source) string {
	switch {
	case s.Events != nil:
		return "events"
	case s.Entities != nil:
		return "entities"
	case s.JoinSource != nil:
		return "joinSource"
	}
	return ""
}

// typeSource compiles a source's selects, wheres and time column against
// its table's schema. def names the definition and path the source's field
// (sources[0], left) in errors.
func typeSource(def, path string, s *api.Source, tables SchemaFunc, depth int) (*typedSource, error) {
	if s == nil {
		return nil, fmt.Errorf("%s: %s: is required", def, path)
	}
	field := sourceField(s)
	var table *arrow.Schema
	switch {
	case s.Events != nil || s.Entities != nil:
		tablePath := path + ".events.table"
		if s.Entities != nil {
			tablePath = path + ".entities.snapshotTable"
		}
		name := s.Table()
		if name == "" {
			return nil, fmt.Errorf("%s: %s: is required", def, tablePath)
		}
		sch, err := tables(name)
		if err == nil && sch == nil {
			err = warehouse.ErrTableNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: table %s: %w", def, tablePath, name, err)
		}
		table = sch
	case s.JoinSource != nil:
		if s.JoinSource.Join == nil {
			return nil, fmt.Errorf("%s: %s.joinSource.join: is required", def, path)
		}
		if depth >= maxDepth {
			return nil, fmt.Errorf("%s: %s.joinSource.join: join sources nest deeper than %d levels (a cycle?)", def, path, maxDepth)
		}
		sch, err := joinSchema(s.JoinSource.Join, tables, depth+1)
		if err != nil {
			return nil, fmt.Errorf("%s: %s.joinSource.join: %w", def, path, err)
		}
		table = batch.WithoutColumn(sch, api.PartitionColumn)
	default:
		return nil, fmt.Errorf("%s: %s: must set exactly one of events, entities, joinSource", def, path)
	}

	// Expressions see the table's columns and its partition column.
	fields := append([]arrow.Field(nil), table.Fields()...)
	if _, ok := table.FieldsByName(api.PartitionColumn); !ok {
		fields = append(fields, arrow.Field{Name: api.PartitionColumn, Type: tString, Nullable: true})
	}
	input := arrow.NewSchema(fields, nil)
	out := &typedSource{cols: newColumns()}
	for _, f := range table.Fields() {
		if f.Name != api.PartitionColumn {
			out.tableCols = append(out.tableCols, f.Name)
		}
	}
	qpath := path + "." + field + ".query"
	q := s.Query()
	if sel := q.GetSelects(); sel.Len() > 0 {
		for _, name := range sel.Keys() {
			src, _ := sel.Get(name)
			if strings.TrimSpace(src) == "" {
				src = quoteIdent(name)
			}
			p, err := expr.Compile(src, input)
			if err != nil {
				return nil, fmt.Errorf("%s: %s.selects.%s: %w", def, qpath, name, err)
			}
			out.cols.add(name, p.Type())
		}
	} else {
		// SELECT *: every table column, with the types expressions see.
		// A column expressions cannot read keeps its table type: it only
		// fails where it is used.
		for _, f := range table.Fields() {
			if f.Name == api.PartitionColumn {
				continue
			}
			t := f.Type
			if p, err := expr.Compile(quoteIdent(f.Name), input); err == nil {
				t = p.Type()
			}
			out.cols.add(f.Name, t)
		}
	}
	if q != nil {
		for i, w := range q.Wheres {
			p, err := expr.Compile(w, input)
			if err != nil {
				return nil, fmt.Errorf("%s: %s.wheres[%d]: %w", def, qpath, i, err)
			}
			if t := p.Type(); t.ID() != arrow.BOOL && t.ID() != arrow.NULL {
				return nil, fmt.Errorf("%s: %s.wheres[%d]: a filter must be boolean, not %s", def, qpath, i, TypeString(t))
			}
		}
	}
	switch {
	case q != nil && q.TimeColumn != "":
		p, err := expr.Compile(q.TimeColumn, input)
		if err != nil {
			return nil, fmt.Errorf("%s: %s.timeColumn: %w", def, qpath, err)
		}
		if !isInteger(p.Type()) {
			return nil, fmt.Errorf("%s: %s.timeColumn: must give epoch milliseconds as a long, got %s", def, qpath, TypeString(p.Type()))
		}
		out.cols.add(api.TimeColumn, tInt64)
		out.ts = tsColumn
	case out.cols.types[api.TimeColumn] != nil:
		if t := out.cols.types[api.TimeColumn]; !isInteger(t) {
			return nil, fmt.Errorf("%s: %s: column ts must hold epoch milliseconds as a long, got %s (set timeColumn)", def, qpath, TypeString(t))
		}
		out.cols.add(api.TimeColumn, tInt64)
		out.ts = tsColumn
	case s.DataModel() == api.EventsModel:
		out.cols.add(api.TimeColumn, tInt64)
		out.ts = tsFromDS
	}
	return out, nil
}

func isInteger(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		return true
	}
	return false
}

// GroupByOutputSchema returns the schema of a GroupBy's backfill output
// table: its key columns, its value columns (aggregation outputs typed by
// core/agg over the selected input types, or the selected columns of a
// GroupBy without aggregations; then derivations, typed by core/expr) and
// ds. GroupBy backfills are daily snapshots whatever the accuracy, as in
// Chronon, so the table has no ts.
//
// Column types come from the source tables' schemas, looked up with tables.
// Errors name the definition and the field at fault, e.g.
// `quickstart.purchases.v1: sources[0].events.query.selects.price: 1:5:
// unknown column "pric"`.
func GroupByOutputSchema(g *api.GroupBy, tables SchemaFunc) (*arrow.Schema, error) {
	return groupBySchema(g, tables, 0)
}

// JoinOutputSchema returns the schema of a Join's output table: the left
// columns (its selects typed over the left table, every table column when it
// has none, then ts for an events left, then ds), every join part's prefixed
// value columns, and derivations typed over those (a derivation named like
// an existing column is coalesce(column, expression), as in Chronon). Keys
// appear once, under their left names.
//
// Column types come from the tables' schemas, looked up with tables. Errors
// name the definition and field; an error inside a join part's GroupBy is
// prefixed with the join's name and the part's index.
func JoinOutputSchema(j *api.Join, tables SchemaFunc) (*arrow.Schema, error) {
	return joinSchema(j, tables, 0)
}

func groupBySchema(g *api.GroupBy, tables SchemaFunc, depth int) (*arrow.Schema, error) {
	if g == nil {
		return nil, errors.New("plan: nil GroupBy")
	}
	name := g.MetaData.GetName()
	if len(g.Sources) == 0 {
		return nil, fmt.Errorf("%s: sources: at least one source is required", name)
	}
	srcs := make([]*typedSource, len(g.Sources))
	for i, s := range g.Sources {
		ts, err := typeSource(name, fmt.Sprintf("sources[%d]", i), s, tables, depth)
		if err != nil {
			return nil, err
		}
		srcs[i] = ts
	}
	cols := srcs[0].cols
	lookup := func(path, what, col string) (arrow.DataType, error) {
		t, ok := cols.types[col]
		if !ok {
			return nil, fmt.Errorf("%s: %s: %s %q is not a column of sources[0] (columns: %s)", name, path, what, col, cols.list())
		}
		for i, s := range srcs[1:] {
			other, ok := s.cols.types[col]
			if !ok {
				return nil, fmt.Errorf("%s: sources[%d]: does not give column %q, which sources[0] gives (%s)", name, i+1, col, path)
			}
			if !arrow.TypeEqual(t, other) {
				return nil, fmt.Errorf("%s: sources[%d]: column %q is %s but %s in sources[0]: all sources must give the same types",
					name, i+1, col, TypeString(other), TypeString(t))
			}
		}
		return t, nil
	}

	out := newColumns()
	for i, k := range g.KeyColumns {
		t, err := lookup(fmt.Sprintf("keyColumns[%d]", i), "key column", k)
		if err != nil {
			return nil, err
		}
		out.add(k, t)
	}
	base := newColumns()
	if len(g.Aggregations) > 0 {
		for i, a := range g.Aggregations {
			apath := fmt.Sprintf("aggregations[%d]", i)
			if a == nil {
				return nil, fmt.Errorf("%s: %s: is empty", name, apath)
			}
			in, err := lookup(apath+".inputColumn", "input column", a.InputColumn)
			if err != nil {
				return nil, err
			}
			for j, b := range a.Buckets {
				bt, err := lookup(fmt.Sprintf("%s.buckets[%d]", apath, j), "bucket column", b)
				if err != nil {
					return nil, err
				}
				if bt.ID() != arrow.STRING {
					return nil, fmt.Errorf("%s: %s.buckets[%d]: bucket column %q must be a string, got %s", name, apath, j, b, TypeString(bt))
				}
			}
			for _, part := range a.Unpack() {
				if needsTs(part) && srcs[0].ts == tsNone {
					return nil, fmt.Errorf("%s: sources[0].%s.query.timeColumn: is required: %s (%s) needs a ts",
						name, sourceField(g.Sources[0]), apath, part.OutputColumnName())
				}
				ag, err := agg.New(part, in)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %s: %w", name, apath, part.OutputColumnName(), err)
				}
				base.add(part.OutputColumnName(), ag.OutputType())
			}
		}
	} else {
		for _, c := range g.BaseValueColumns() {
			t, err := lookup("sources[0]."+sourceField(g.Sources[0])+".query.selects", "value column", c)
			if err != nil {
				return nil, err
			}
			base.add(c, t)
		}
	}

	// Derivations see the keys, the base values and ds.
	derived := map[string]arrow.DataType{}
	if len(g.Derivations) > 0 {
		env := newColumns()
		for _, k := range out.names {
			env.add(k, out.types[k])
		}
		for _, c := range base.names {
			env.add(c, base.types[c])
		}
		env.add(api.PartitionColumn, tString)
		in := env.schema()
		for i, d := range g.Derivations {
			if d == nil || d.Name == "*" {
				continue
			}
			p, err := expr.Compile(d.Expression, in)
			if err != nil {
				return nil, fmt.Errorf("%s: derivations[%d].expression: %w", name, i, err)
			}
			derived[d.Name] = p.Type()
		}
	}
	for _, c := range g.ValueColumns() {
		if t, ok := derived[c]; ok {
			out.add(c, t)
		} else {
			out.add(c, base.types[c])
		}
	}
	out.add(api.PartitionColumn, tString)
	return out.schema(), nil
}

// needsTs reports whether a part reads the rows' ts: windowed parts and the
// timed operations.
func needsTs(p api.AggregationPart) bool {
	if p.Window != nil && !p.Window.Unbounded() {
		return true
	}
	switch p.Operation {
	case api.OpFirst, api.OpLast, api.OpFirstK, api.OpLastK:
		return true
	}
	return false
}

func joinSchema(j *api.Join, tables SchemaFunc, depth int) (*arrow.Schema, error) {
	if j == nil {
		return nil, errors.New("plan: nil Join")
	}
	name := j.MetaData.GetName()
	left, err := typeSource(name, "left", j.Left, tables, depth)
	if err != nil {
		return nil, err
	}
	if j.Left.JoinSource != nil {
		return nil, fmt.Errorf("%s: left: a join's left side must be events or entities", name)
	}
	events := j.Left.DataModel() == api.EventsModel
	if events && left.ts != tsColumn {
		return nil, fmt.Errorf("%s: left.events.query.timeColumn: is required: the left table %s has no ts column", name, j.Left.Table())
	}
	base := newColumns()
	for _, c := range j.LeftColumns(left.tableCols) {
		switch c {
		case api.TimeColumn:
			if events {
				base.add(c, tInt64)
			} else if t, ok := left.cols.types[c]; ok {
				base.add(c, t)
			}
		case api.PartitionColumn:
			base.add(c, tString)
		default:
			base.add(c, left.cols.types[c])
		}
	}
	for i, jp := range j.JoinParts {
		ppath := fmt.Sprintf("joinParts[%d]", i)
		if jp == nil || jp.GroupBy == nil {
			return nil, fmt.Errorf("%s: %s.groupBy: is required", name, ppath)
		}
		gs, err := groupBySchema(jp.GroupBy, tables, depth)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, ppath, err)
		}
		l2r := jp.LeftToRight()
		lefts := make([]string, 0, len(l2r))
		for l := range l2r {
			lefts = append(lefts, l)
		}
		sort.Strings(lefts)
		for _, l := range lefts {
			r := l2r[l]
			lt, ok := base.types[l]
			if !ok {
				return nil, fmt.Errorf("%s: %s.keyMapping: left column %q (joined to %s's key %q) is not a left column (left columns: %s)",
					name, ppath, l, jp.GroupBy.MetaData.GetName(), r, base.list())
			}
			fs, ok := gs.FieldsByName(r)
			if !ok {
				return nil, fmt.Errorf("%s: %s.keyMapping: %q is not a key of %s", name, ppath, r, jp.GroupBy.MetaData.GetName())
			}
			if rt := fs[0].Type; !keyCompatible(lt, rt) {
				return nil, fmt.Errorf("%s: %s.keyMapping: left column %q is %s but %s's key %q is %s",
					name, ppath, l, TypeString(lt), jp.GroupBy.MetaData.GetName(), r, TypeString(rt))
			}
		}
		prefix := jp.FullPrefix()
		for _, c := range jp.GroupBy.ValueColumns() {
			fs, _ := gs.FieldsByName(c)
			base.add(prefix+"_"+c, fs[0].Type)
		}
	}

	outCols := j.OutputColumns(left.tableCols)
	if len(j.BootstrapParts) > 0 {
		// Bootstrap fills external parts' values offline (Chronon pads
		// them), so the output has them too.
		if outCols, err = bootstrapOutputColumns(j, left.tableCols, base); err != nil {
			return nil, err
		}
	}
	derived := map[string]arrow.DataType{}
	if len(j.Derivations) > 0 {
		in := base.schema()
		for i, d := range j.Derivations {
			if d == nil || d.Name == "*" {
				continue
			}
			p, err := expr.Compile(d.Expression, in)
			if err != nil {
				return nil, fmt.Errorf("%s: derivations[%d].expression: %w", name, i, err)
			}
			t := p.Type()
			if _, exists := base.types[d.Name]; exists {
				// Chronon keeps an existing column and fills its nulls.
				src := "coalesce(" + quoteIdent(d.Name) + ", (\n" + d.Expression + "\n))"
				cp, err := expr.Compile(src, in)
				if err != nil {
					return nil, fmt.Errorf("%s: derivations[%d].expression: coalesce with the existing column %q: %w", name, i, d.Name, err)
				}
				t = cp.Type()
			}
			derived[d.Name] = t
		}
	}
	out := newColumns()
	for _, c := range outCols {
		if t, ok := derived[c]; ok {
			out.add(c, t)
		} else if t, ok := base.types[c]; ok {
			out.add(c, t)
		}
	}
	return out.schema(), nil
}

// keyCompatible reports whether a left column can be joined to a GroupBy
// key: the same type, or integers of any width.
func keyCompatible(a, b arrow.DataType) bool {
	return arrow.TypeEqual(a, b) || isInteger(a) && isInteger(b)
}

// TypeString renders an Arrow type compactly for schemas printed by
// `chronon analyze`: string, int64, float64, bool, list<int64>,
// map<string,int64>, struct<a:int64,b:string>.
func TypeString(t arrow.DataType) string {
	if t == nil {
		return "?"
	}
	switch tt := t.(type) {
	case *arrow.ListType:
		return "list<" + TypeString(tt.Elem()) + ">"
	case *arrow.LargeListType:
		return "list<" + TypeString(tt.Elem()) + ">"
	case *arrow.MapType:
		return "map<" + TypeString(tt.KeyType()) + "," + TypeString(tt.ItemField().Type) + ">"
	case *arrow.StructType:
		parts := make([]string, tt.NumFields())
		for i, f := range tt.Fields() {
			parts[i] = f.Name + ":" + TypeString(f.Type)
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	}
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING:
		return "string"
	case arrow.BINARY, arrow.LARGE_BINARY:
		return "binary"
	case arrow.BOOL:
		return "bool"
	case arrow.TIMESTAMP:
		return "timestamp"
	case arrow.DATE32:
		return "date"
	}
	return t.String()
}
