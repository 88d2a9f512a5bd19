// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/api"
)

// PartValues is one join part's input to Assemble for one day: the values
// GroupBy.Evaluate computed (records of RowColumn and values), or, when
// FromTable, the rows of the part's table (PartTableSchema) for that day.
type PartValues struct {
	Computed  []arrow.RecordBatch
	FromTable bool
	Table     []arrow.RecordBatch
}

// Assemble builds one output partition of the join: the left rows of the
// day (LeftBatch.Rows records, in any order) with every part's values (a
// left row a part has no values for gets nulls), then the join's
// derivations. The result has the output table's columns, ds included, in
// left-row order. partRows holds, for each part computed here, its rows for
// the part's table (PartTableSchema), nil for parts read from their table.
func (j *Join) Assemble(left []arrow.RecordBatch, parts []PartValues) (out arrow.RecordBatch, partRows []arrow.RecordBatch, err error) {
	name := j.Def.MetaData.GetName()
	rows, err := j.sortedRows(left)
	if err != nil || rows == nil {
		return nil, nil, err
	}
	defer rows.Release()
	ids, err := int64Column(rows, RowColumn)
	if err != nil {
		return nil, nil, err
	}
	pos := make(map[int64]int32, ids.Len())
	for i := 0; i < ids.Len(); i++ {
		pos[ids.Value(i)] = int32(i)
	}
	n := int(rows.NumRows())

	nleft := int(rows.NumCols()) - 1
	if j.boot != nil {
		nleft = len(j.LeftColumns)
	}
	fields := append([]arrow.Field(nil), rows.Schema().Fields()[1:1+nleft]...)
	cols := append([]arrow.Array(nil), rows.Columns()[1:1+nleft]...)
	var owned []arrow.Array
	defer func() { releaseAll(owned) }()
	var covered [][]bool
	if j.boot != nil {
		if covered, err = j.boot.coverage(rows); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	partRows = make([]arrow.RecordBatch, len(j.Parts))
	for pi, p := range j.Parts {
		var vals []arrow.Array
		var vfields []arrow.Field
		if parts[pi].FromTable {
			vals, vfields, err = j.cachedValues(p, rows, parts[pi].Table)
		} else {
			vals, vfields, err = p.valuesFor(rows, pos, n, parts[pi].Computed)
		}
		if err != nil {
			releaseRecords(partRows)
			return nil, nil, fmt.Errorf("%s: joinParts[%d]: %w", name, pi, err)
		}
		owned = append(owned, vals...)
		prefix := p.JoinPart.FullPrefix()
		var pfields []arrow.Field
		for _, f := range vfields {
			f.Name = prefix + "_" + f.Name
			pfields = append(pfields, f)
		}
		if !parts[pi].FromTable {
			if partRows[pi], err = j.partTableRows(p, rows, pfields, vals, covered); err != nil {
				releaseRecords(partRows)
				return nil, nil, fmt.Errorf("%s: joinParts[%d]: %w", name, pi, err)
			}
		}
		if j.boot != nil {
			// Covered cells take the bootstrap's values only; others fill
			// the bootstrap's nulls with what the part computed.
			if vals, err = j.boot.fill(rows, pfields, vals, covered[pi]); err != nil {
				releaseRecords(partRows)
				return nil, nil, fmt.Errorf("%s: joinParts[%d]: %w", name, pi, err)
			}
			owned = append(owned, vals...)
		}
		fields = append(fields, pfields...)
		cols = append(cols, vals...)
	}
	if j.boot != nil {
		bf, bc, err := j.boot.extras(rows, len(j.Def.Derivations) > 0)
		if err != nil {
			releaseRecords(partRows)
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		owned = append(owned, bc...)
		fields = append(fields, bf...)
		cols = append(cols, bc...)
	}
	base := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))
	defer base.Release()
	if len(j.Def.Derivations) == 0 {
		base.Retain()
		return base, partRows, nil
	}
	d, err := j.derivations(base.Schema())
	if err == nil {
		out, err = d.Apply(base)
	}
	if err != nil {
		releaseRecords(partRows)
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, partRows, nil
}

// partKeyColumns are the columns a part's table repeats from the left rows
// to find them again: the part's left keys, then ts for an events left.
func (j *Join) partKeyColumns(p *Part) []string {
	cols := append([]string(nil), p.LeftKeys...)
	if j.events {
		cols = append(cols, api.TimeColumn)
	}
	return cols
}

// PartTableColumns lists a part table's columns: the part's left keys, ts
// (events left), the part's prefixed value columns and ds. A part's values
// depend only on these keys, ts and ds, so a later backfill that only adds
// or changes other parts reads them back instead of recomputing them.
func (j *Join) PartTableColumns(p *Part) []string {
	cols := j.partKeyColumns(p)
	for _, c := range p.ValueColumns() {
		cols = append(cols, p.JoinPart.FullPrefix()+"_"+c)
	}
	return append(cols, api.PartitionColumn)
}

// sortedRows concatenates a day's left rows (LeftBatch.Rows records) in
// row order; nil when there are none.
func (j *Join) sortedRows(left []arrow.RecordBatch) (arrow.RecordBatch, error) {
	left = slices.Clone(left)
	slices.SortFunc(left, func(a, b arrow.RecordBatch) int { return cmp.Compare(firstRow(a), firstRow(b)) })
	rows, err := Concat(left)
	if err != nil {
		return nil, fmt.Errorf("%s: left rows: %w", j.Def.MetaData.GetName(), err)
	}
	return rows, nil
}

// partTableRows builds a part table's rows from the assembled left rows:
// those the part computed (not covered by bootstrap, when covered is set).
func (j *Join) partTableRows(p *Part, rows arrow.RecordBatch, vfields []arrow.Field, vals []arrow.Array, covered [][]bool) (arrow.RecordBatch, error) {
	var fields []arrow.Field
	var cols []arrow.Array
	for _, c := range j.partKeyColumns(p) {
		i := rows.Schema().FieldIndices(c)[0]
		fields = append(fields, rows.Schema().Field(i))
		cols = append(cols, rows.Column(i))
	}
	fields = append(fields, vfields...)
	cols = append(cols, vals...)
	i := rows.Schema().FieldIndices(api.PartitionColumn)[0]
	fields = append(fields, rows.Schema().Field(i))
	cols = append(cols, rows.Column(i))
	out := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rows.NumRows())
	if covered == nil {
		return out, nil
	}
	return uncovered(out, covered[slices.Index(j.Parts, p)])
}

