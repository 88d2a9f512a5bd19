// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/expr"
	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/core/online"
)

// Bootstrap columns and table properties (Chronon's Constants.MatchedHashes,
// Constants.SchemaHash and the flattened log table's schema properties).
const (
	// MatchedHashesColumn lists, per row of the `_bootstrap` table, the
	// hashes of the bootstrap sources the row matched: a table part's
	// semantic hash, or the logging schema hash of the log row it matched.
	MatchedHashesColumn = "matched_hashes"
	// SchemaHashColumn is the flattened log table's logging schema hash.
	SchemaHashColumn = fetchlog.ColSchemaHash
	// LogSchemaProperty prefixes the flattened log table's properties
	// holding each logging schema (transforms.SchemaProperty).
	LogSchemaProperty = "schema_hash_"
)

// TableFunc returns the data schema (without ds) and the properties of a
// warehouse table, or a nil schema (and no error) for a table that does
// not exist (yet).
type TableFunc func(table string) (*arrow.Schema, map[string]string, error)

// Bootstrap is a join's compiled bootstrap parts (Chronon's BootstrapInfo):
// which output columns they can fill and which join parts a set of matched
// sources covers.
type Bootstrap struct {
	// Sources are the bootstrap parts in priority order (list order).
	Sources []*BootstrapSource
	// Missing are the tables of bootstrap parts that do not exist (yet):
	// they bootstrap nothing, like a table lacking a day (a log table
	// before anything was served and flattened).
	Missing []string
	// Fields are the columns bootstrap parts can fill: the join parts'
	// prefixed values, the external parts' values, the contextual keys and
	// the derived columns, in that order.
	Fields []arrow.Field
	// Externals are the external parts' value columns the output gains
	// (Chronon pads them with nulls when no bootstrap fills them).
	Externals []arrow.Field
	// contextual maps ext_contextual_<f> to <f>: either name bootstraps it.
	contextual map[string]string
	// derived are the bootstrappable derived columns.
	derived   []arrow.Field
	fieldType map[string]arrow.DataType
	// hashFields maps a matched hash to the columns it fills.
	hashFields map[string]map[string]bool
	// deps are, per join part, what a row needs bootstrapped for the part
	// to be skipped.
	deps [][]dependency
}

// dependency is one output column depending on a join part: covered when
// derived itself or every one of base is bootstrapped (Chronon's
// derivationDependencies).
type dependency struct {
	derived string
	base    []string
}

// BootstrapSource is one compiled bootstrap part.
type BootstrapSource struct {
	Def   *api.BootstrapPart
	Table string
	// Keys are the columns joining it to the left rows besides ds (the
	// part's keyColumns, else the join's rowIds).
	Keys []string
	// Log reports a flattened log table read whole: each row's hash is its
	// schema_hash, and the columns it fills are its logging schema's.
	Log bool
	// Hash is the part's semantic hash (Chronon's BootstrapPartOps).
	Hash string
	// Start and End bound the partitions read ("" unbounded).
	Start, End string
	proj       *expr.Projection
	fields     []string
}

// Reads reports whether the source has rows for partition ds.
func (s *BootstrapSource) Reads(ds string) bool {
	return (s.Start == "" || ds >= s.Start) && (s.End == "" || ds <= s.End)
}

// ExternalValueFields are a join's external parts' value columns,
// ext_[prefix_]name_field (Chronon's ExternalPartOps.valueSchemaFull).
func ExternalValueFields(j *api.Join) ([]arrow.Field, error) {
	var out []arrow.Field
	for i, ep := range j.OnlineExternalParts {
		if ep == nil || ep.Source == nil {
			continue
		}
		fs, err := online.StructFields(ep.Source.ValueSchema)
		if err != nil {
			return nil, fmt.Errorf("%s: onlineExternalParts[%d].source.valueSchema: %w", j.MetaData.GetName(), i, err)
		}
		for _, f := range fs {
			f.Name = ep.FullName() + "_" + f.Name
			out = append(out, f)
		}
	}
	return out, nil
}

