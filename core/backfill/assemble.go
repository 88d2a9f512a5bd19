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

// Assemble builds one output partition of the join: the left rows of the
// day (LeftBatch.Rows records, in any order) with every part's values
// (records from GroupBy.Evaluate for this day, per part; a left row a part
// has no values for gets nulls), then the join's derivations. The result
// has the output table's columns, ds included, in left-row order.
func (j *Join) Assemble(left []arrow.RecordBatch, parts [][]arrow.RecordBatch) (arrow.RecordBatch, error) {
	name := j.Def.MetaData.GetName()
	left = slices.Clone(left)
	slices.SortFunc(left, func(a, b arrow.RecordBatch) int { return cmp.Compare(firstRow(a), firstRow(b)) })
	rows, err := Concat(left)
	if err != nil {
		return nil, fmt.Errorf("%s: left rows: %w", name, err)
	}
	if rows == nil {
		return nil, nil
	}
	defer rows.Release()
	ids, err := int64Column(rows, RowColumn)
	if err != nil {
		return nil, err
	}
	pos := make(map[int64]int32, ids.Len())
	for i := 0; i < ids.Len(); i++ {
		pos[ids.Value(i)] = int32(i)
	}
	n := int(rows.NumRows())

	fields := append([]arrow.Field(nil), rows.Schema().Fields()[1:]...)
	cols := append([]arrow.Array(nil), rows.Columns()[1:]...)
	var owned []arrow.Array
	defer func() { releaseAll(owned) }()
	for pi, p := range j.Parts {
		vals, vfields, err := p.valuesFor(rows, pos, n, parts[pi])
		if err != nil {
			return nil, fmt.Errorf("%s: joinParts[%d]: %w", name, pi, err)
		}
		owned = append(owned, vals...)
		prefix := p.JoinPart.FullPrefix()
		for i, f := range vfields {
			f.Name = prefix + "_" + f.Name
			fields = append(fields, f)
			cols = append(cols, vals[i])
		}
	}
	base := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))
	defer base.Release()
	if len(j.Def.Derivations) == 0 {
		base.Retain()
		return base, nil
	}
	d, err := j.derivations(base.Schema())
	if err != nil {
		return nil, err
	}
	out, err := d.Apply(base)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
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
	d, err := CompileDerivations(j.Def.MetaData.GetName(), j.Def.Derivations, schema, j.LeftColumns, base)
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
