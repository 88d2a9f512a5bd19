// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/expr"
)

// SchemaFunc returns the data schema (without ds) of a warehouse table.
type SchemaFunc func(table string) (*arrow.Schema, error)

// ScanSchema is the schema of a table's scanned rows: its data columns and
// ds.
func ScanSchema(data *arrow.Schema) *arrow.Schema {
	fields := make([]arrow.Field, 0, data.NumFields()+1)
	for _, f := range data.Fields() {
		if f.Name != api.PartitionColumn {
			fields = append(fields, f)
		}
	}
	fields = append(fields, arrow.Field{Name: api.PartitionColumn, Type: arrow.BinaryTypes.String, Nullable: true})
	return arrow.NewSchema(fields, nil)
}

// TailMode is g's window tail mode under chronon.yaml's windowTail (its
// customJson may override it).
func TailMode(g *api.GroupBy, windowTail string) (agg.TailMode, error) {
	tail, err := g.EffectiveWindowTail(windowTail)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", g.MetaData.GetName(), err)
	}
	mode, err := agg.ParseTailMode(tail)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", g.MetaData.GetName(), err)
	}
	return mode, nil
}

// Part is a compiled join part (or a GroupBy backfilled on its own).
type Part struct {
	JoinPart *api.JoinPart // nil for a GroupBy backfill
	GroupBy  *GroupBy
	Rule     Rule
	// Sources are the GroupBy's compiled sources, in order; Mutations the
	// compiled mutation query of each entity source with a mutation table
	// (nil otherwise).
	Sources   []*Source
	Mutations []*Source
	// LeftKeys[i] (a left column) joins GroupBy key RightKeys[i].
	LeftKeys, RightKeys []string
	derive              *Derivations
}