// isContextual reports a ContextualSource (an ExternalSource named
// "contextual", see SEMANTICS.md §1).
func isContextual(ep *api.ExternalPart) bool {
	return ep.Source.MetaData.GetName() == "contextual"
}

// CompileBootstrap compiles j's bootstrap parts against their tables; the
// join then fills bootstrapped cells and skips covered (row, join part)
// cells. A join without bootstrap parts is left as it is.
func (j *Join) CompileBootstrap(tables TableFunc) error {
	def := j.Def
	name := def.MetaData.GetName()
	if len(def.BootstrapParts) == 0 {
		return nil
	}
	b := &Bootstrap{contextual: map[string]string{}, fieldType: map[string]arrow.DataType{}, hashFields: map[string]map[string]bool{}}
	add := func(f arrow.Field) {
		// Left columns are never bootstrapped: the left row's value stays.
		if _, ok := b.fieldType[f.Name]; !ok && !slices.Contains(j.LeftColumns, f.Name) {
			b.fieldType[f.Name] = f.Type
			b.Fields = append(b.Fields, f)
		}
	}
	var base []string
	for _, p := range j.Parts {
		for _, f := range p.ValueFields() {
			f.Name = p.JoinPart.FullPrefix() + "_" + f.Name
			add(f)
			base = append(base, f.Name)
		}
	}
	ext, err := ExternalValueFields(def)
	if err != nil {
		return err
	}
	b.Externals = ext
	for _, f := range ext {
		add(f)
		base = append(base, f.Name)
	}
	for i, ep := range def.OnlineExternalParts {
		if ep == nil || ep.Source == nil || !isContextual(ep) {
			continue
		}
		keys, err := online.StructFields(ep.Source.KeySchema)
		if err != nil {
			return fmt.Errorf("%s: onlineExternalParts[%d].source.keySchema: %w", name, i, err)
		}
		for _, f := range keys {
			b.contextual[ep.FullName()+"_"+f.Name] = f.Name
			add(f)
		}
	}
	if len(def.Derivations) > 0 {
		schema := j.baseSchema(b.Fields)
		d, err := CompileDerivations(name, def.Derivations, schema, j.LeftColumns, base, true)
		if err != nil {
			return err
		}
		for _, f := range d.Fields(schema) {
			if _, derived := d.progs[f.Name]; derived && b.fieldType[f.Name] == nil && !slices.Contains(j.LeftColumns, f.Name) {
				add(f)
				b.derived = append(b.derived, f)
			}
		}
	}
	b.deps = partDependencies(j, def.Derivations)
	for i, bp := range def.BootstrapParts {
		src, err := j.compileBootstrapSource(b, i, bp, tables)
		if err != nil {
			return err
		}
		if src == nil {
			b.Missing = append(b.Missing, bp.Table)
			continue
		}
		b.Sources = append(b.Sources, src)
	}
	j.boot = b
	return nil
}

// baseSchema is the schema derivations see with bootstrap: the left
// columns and every bootstrappable column.
func (j *Join) baseSchema(fields []arrow.Field) *arrow.Schema {
	var out []arrow.Field
	ls := j.Left.Schema()
	for _, c := range j.LeftColumns {
		if c == api.PartitionColumn {
			out = append(out, arrow.Field{Name: c, Type: arrow.BinaryTypes.String, Nullable: true})
		} else if idx := ls.FieldIndices(c); len(idx) > 0 {
			out = append(out, ls.Field(idx[0]))
		}
	}
	return arrow.NewSchema(append(out, fields...), nil)
}

var identifierRE = regexp.MustCompile(`[a-zA-Z_][a-zA-Z0-9_]*`)

