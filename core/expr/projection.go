// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Projection is a compiled SELECT list with WHERE filters, as a Chronon
// Query's selects and wheres: Apply keeps the rows where every filter is
// true (null counts as false) and computes the selected columns over them.
// The filters read input columns, not the selected names. A Projection is
// immutable and safe for concurrent use.
type Projection struct {
	u      *unit
	names  []string
	exprs  []cnode
	where  cnode
	schema *arrow.Schema
}

// CompileProjection compiles selects (output column, expression) in order
// and the wheres (ANDed) against the input schema. Errors name the select
// or where at fault and wrap the *SyntaxError or *TypeError.
func CompileProjection(selects [][2]string, wheres []string, schema *arrow.Schema) (*Projection, error) {
	c := newCompiler("", schema)
	p := &Projection{u: c.u}
	fields := make([]arrow.Field, 0, len(selects))
	seen := map[string]bool{}
	for _, s := range selects {
		name, src := s[0], s[1]
		if seen[name] {
			return nil, fmt.Errorf("expr: select %q given twice", name)
		}
		seen[name] = true
		e, err := c.compileSource(src)
		if err != nil {
			return nil, fmt.Errorf("expr: select %q: %w", name, err)
		}
		p.names = append(p.names, name)
		p.exprs = append(p.exprs, e)
		fields = append(fields, arrow.Field{Name: name, Type: e.dtype(), Nullable: true})
	}
	for i, w := range wheres {
		e, err := c.compileSource(w)
		if err != nil {
			return nil, fmt.Errorf("expr: where %d %q: %w", i+1, w, err)
		}
		if t := e.dtype(); !isNull(t) && t.ID() != arrow.BOOL {
			return nil, fmt.Errorf("expr: where %d %q: %w", i+1, w, newTypeError(w, 0, "a filter must be boolean, not %s", typeName(t)))
		}
		e = c.castTo(e, tBool)
		if p.where == nil {
			p.where = e
		} else {
			p.where = c.fold(&andNode{l: p.where, r: e}, p.where, e)
		}
	}
	p.schema = arrow.NewSchema(fields, nil)
	return p, nil
}

// compileSource parses and compiles one more expression into the
// compiler's unit.
func (c *compiler) compileSource(src string) (cnode, error) {
	n, err := Parse(src)
	if err != nil {
		return nil, err
	}
	c.src = src
	return c.compile(n)
}

// Schema returns the output schema: one nullable field per select, in order.
func (p *Projection) Schema() *arrow.Schema { return p.schema }

// Columns returns the input columns the selects and wheres read.
func (p *Projection) Columns() []string {
	out := make([]string, len(p.u.cols))
	for i, c := range p.u.cols {
		out[i] = c.name
	}
	return out
}

// Apply filters rec with the wheres and computes the selects over the kept
// rows, returning a batch with Schema(). The caller releases the result.
func (p *Projection) Apply(rec arrow.RecordBatch) (out arrow.RecordBatch, err error) {
	b, err := p.u.bind(rec)
	if err != nil {
		return nil, err
	}
	defer recoverInto(&err)
	var keep []int
	filtered := false
	if p.where != nil {
		w := p.where.vec(b.batchCtx)
		for i := 0; i < b.n; i++ {
			if !w.null(i) && elem[bool](w, i) {
				keep = append(keep, i)
			}
		}
		filtered = len(keep) != b.n
	}
	nrows := b.n
	if filtered {
		nrows = len(keep)
	}
	cols := make([]arrow.Array, len(p.exprs))
	defer func() {
		for _, a := range cols {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, e := range p.exprs {
		if c, ok := e.(*colNode); ok && !filtered {
			arr := rec.Column(b.colIndex[c.slot])
			if arrow.TypeEqual(arr.DataType(), e.dtype()) {
				arr.Retain()
				cols[i] = arr
				continue
			}
		}
		v := e.vec(b.batchCtx)
		if filtered {
			v = v.filter(keep)
		}
		cols[i] = toArrow(v, e.dtype())
	}
	return array.NewRecordBatch(p.schema, cols, int64(nrows)), nil
}

// ApplyRow evaluates the projection over one row (see Program.EvalRow): keep
// reports whether the row passes the wheres; out holds the selected values
// when it does.
func (p *Projection) ApplyRow(row map[string]any) (out map[string]any, keep bool, err error) {
	rc, err := p.u.rowCtx(row)
	if err != nil {
		return nil, false, err
	}
	defer recoverInto(&err)
	if p.where != nil && p.where.row(rc) != true {
		return nil, false, nil
	}
	out = make(map[string]any, len(p.exprs))
	for i, e := range p.exprs {
		out[p.names[i]] = e.row(rc)
	}
	return out, true, nil
}