// compilePart compiles a GroupBy's sources and aggregations.
// windowTail is chronon.yaml's window_tail, which the GroupBy's customJson
// may override.
func compilePart(g *api.GroupBy, rule Rule, schemas SchemaFunc, windowTail string) (*Part, error) {
	name := g.MetaData.GetName()
	if len(g.Sources) == 0 {
		return nil, fmt.Errorf("%s: sources: at least one source is required", name)
	}
	mode, err := TailMode(g, windowTail)
	if err != nil {
		return nil, err
	}
	p := &Part{Rule: rule}
	for i, s := range g.Sources {
		path := fmt.Sprintf("sources[%d]", i)
		sch, err := schemas(s.Table())
		if err != nil {
			return nil, fmt.Errorf("%s: %s: table %s: %w", name, path, s.Table(), err)
		}
		src, err := CompileSource(name, path, s, ScanSchema(sch), SourceOptions{})
		if err != nil {
			return nil, err
		}
		if src.Ts() == TsNone && rule != RuleSnapshotSame && rule != RuleSnapshotPrev {
			return nil, fmt.Errorf("%s: %s.%s.query.timeColumn: is required: this GroupBy needs event times", name, path, sourceField(s))
		}
		p.Sources = append(p.Sources, src)
		var mut *Source
		if rule == RuleMutations && s.Entities != nil && s.Entities.MutationTable != "" {
			msch, err := schemas(s.Entities.MutationTable)
			if err != nil {
				return nil, fmt.Errorf("%s: %s.entities.mutationTable: table %s: %w", name, path, s.Entities.MutationTable, err)
			}
			if mut, err = CompileSource(name, path, s, ScanSchema(msch), SourceOptions{Mutations: true}); err != nil {
				return nil, err
			}
		}
		p.Mutations = append(p.Mutations, mut)
	}
	gb, err := CompileGroupBy(g, p.Sources[0].Schema(), mode)
	if err != nil {
		return nil, err
	}
	p.GroupBy = gb
	if len(g.Derivations) > 0 {
		var fields []arrow.Field
		for _, k := range g.KeyColumns {
			fields = append(fields, p.Sources[0].Schema().Field(p.Sources[0].Schema().FieldIndices(k)[0]))
		}
		fields = append(fields, gb.Output...)
		fields = append(fields, arrow.Field{Name: api.PartitionColumn, Type: arrow.BinaryTypes.String, Nullable: true})
		var base []string
		for _, f := range gb.Output {
			base = append(base, f.Name)
		}
		if p.derive, err = CompileDerivations(name, g.Derivations, arrow.NewSchema(fields, nil), nil, base, false); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// ValueColumns are the part's value columns after the GroupBy's
// derivations, unprefixed.
func (p *Part) ValueColumns() []string {
	if p.derive != nil {
		return p.derive.Columns()
	}
	out := make([]string, len(p.GroupBy.Output))
	for i, f := range p.GroupBy.Output {
		out[i] = f.Name
	}
	return out
}

// ValueFields are the part's value columns (after the GroupBy's
// derivations, unprefixed) with their types.
func (p *Part) ValueFields() []arrow.Field {
	if p.derive == nil {
		return p.GroupBy.Output
	}
	types := map[string]arrow.DataType{}
	for _, f := range p.GroupBy.Output {
		types[f.Name] = f.Type
	}
	var out []arrow.Field
	for _, c := range p.derive.Columns() {
		t := types[c]
		if prog, ok := p.derive.progs[c]; ok {
			t = prog.Type()
		}
		out = append(out, arrow.Field{Name: c, Type: t, Nullable: true})
	}
	return out
}

// PartTableSchema is the data schema (without ds) of a part's table; see
// PartTableColumns.
func (j *Join) PartTableSchema(p *Part) *arrow.Schema {
	var fields []arrow.Field
	for _, c := range j.partKeyColumns(p) {
		fields = append(fields, j.Left.Schema().Field(j.Left.Schema().FieldIndices(c)[0]))
	}
	for _, f := range p.ValueFields() {
		f.Name = p.JoinPart.FullPrefix() + "_" + f.Name
		fields = append(fields, f)
	}
	return arrow.NewSchema(fields, nil)
}

// Join is a compiled Join backfill.
type Join struct {
	Def   *api.Join
	Left  *Source
	Parts []*Part
	// LeftColumns are the left columns of the output (api.Join.LeftColumns).
	LeftColumns []string
	skew        *expr.Projection
	derive      *Derivations
	mu          sync.Mutex // guards derive
	events      bool
	boot        *Bootstrap
}

// CompileJoin compiles j's left query and join parts against the tables'
// schemas.
// windowTail is chronon.yaml's window_tail ("exact", "hop" or "").
func CompileJoin(j *api.Join, schemas SchemaFunc, windowTail string) (*Join, error) {
	name := j.MetaData.GetName()
	if j.Left == nil || j.Left.JoinSource != nil {
		return nil, fmt.Errorf("%s: left: must be an events or entities source", name)
	}
	sch, err := schemas(j.Left.Table())
	if err != nil {
		return nil, fmt.Errorf("%s: left: table %s: %w", name, j.Left.Table(), err)
	}
	left, err := CompileSource(name, "left", j.Left, ScanSchema(sch), SourceOptions{})
	if err != nil {
		return nil, err
	}
	out := &Join{Def: j, Left: left, events: j.Left.DataModel() == api.EventsModel}
	if out.events && left.Ts() != TsColumn {
		return nil, fmt.Errorf("%s: left.events.query.timeColumn: is required: the left table %s has no ts column", name, j.Left.Table())
	}
	var tableCols []string
	for _, f := range sch.Fields() {
		tableCols = append(tableCols, f.Name)
	}
	out.LeftColumns = j.LeftColumns(tableCols)
	if len(j.SkewKeys) > 0 {
		if out.skew, err = skewFilter(name, j.SkewKeys, left.Schema()); err != nil {
			return nil, err
		}
	}
	for i, jp := range j.JoinParts {
		if jp == nil || jp.GroupBy == nil {
			return nil, fmt.Errorf("%s: joinParts[%d].groupBy: is required", name, i)
		}
		p, err := compilePart(jp.GroupBy, RuleFor(jp.GroupBy, j.Left.DataModel()), schemas, windowTail)
		if err != nil {
			return nil, fmt.Errorf("%s: joinParts[%d]: %w", name, i, err)
		}
		p.JoinPart = jp
		l2r := jp.LeftToRight()
		for l := range l2r {
			p.LeftKeys = append(p.LeftKeys, l)
		}
		sort.Strings(p.LeftKeys)
		for _, l := range p.LeftKeys {
			if len(left.Schema().FieldIndices(l)) == 0 {
				return nil, fmt.Errorf("%s: joinParts[%d].keyMapping: left column %q is not selected by the left query", name, i, l)
			}
			p.RightKeys = append(p.RightKeys, l2r[l])
		}
		p.GroupBy.Keys = p.RightKeys
		out.Parts = append(out.Parts, p)
	}
	return out, nil
}

// skewFilter drops left rows whose column holds one of the skewed literals
// (Chronon's skewKeys).
func skewFilter(name string, skew map[string][]string, schema *arrow.Schema) (*expr.Projection, error) {
	var selects [][2]string
	for _, f := range schema.Fields() {
		selects = append(selects, [2]string{f.Name, QuoteIdent(f.Name)})
	}
	cols := make([]string, 0, len(skew))
	for c := range skew {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	var wheres []string
	for _, c := range cols {
		if len(skew[c]) == 0 {
			continue
		}
		wheres = append(wheres, fmt.Sprintf("(%s IS NULL OR %s NOT IN (%s))", QuoteIdent(c), QuoteIdent(c), strings.Join(skew[c], ", ")))
	}
	p, err := expr.CompileProjection(selects, wheres, schema)
	if err != nil {
		return nil, fmt.Errorf("%s: skewKeys: %w", name, err)
	}
	return p, nil
}

// LeftBatch is what a scanned left record becomes: the output's left
// columns with row ids, and one query batch per join part.
type LeftBatch struct {
	Rows    arrow.RecordBatch
	Queries []arrow.RecordBatch
}

// Release releases the batch's records.
func (b *LeftBatch) Release() {
	b.Rows.Release()
	for _, q := range b.Queries {
		q.Release()
	}
}

// LeftRows projects one scanned left record of partition day and numbers
// its rows from ordinal on. It returns nil when no row is left.
func (j *Join) LeftRows(scanned arrow.RecordBatch, day int64, ordinal int) (*LeftBatch, error) {
	return j.LeftRowsBootstrapped(scanned, day, ordinal, nil)
}

// LeftRowsBootstrapped is LeftRows for a join with bootstrap parts: boot
// holds the bootstrap sources' rows of the day (nil without bootstrap).
// The rows also carry every bootstrap column and matched_hashes, and a join
// part's queries leave out the rows the bootstrap covers for it, so that
// only uncovered (row, join part) cells are computed.
func (j *Join) LeftRowsBootstrapped(scanned arrow.RecordBatch, day int64, ordinal int, boot *BootstrapDay) (*LeftBatch, error) {
	rec, err := j.Left.Apply(scanned)
	if err != nil {
		return nil, fmt.Errorf("%s: left: %w", j.Def.MetaData.GetName(), err)
	}
	if j.skew != nil {
		filtered, err := j.skew.Apply(rec)
		rec.Release()
		if err != nil {
			return nil, fmt.Errorf("%s: skewKeys: %w", j.Def.MetaData.GetName(), err)
		}
		rec = filtered
	}
	defer rec.Release()
	n := int(rec.NumRows())
	if n == 0 {
		return nil, nil
	}
	mem := memory.DefaultAllocator
	rb := array.NewInt64Builder(mem)
	for i := 0; i < n; i++ {
		rb.Append(RowID(day, ordinal+i))
	}
	rows := rb.NewArray()
	rb.Release()
	defer rows.Release()
	ds := dsArray(day, n)
	defer ds.Release()

	fields := []arrow.Field{{Name: RowColumn, Type: arrow.PrimitiveTypes.Int64}}
	cols := []arrow.Array{rows}
	for _, c := range j.LeftColumns {
		if c == api.PartitionColumn {
			fields = append(fields, arrow.Field{Name: c, Type: arrow.BinaryTypes.String, Nullable: true})
			cols = append(cols, ds)
			continue
		}
		idx := rec.Schema().FieldIndices(c)
		if len(idx) == 0 {
			return nil, fmt.Errorf("%s: left: column %q is not selected", j.Def.MetaData.GetName(), c)
		}
		fields = append(fields, rec.Schema().Field(idx[0]))
		cols = append(cols, rec.Column(idx[0]))
	}
	var covered [][]bool
	if boot != nil {
		e, err := boot.enrich(rec)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", j.Def.MetaData.GetName(), err)
		}
		defer e.release()
		fields = append(fields, j.boot.Fields...)
		fields = append(fields, arrow.Field{Name: MatchedHashesColumn, Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true})
		cols = append(cols, e.cols...)
		covered = e.covered
	}
	out := &LeftBatch{Rows: array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))}
	var ts *array.Int64
	if j.events {
		if ts, err = int64Column(rec, api.TimeColumn); err != nil {
			return nil, err
		}
	}
	for _, p := range j.Parts {
		q, err := p.queries(rec, rows, ts, day)
		if err == nil && covered != nil {
			q, err = uncovered(q, covered[len(out.Queries)])
		}
		if err != nil {
			out.Release()
			return nil, fmt.Errorf("%s: %w", j.Def.MetaData.GetName(), err)
		}
		out.Queries = append(out.Queries, q)
	}
	return out, nil
}