// partDependencies finds, per join part, the output columns depending on
// it (Chronon's findDerivationDependencies: every value column depends on
// itself without derivations; with them, each derivation on the part's
// columns its expression names). Unlike Chronon, a "*" derivation makes
// each of the part's columns depend on itself: they are output columns.
func partDependencies(j *Join, derivations []*api.Derivation) [][]dependency {
	out := make([][]dependency, len(j.Parts))
	star := len(derivations) == 0
	for _, d := range derivations {
		star = star || d != nil && d.Name == "*"
	}
	for pi, p := range j.Parts {
		var cols []string
		for _, c := range p.ValueColumns() {
			cols = append(cols, p.JoinPart.FullPrefix()+"_"+c)
		}
		if star {
			for _, c := range cols {
				out[pi] = append(out[pi], dependency{derived: c, base: []string{c}})
			}
		}
		for _, d := range derivations {
			if d == nil || d.Name == "*" {
				continue
			}
			ids := identifierRE.FindAllString(d.Expression, -1)
			var used []string
			for _, c := range cols {
				if slices.Contains(ids, c) {
					used = append(used, c)
				}
			}
			if len(used) > 0 {
				out[pi] = append(out[pi], dependency{derived: d.Name, base: used})
			}
		}
	}
	return out
}

// compileBootstrapSource compiles bootstrap part i over its table (nil
// when the table does not exist).
func (j *Join) compileBootstrapSource(b *Bootstrap, i int, bp *api.BootstrapPart, tables TableFunc) (*BootstrapSource, error) {
	name := j.Def.MetaData.GetName()
	what := fmt.Sprintf("%s: bootstrapParts[%d] (table %s)", name, i, bp.Table)
	schema, props, err := tables(bp.Table)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if schema == nil {
		return nil, nil
	}
	scan := ScanSchema(schema)
	q := bp.Query
	if q == nil {
		q = &api.Query{}
	}
	src := &BootstrapSource{Def: bp, Table: bp.Table, Keys: bp.KeyColumns, Start: q.StartPartition, End: q.EndPartition, Hash: bootstrapHash(bp)}
	if len(src.Keys) == 0 {
		src.Keys = j.Def.RowIDs
	}
	src.Keys = slices.DeleteFunc(slices.Clone(src.Keys), func(k string) bool { return k == api.PartitionColumn })
	if len(src.Keys) == 0 {
		return nil, fmt.Errorf("%s: keyColumns: is required when the join has no rowIds", what)
	}
	hasSchemaHash := len(scan.FieldIndices(SchemaHashColumn)) > 0
	// A log table read through selects is an ordinary table (Chronon).
	src.Log = hasSchemaHash && q.GetSelects().Len() == 0 && hasLogSchemas(props)
	var selects [][2]string
	if sel := q.GetSelects(); sel.Len() > 0 {
		for _, n := range sel.Keys() {
			s, _ := sel.Get(n)
			if strings.TrimSpace(s) == "" {
				s = QuoteIdent(n)
			}
			selects = append(selects, [2]string{n, s})
		}
	} else {
		for _, f := range scan.Fields() {
			if f.Name != api.PartitionColumn {
				selects = append(selects, [2]string{f.Name, QuoteIdent(f.Name)})
			}
		}
	}
	if src.proj, err = expr.CompileProjection(selects, q.Wheres, scan); err != nil {
		return nil, fmt.Errorf("%s: query: %w", what, err)
	}
	ps := src.proj.Schema()
	for _, k := range src.Keys {
		if len(ps.FieldIndices(k)) == 0 {
			return nil, fmt.Errorf("%s: key column %q is not a column of the table (columns: %s)", what, k, strings.Join(fieldNames(ps), ", "))
		}
		if len(j.Left.Schema().FieldIndices(k)) == 0 {
			return nil, fmt.Errorf("%s: key column %q is not selected by the left query", what, k)
		}
	}
	for _, f := range ps.Fields() {
		n := f.Name
		if slices.Contains(src.Keys, n) || n == api.TimeColumn || n == MatchedHashesColumn {
			if n == MatchedHashesColumn {
				return nil, fmt.Errorf("%s: column %s is reserved by Chronon", what, n)
			}
			continue
		}
		if n == SchemaHashColumn && !src.Log {
			return nil, fmt.Errorf("%s: %s is a reserved column that only Chronon log tables may hold (select the columns to read it as an ordinary table)", what, n)
		}
		t, ok := b.fieldType[n]
		if !ok {
			// Logs and joins' outputs carry more (left columns, exceptions).
			if src.Log || slices.Contains(j.LeftColumns, n) || n == SchemaHashColumn {
				continue
			}
			return nil, fmt.Errorf("%s: column %s (%s) is not a column of join %s", what, n, f.Type, name)
		}
		if !arrow.TypeEqual(t, f.Type) {
			return nil, fmt.Errorf("%s: column %s is %s but join %s has it as %s", what, n, f.Type, name, t)
		}
		src.fields = append(src.fields, n)
	}
	if !src.Log {
		b.hashFields[src.Hash] = toSet(src.fields)
		return src, nil
	}
	for k, v := range props {
		if !strings.HasPrefix(k, LogSchemaProperty) {
			continue
		}
		s, err := fetchlog.ParseSchema(v)
		if err != nil {
			return nil, fmt.Errorf("%s: property %s: %w", what, k, err)
		}
		fields := map[string]bool{}
		for _, f := range append(slices.Clone(s.Keys), s.Values...) {
			if slices.Contains(src.fields, f.Name) {
				fields[f.Name] = true
			}
		}
		b.hashFields[strings.TrimPrefix(k, LogSchemaProperty)] = fields
	}
	return src, nil
}