// cachedValues finds each left row's values in the part table's rows by
// the part's keys and ts.
func (j *Join) cachedValues(p *Part, rows arrow.RecordBatch, table []arrow.RecordBatch) ([]arrow.Array, []arrow.Field, error) {
	keys := j.partKeyColumns(p)
	cached, err := Concat(table)
	if err != nil {
		return nil, nil, err
	}
	prefix := p.JoinPart.FullPrefix() + "_"
	var src []arrow.Array
	var fields []arrow.Field
	index := map[string]int32{}
	if cached != nil {
		defer cached.Release()
		enc, err := NewKeyEncoder(cached, keys)
		if err != nil {
			return nil, nil, fmt.Errorf("part table: %w", err)
		}
		var buf []byte
		for i := 0; i < int(cached.NumRows()); i++ {
			buf, _ = enc.Append(buf[:0], i)
			index[string(buf)] = int32(i)
		}
	}
	for _, c := range p.ValueColumns() {
		if cached == nil {
			return nil, nil, fmt.Errorf("part table has no rows for this day")
		}
		idx := cached.Schema().FieldIndices(prefix + c)
		if len(idx) == 0 {
			return nil, nil, fmt.Errorf("part table lacks column %s", prefix+c)
		}
		f := cached.Schema().Field(idx[0])
		f.Name = c
		fields = append(fields, f)
		src = append(src, cached.Column(idx[0]))
	}
	enc, err := NewKeyEncoder(rows, keys)
	if err != nil {
		return nil, nil, err
	}
	b := array.NewInt32Builder(memory.DefaultAllocator)
	defer b.Release()
	var buf []byte
	for i := 0; i < int(rows.NumRows()); i++ {
		buf, _ = enc.Append(buf[:0], i)
		if at, ok := index[string(buf)]; ok {
			b.Append(at)
		} else {
			b.AppendNull()
		}
	}
	idx := b.NewArray()
	defer idx.Release()
	out, err := takeColumns(src, idx)
	return out, fields, err
}