func dsArray(day int64, n int) arrow.Array {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	ds := DayString(day)
	for i := 0; i < n; i++ {
		b.Append(ds)
	}
	return b.NewArray()
}

// queries builds a part's query batch: its keys under the GroupBy's names,
// the row ids, the query times and snapshot days of its rule. A left row
// without ts (null) asks at time 0 and finds nothing.
func (p *Part) queries(rec arrow.RecordBatch, rows arrow.Array, ts *array.Int64, day int64) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	fields := make([]arrow.Field, 0, len(p.LeftKeys)+3)
	cols := make([]arrow.Array, 0, len(p.LeftKeys)+3)
	for i, l := range p.LeftKeys {
		idx := rec.Schema().FieldIndices(l)
		f := rec.Schema().Field(idx[0])
		f.Name = p.RightKeys[i]
		fields = append(fields, f)
		cols = append(cols, rec.Column(idx[0]))
	}
	tb := array.NewInt64Builder(memory.DefaultAllocator)
	db := array.NewInt64Builder(memory.DefaultAllocator)
	defer tb.Release()
	defer db.Release()
	for i := 0; i < n; i++ {
		var t int64
		if ts != nil && !ts.IsNull(i) {
			t = ts.Value(i)
		}
		qt, qd := p.Rule.Query(t, day)
		tb.Append(qt)
		db.Append(qd)
	}
	ta, da := tb.NewArray(), db.NewArray()
	defer ta.Release()
	defer da.Release()
	fields = append(fields,
		arrow.Field{Name: RowColumn, Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: QueryTsColumn, Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: DayColumn, Type: arrow.PrimitiveTypes.Int64})
	cols = append(cols, rows, ta, da)
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n)), nil
}

// uncovered keeps the query rows the bootstrap does not cover (all of q,
// retained, when it covers none). It releases q.
func uncovered(q arrow.RecordBatch, covered []bool) (arrow.RecordBatch, error) {
	defer q.Release()
	keep := make([]int32, 0, len(covered))
	for r, c := range covered {
		if !c {
			keep = append(keep, int32(r))
		}
	}
	if len(keep) == len(covered) {
		q.Retain()
		return q, nil
	}
	return Take(q, keep)
}