func hasLogSchemas(props map[string]string) bool {
	for k := range props {
		if strings.HasPrefix(k, LogSchemaProperty) {
			return true
		}
	}
	return false
}

func toSet(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// bootstrapHash is a bootstrap part's semantic hash: the MD5 of its JSON
// without metadata, base64 (Chronon's BootstrapPartOps.semanticHash).
func bootstrapHash(bp *api.BootstrapPart) string {
	c := *bp
	c.MetaData = nil
	b, _ := json.Marshal(&c) // plain strings and lists always marshal
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Bootstrap returns the join's compiled bootstrap (nil without bootstrap
// parts or before CompileBootstrap).
func (j *Join) Bootstrap() *Bootstrap { return j.boot }

// BootstrapTableSchema is the data schema (without ds) of the join's
// `_bootstrap` table: the left columns, every bootstrappable column and
// matched_hashes.
func (j *Join) BootstrapTableSchema() *arrow.Schema {
	s := j.baseSchema(j.boot.Fields)
	fields := slices.DeleteFunc(slices.Clone(s.Fields()), func(f arrow.Field) bool { return f.Name == api.PartitionColumn })
	fields = append(fields, arrow.Field{Name: MatchedHashesColumn, Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true})
	return arrow.NewSchema(fields, nil)
}

// covers reports whether the matched hashes cover join part pi: every
// column depending on the part is bootstrapped, or all it derives from
// (Chronon's CoveringSet.isCovering). A row matching nothing is never
// covered.
func (b *Bootstrap) covers(pi int, hashes []string) bool {
	if len(hashes) == 0 {
		return false
	}
	has := func(c string) bool {
		for _, h := range hashes {
			if b.hashFields[h][c] {
				return true
			}
		}
		return false
	}
	for _, d := range b.deps[pi] {
		if !has(d.derived) && slices.ContainsFunc(d.base, func(c string) bool { return !has(c) }) {
			return false
		}
	}
	return true
}

// BootstrapDay is the bootstrap sources' rows of one partition, indexed by
// key.
type BootstrapDay struct {
	b     *Bootstrap
	parts []*dayRows
}

type dayRows struct {
	src   *BootstrapSource
	rec   arrow.RecordBatch
	index map[string]int32
	hash  *array.String // a log's schema_hash column
}

// Release releases the day's rows.
func (d *BootstrapDay) Release() {
	for _, p := range d.parts {
		if p.rec != nil {
			p.rec.Release()
		}
	}
}

// LoadDay projects and indexes the scanned rows of one partition: scanned[i]
// holds source i's records (with ds) for the day, nil when it reads none.
// Duplicate keys keep the first row of a table and the latest (by ts) of a
// log, as the seed's log driver table does.
func (b *Bootstrap) LoadDay(scanned [][]arrow.RecordBatch) (*BootstrapDay, error) {
	d := &BootstrapDay{b: b}
	for i, src := range b.Sources {
		dr := &dayRows{src: src, index: map[string]int32{}}
		d.parts = append(d.parts, dr)
		var recs []arrow.RecordBatch
		for _, s := range scanned[i] {
			r, err := src.proj.Apply(s)
			if err != nil {
				releaseRecords(recs)
				d.Release()
				return nil, fmt.Errorf("bootstrap table %s: %w", src.Table, err)
			}
			recs = append(recs, r)
		}
		rec, err := Concat(recs)
		releaseRecords(recs)
		if err != nil || rec == nil {
			if err != nil {
				d.Release()
				return nil, fmt.Errorf("bootstrap table %s: %w", src.Table, err)
			}
			continue
		}
		dr.rec = rec
		if err := dr.build(); err != nil {
			d.Release()
			return nil, fmt.Errorf("bootstrap table %s: %w", src.Table, err)
		}
	}
	return d, nil
}

// build indexes the rows by key.
func (dr *dayRows) build() error {
	enc, err := NewKeyEncoder(dr.rec, dr.src.Keys)
	if err != nil {
		return err
	}
	var ts *array.Int64
	if dr.src.Log {
		if ts, err = int64Column(dr.rec, api.TimeColumn); err != nil {
			return err
		}
		h, ok := dr.rec.Column(dr.rec.Schema().FieldIndices(SchemaHashColumn)[0]).(*array.String)
		if !ok {
			return fmt.Errorf("column %s is not a string", SchemaHashColumn)
		}
		dr.hash = h
	}
	var buf []byte
	for i := 0; i < int(dr.rec.NumRows()); i++ {
		var nulls int
		buf, nulls = enc.Append(buf[:0], i)
		if nulls > 0 {
			continue
		}
		at, dup := dr.index[string(buf)]
		if dup && (ts == nil || ts.IsNull(i) || !ts.IsNull(int(at)) && ts.Value(i) <= ts.Value(int(at))) {
			continue
		}
		dr.index[string(buf)] = int32(i)
	}
	return nil
}

// enriched is the bootstrap of a batch of left rows.
type enriched struct {
	// cols are the values of Bootstrap.Fields, then matched_hashes.
	cols []arrow.Array
	// covered[p][r] reports that row r needs no values of join part p.
	covered [][]bool
}

func (e *enriched) release() { releaseAll(e.cols) }

// enrich joins projected left rows to the day's sources on their keys:
// each field takes the value of the first source in priority order that
// matched the row and has it non-null (Chronon's coalescedJoin).
func (d *BootstrapDay) enrich(left arrow.RecordBatch) (*enriched, error) {
	b := d.b
	n := int(left.NumRows())
	// match[k][r] is the row of source k that left row r matched, or -1.
	match := make([][]int32, len(d.parts))
	hashes := make([][]string, n)
	for k, dr := range d.parts {
		match[k] = make([]int32, n)
		enc, err := NewKeyEncoder(left, dr.src.Keys)
		if err != nil {
			return nil, fmt.Errorf("bootstrap table %s: left rows: %w", dr.src.Table, err)
		}
		var buf []byte
		for r := 0; r < n; r++ {
			match[k][r] = -1
			var nulls int
			buf, nulls = enc.Append(buf[:0], r)
			at, ok := dr.index[string(buf)]
			if nulls > 0 || !ok {
				continue
			}
			match[k][r] = at
			h := dr.src.Hash
			if dr.hash != nil {
				h = dr.hash.Value(int(at))
				if _, known := b.hashFields[h]; !known {
					return nil, fmt.Errorf("bootstrap table %s: schema_hash %q has no %s%s property: re-run log-flatten", dr.src.Table, h, LogSchemaProperty, h)
				}
			}
			if !slices.Contains(hashes[r], h) {
				hashes[r] = append(hashes[r], h)
			}
		}
	}
	e := &enriched{}
	for _, f := range b.Fields {
		col, err := d.coalesce(f, match, n)
		if err != nil {
			e.release()
			return nil, err
		}
		e.cols = append(e.cols, col)
	}
	lb := array.NewListBuilder(memory.DefaultAllocator, arrow.BinaryTypes.String)
	defer lb.Release()
	vb := lb.ValueBuilder().(*array.StringBuilder)
	for _, hs := range hashes {
		if len(hs) == 0 {
			lb.AppendNull()
			continue
		}
		lb.Append(true)
		sort.Strings(hs)
		vb.AppendValues(hs, nil)
	}
	e.cols = append(e.cols, lb.NewArray())
	e.covered = make([][]bool, len(b.deps))
	for pi := range b.deps {
		e.covered[pi] = make([]bool, n)
		for r := 0; r < n; r++ {
			e.covered[pi][r] = b.covers(pi, hashes[r])
		}
	}
	return e, nil
}

// coalesce gathers field f for each left row from the first matching
// source whose value is non-null (null when none).
func (d *BootstrapDay) coalesce(f arrow.Field, match [][]int32, n int) (arrow.Array, error) {
	var srcs []arrow.Array
	var offsets []int32
	var ks []int
	var total int32
	for k, dr := range d.parts {
		if dr.rec == nil || !slices.Contains(dr.src.fields, f.Name) {
			continue
		}
		c := dr.rec.Column(dr.rec.Schema().FieldIndices(f.Name)[0])
		srcs, offsets, ks = append(srcs, c), append(offsets, total), append(ks, k)
		total += int32(c.Len())
	}
	if len(srcs) == 0 {
		return array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, n), nil
	}
	return gather(f.Name, srcs, n, func(r int) int32 {
		for i, k := range ks {
			if m := match[k][r]; m >= 0 && srcs[i].IsValid(int(m)) {
				return offsets[i] + m
			}
		}
		return -1
	})
}

// gather concatenates srcs and takes, for each of n rows, the value at the
// index pick returns (-1: null).
func gather(name string, srcs []arrow.Array, n int, pick func(r int) int32) (arrow.Array, error) {
	all, err := array.Concatenate(srcs, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("bootstrap column %s: %w", name, err)
	}
	defer all.Release()
	ib := array.NewInt32Builder(memory.DefaultAllocator)
	defer ib.Release()
	for r := 0; r < n; r++ {
		if at := pick(r); at < 0 {
			ib.AppendNull()
		} else {
			ib.Append(at)
		}
	}
	idx := ib.NewArray()
	defer idx.Release()
	out, err := takeColumns([]arrow.Array{all}, idx)
	if err != nil {
		return nil, fmt.Errorf("bootstrap column %s: %w", name, err)
	}
	return out[0], nil
}

// hashesColumn returns the matched_hashes column of assembled rows.
func hashesColumn(rows arrow.RecordBatch) (*array.List, error) {
	idx := rows.Schema().FieldIndices(MatchedHashesColumn)
	if len(idx) == 0 {
		return nil, fmt.Errorf("left rows lack %s", MatchedHashesColumn)
	}
	l, ok := rows.Column(idx[0]).(*array.List)
	if !ok {
		return nil, fmt.Errorf("column %s is %s, not a list", MatchedHashesColumn, rows.Column(idx[0]).DataType())
	}
	return l, nil
}

// coverage finds, per join part, the rows whose matched hashes cover it.
func (b *Bootstrap) coverage(rows arrow.RecordBatch) ([][]bool, error) {
	l, err := hashesColumn(rows)
	if err != nil {
		return nil, err
	}
	vals := l.ListValues().(*array.String)
	out := make([][]bool, len(b.deps))
	for pi := range out {
		out[pi] = make([]bool, l.Len())
	}
	var hs []string
	for r := 0; r < l.Len(); r++ {
		hs = hs[:0]
		if l.IsValid(r) {
			start, end := l.ValueOffsets(r)
			for i := start; i < end; i++ {
				hs = append(hs, vals.Value(int(i)))
			}
		}
		for pi := range out {
			out[pi][r] = b.covers(pi, hs)
		}
	}
	return out, nil
}

// column returns rows' column name, or nil.
func column(rows arrow.RecordBatch, name string) arrow.Array {
	if idx := rows.Schema().FieldIndices(name); len(idx) > 0 {
		return rows.Column(idx[0])
	}
	return nil
}

// fill combines a join part's values with the bootstrap's: a covered row
// keeps only the bootstrap's value (the part was not computed for it, or
// its table's value must not leak in), another the bootstrap's value when
// not null, else the computed one (Chronon's coalesce of the bootstrap
// table and the part's output). It returns new arrays.
func (b *Bootstrap) fill(rows arrow.RecordBatch, fields []arrow.Field, vals []arrow.Array, covered []bool) ([]arrow.Array, error) {
	out := make([]arrow.Array, 0, len(vals))
	for i, f := range fields {
		c, err := coalesceRows(f, len(covered), covered, column(rows, f.Name), vals[i])
		if err != nil {
			releaseAll(out)
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// extras are the columns bootstrap adds besides the join parts': the
// external parts' values (a contextual value also from its key, on the left
// or bootstrapped, as Chronon's padExternalFields does) and, for the join's
// derivations to coalesce with, the bootstrapped derived columns.
func (b *Bootstrap) extras(rows arrow.RecordBatch, derived bool) ([]arrow.Field, []arrow.Array, error) {
	var fields []arrow.Field
	var cols []arrow.Array
	for _, f := range b.Externals {
		cands := []arrow.Array{column(rows, f.Name)}
		if key, ok := b.contextual[f.Name]; ok {
			// The key (a left column, else bootstrapped) comes first.
			cands = append([]arrow.Array{column(rows, key)}, cands...)
		}
		c, err := coalesceRows(f, int(rows.NumRows()), nil, cands...)
		if err != nil {
			releaseAll(cols)
			return nil, nil, err
		}
		fields, cols = append(fields, f), append(cols, c)
	}
	if !derived {
		return fields, cols, nil
	}
	for _, f := range b.derived {
		c := column(rows, f.Name)
		c.Retain()
		fields, cols = append(fields, f), append(cols, c)
	}
	return fields, cols, nil
}

// coalesceRows returns, per row, the first non-null value among cands of
// n rows (nil entries skipped, all of f's type); a masked row considers
// only the first candidate.
func coalesceRows(f arrow.Field, n int, masked []bool, cands ...arrow.Array) (arrow.Array, error) {
	var srcs []arrow.Array
	for _, c := range cands {
		if c == nil {
			continue
		}
		if !arrow.TypeEqual(c.DataType(), f.Type) {
			return nil, fmt.Errorf("bootstrap column %s is %s, want %s", f.Name, c.DataType(), f.Type)
		}
		srcs = append(srcs, c)
	}
	if len(srcs) == 0 {
		return array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, n), nil
	}
	return gather(f.Name, srcs, n, func(r int) int32 {
		for i, s := range srcs {
			if i > 0 && masked != nil && masked[r] {
				break
			}
			if s.IsValid(r) {
				return int32(i*n + r)
			}
		}
		return -1
	})
}

// BootstrapRows builds one partition of the `_bootstrap` table
// (BootstrapTableSchema, ds included) from the day's left rows
// (LeftBatch.Rows records of a join with bootstrap parts).
func (j *Join) BootstrapRows(left []arrow.RecordBatch) (arrow.RecordBatch, error) {
	rows, err := j.sortedRows(left)
	if err != nil || rows == nil {
		return nil, err
	}
	defer rows.Release()
	want := j.BootstrapTableSchema()
	var fields []arrow.Field
	var cols []arrow.Array
	for _, f := range append(want.Fields(), arrow.Field{Name: api.PartitionColumn}) {
		c := column(rows, f.Name)
		if c == nil {
			return nil, fmt.Errorf("%s: bootstrap rows lack column %s", j.Def.MetaData.GetName(), f.Name)
		}
		fields = append(fields, rows.Schema().Field(rows.Schema().FieldIndices(f.Name)[0]))
		cols = append(cols, c)
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rows.NumRows()), nil
}