func firstRow(rec arrow.RecordBatch) int64 {
	if rec.NumRows() == 0 {
		return 0
	}
	return rec.Column(0).(*array.Int64).Value(0)
}

// derivations compiles the join's derivations over the base schema once.
func (j *Join) derivations(schema *arrow.Schema) (*Derivations, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.derive != nil {
		return j.derive, nil
	}
	var base []string
	for _, p := range j.Parts {
		prefix := p.JoinPart.FullPrefix()
		for _, c := range p.ValueColumns() {
			base = append(base, prefix+"_"+c)
		}
	}
	if j.boot != nil {
		for _, f := range j.boot.Externals {
			base = append(base, f.Name)
		}
	}
	d, err := CompileDerivations(j.Def.MetaData.GetName(), j.Def.Derivations, schema, j.LeftColumns, base, true)
	if err != nil {
		return nil, err
	}
	j.derive = d
	return d, nil
}

// valuesFor gathers a part's values in the order of the left rows and
// applies the GroupBy's derivations.
func (p *Part) valuesFor(rows arrow.RecordBatch, pos map[int64]int32, n int, recs []arrow.RecordBatch) ([]arrow.Array, []arrow.Field, error) {
	vals, err := Concat(recs)
	if err != nil {
		return nil, nil, err
	}
	b := array.NewInt32Builder(memory.DefaultAllocator)
	defer b.Release()
	at := make([]int32, n)
	for i := range at {
		at[i] = -1
	}
	if vals != nil {
		defer vals.Release()
		ids := vals.Column(0).(*array.Int64)
		for i := 0; i < ids.Len(); i++ {
			if r, ok := pos[ids.Value(i)]; ok {
				at[r] = int32(i)
			}
		}
	}
	var src []arrow.Array
	if vals != nil {
		src = vals.Columns()[1:]
	} else {
		src = make([]arrow.Array, len(p.GroupBy.Output))
		for i, f := range p.GroupBy.Output {
			src[i] = array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, 1)
			defer src[i].Release()
		}
	}
	for _, i := range at {
		if i < 0 {
			b.AppendNull()
		} else {
			b.Append(i)
		}
	}
	idx := b.NewArray()
	defer idx.Release()
	out, err := takeColumns(src, idx)
	if err != nil {
		return nil, nil, err
	}
	if p.derive == nil {
		return out, p.GroupBy.Output, nil
	}
	defer releaseAll(out)
	// GroupBy derivations see the keys (under the GroupBy's names), the
	// base values and ds.
	var fields []arrow.Field
	var cols []arrow.Array
	for i, l := range p.LeftKeys {
		idx := rows.Schema().FieldIndices(l)
		f := rows.Schema().Field(idx[0])
		f.Name = p.RightKeys[i]
		fields = append(fields, f)
		cols = append(cols, rows.Column(idx[0]))
	}
	fields = append(fields, p.GroupBy.Output...)
	cols = append(cols, out...)
	dsIdx := rows.Schema().FieldIndices(api.PartitionColumn)
	fields = append(fields, rows.Schema().Field(dsIdx[0]))
	cols = append(cols, rows.Column(dsIdx[0]))
	env := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))
	defer env.Release()
	derived, err := p.derive.Apply(env)
	if err != nil {
		return nil, nil, err
	}
	defer derived.Release()
	res := make([]arrow.Array, derived.NumCols())
	for i, c := range derived.Columns() {
		c.Retain()
		res[i] = c
	}
	return res, derived.Schema().Fields(), nil
}

// releaseRecords releases the non-nil records of recs.
func releaseRecords(recs []arrow.RecordBatch) {
	for _, r := range recs {
		if r != nil {
			r.Release()
		}
	}
}
