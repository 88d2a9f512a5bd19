// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/expr"
)

// Extra columns a projected source carries besides its selects.
const (
	// MutationTsColumn is the mutation time of an entity mutation row.
	MutationTsColumn = "mutation_ts"
	// IsBeforeColumn marks the before-image of an updated or deleted entity.
	IsBeforeColumn = "is_before"
	// dsColumn carries the row's partition through the projection.
	dsColumn = "__chronon_ds"
)

// TsFrom says where a projected source's ts comes from.
type TsFrom int

const (
	// TsNone: the source has no ts (entities without a time column).
	TsNone TsFrom = iota
	// TsColumn: the query's timeColumn, or a selected column named ts.
	TsColumn
	// TsEndOfDay: SNAPSHOT events without a time column: the last
	// millisecond of the row's ds day.
	TsEndOfDay
)

// Source is a compiled source query: wheres and selects over a table's
// rows, producing the selected columns, then mutation_ts and is_before for
// mutation rows, then ts when the query does not select one (the last
// millisecond of the row's ds day).
type Source struct {
	proj     *expr.Projection
	schema   *arrow.Schema
	names    []string
	ts       TsFrom
	mutation bool
}

// SourceOptions say what CompileSource must produce beyond the selects.
type SourceOptions struct {
	// Mutations compiles the mutation time and reversal columns (an entity
	// source's mutation table).
	Mutations bool
}

// CompileSource compiles s's query against table, the schema of the rows
// the warehouse scans (data columns and ds). def and path name the
// definition and the source's field in errors.
func CompileSource(def, path string, s *api.Source, table *arrow.Schema, opts SourceOptions) (*Source, error) {
	q := s.Query()
	if q == nil {
		q = &api.Query{}
	}
	field := path + "." + sourceField(s) + ".query"
	var selects [][2]string
	if sel := q.GetSelects(); sel.Len() > 0 {
		for _, name := range sel.Keys() {
			src, _ := sel.Get(name)
			if strings.TrimSpace(src) == "" {
				src = QuoteIdent(name)
			}
			selects = append(selects, [2]string{name, src})
		}
	} else {
		for _, f := range table.Fields() {
			if f.Name != api.PartitionColumn {
				selects = append(selects, [2]string{f.Name, QuoteIdent(f.Name)})
			}
		}
	}
	out := &Source{}
	has := func(name string) int {
		for i, s := range selects {
			if s[0] == name {
				return i
			}
		}
		return -1
	}
	switch {
	case q.TimeColumn != "":
		tsSrc := "CAST((" + q.TimeColumn + ") AS BIGINT)"
		if i := has(api.TimeColumn); i >= 0 {
			selects[i][1] = tsSrc
		} else {
			selects = append(selects, [2]string{api.TimeColumn, tsSrc})
		}
		out.ts = TsColumn
	case has(api.TimeColumn) >= 0:
		i := has(api.TimeColumn)
		selects[i][1] = "CAST((" + selects[i][1] + ") AS BIGINT)"
		out.ts = TsColumn
	case s.DataModel() == api.EventsModel:
		out.ts = TsEndOfDay
	}
	if opts.Mutations {
		if q.MutationTimeColumn == "" {
			return nil, fmt.Errorf("%s: %s.mutationTimeColumn: is required to read mutations", def, field)
		}
		if q.ReversalColumn == "" {
			return nil, fmt.Errorf("%s: %s.reversalColumn: is required to read mutations", def, field)
		}
		selects = append(selects,
			[2]string{MutationTsColumn, "CAST((" + q.MutationTimeColumn + ") AS BIGINT)"},
			[2]string{IsBeforeColumn, "CAST((" + q.ReversalColumn + ") AS BOOLEAN)"})
		out.mutation = true
	}
	selects = append(selects, [2]string{dsColumn, QuoteIdent(api.PartitionColumn)})
	proj, err := expr.CompileProjection(selects, q.Wheres, table)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", def, field, err)
	}
	out.proj = proj
	ps := proj.Schema()
	fields := make([]arrow.Field, 0, ps.NumFields())
	for _, f := range ps.Fields() {
		if f.Name == dsColumn {
			continue
		}
		fields = append(fields, f)
		out.names = append(out.names, f.Name)
	}
	if out.ts != TsColumn {
		// Rows without an event time (SNAPSHOT events, entities) happen at
		// the end of their day: inside every query of later days.
		fields = append(fields, arrow.Field{Name: api.TimeColumn, Type: arrow.PrimitiveTypes.Int64, Nullable: true})
		out.names = append(out.names, api.TimeColumn)
	}
	out.schema = arrow.NewSchema(fields, nil)
	return out, nil
}

// QuoteIdent back-quotes a column name for an expression.
func QuoteIdent(name string) string { return "`" + strings.ReplaceAll(name, "`", "``") + "`" }

func sourceField(s *api.Source) string {
	switch {
	case s.Entities != nil:
		return "entities"
	case s.JoinSource != nil:
		return "joinSource"
	}
	return "events"
}

// Schema is the schema of the records Apply returns.
func (s *Source) Schema() *arrow.Schema { return s.schema }

// Ts says where the source's ts comes from.
func (s *Source) Ts() TsFrom { return s.ts }

// Apply filters and projects one scanned record (with its ds column). The
// caller owns the result.
func (s *Source) Apply(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	out, err := s.proj.Apply(rec)
	if err != nil {
		return nil, err
	}
	defer out.Release()
	cols := make([]arrow.Array, 0, len(s.names))
	var ds arrow.Array
	for i, f := range out.Schema().Fields() {
		if f.Name == dsColumn {
			ds = out.Column(i)
			continue
		}
		cols = append(cols, out.Column(i))
	}
	if s.ts != TsColumn {
		ts, err := endOfDay(ds)
		if err != nil {
			return nil, err
		}
		defer ts.Release()
		cols = append(cols, ts)
	}
	return array.NewRecordBatch(s.schema, cols, out.NumRows()), nil
}

// endOfDay returns, per row, the last millisecond of the row's ds day.
func endOfDay(ds arrow.Array) (arrow.Array, error) {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.Reserve(ds.Len())
	cache := map[string]int64{}
	for i := 0; i < ds.Len(); i++ {
		d, _ := expr.ValueAt(ds, i).(string)
		ms, ok := cache[d]
		if !ok {
			m, err := batch.MillisOfDS(d)
			if err != nil {
				return nil, fmt.Errorf("row %d: %w", i, err)
			}
			ms = m + batch.DayMillis - 1
			cache[d] = ms
		}
		b.Append(ms)
	}
	return b.NewArray(), nil
}
