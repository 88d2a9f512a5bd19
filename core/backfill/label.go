// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
)

// LabelJoin is a compiled label join (Chronon's LabelJoin.scala): for a
// label day L, the left rows of the days LeftDays(L) get the values of the
// join's label parts as of the end of L, whatever their own day.
//
// It is composed from the ordinary join machinery: Join holds the label
// parts compiled as a join of the same left rows read as an entities left
// (LabelJoinDefinition), whose rules are exactly Chronon's label rules once
// every query is asked on day L (Join.AskAsOf): an entities label part reads
// the snapshot partition L (RuleSnapshotSame, Chronon's snapshotEntities
// over [L, L]) and an events label part aggregates the events before
// L+1 00:00 (RuleDayEnd, Chronon's snapshotEvents over [L, L]).
type LabelJoin struct {
	// Def is the join whose labelPart is computed.
	Def *api.Join
	// Join is the label parts compiled as a join (see LabelJoinDefinition).
	Join *Join
	// RowKeys identify a left row within a partition: the join's rowIds, or
	// else the left keys of the label parts (Chronon's
	// LabelPartOps.rowIdentifier without ds, which is the partition).
	RowKeys []string
	schema  *arrow.Schema
}

// LabelDSColumn is the label version column, api.LabelPartitionCol.
const LabelDSColumn = api.LabelPartitionCol

// labeledPrefix is Chronon's Constants.LabelColumnPrefix.
const labeledPrefix = "label"

// LabelJoinDefinition checks j's labelPart against Chronon's rules and
// returns the join that computes it: the left source read as an entities
// source of the same table and query (so that each left row asks as of a
// day, not of its ts), the label parts as join parts, and j's skewKeys and
// rowIds.
//
// The rules (LabelJoin.computeLabelJoin, api/py join.py LabelPart): the
// left is an events source; a label part without aggregations is an
// entities GroupBy; one with aggregations is an events GroupBy with exactly
// one aggregation with one window in days, whose length both offsets must
// equal.
func LabelJoinDefinition(j *api.Join) (*api.Join, error) {
	name := j.MetaData.GetName()
	lp := j.LabelPart
	if lp == nil || len(lp.Labels) == 0 {
		return nil, fmt.Errorf("%s: labelPart.labels: the join has no labels", name)
	}
	if j.Left == nil || j.Left.DataModel() != api.EventsModel || j.Left.Events == nil {
		return nil, fmt.Errorf("%s: left: a label join needs an events left (Chronon's LabelJoin requires it)", name)
	}
	if lp.LeftStartOffset < lp.LeftEndOffset {
		return nil, fmt.Errorf("%s: labelPart.leftStartOffset %d is less than leftEndOffset %d", name, lp.LeftStartOffset, lp.LeftEndOffset)
	}
	for i, jp := range lp.Labels {
		path := fmt.Sprintf("%s: labelPart.labels[%d]", name, i)
		if jp == nil || jp.GroupBy == nil {
			return nil, fmt.Errorf("%s.groupBy: is required", path)
		}
		g := jp.GroupBy
		path += " (" + g.MetaData.GetName() + ")"
		if len(g.Aggregations) == 0 {
			if g.DataModel() != api.EntitiesModel {
				return nil, fmt.Errorf("%s: a label without aggregations must be an entities GroupBy", path)
			}
			continue
		}
		if g.DataModel() != api.EventsModel {
			return nil, fmt.Errorf("%s: a label with aggregations must be an events GroupBy", path)
		}
		if len(g.Aggregations) != 1 || len(g.Aggregations[0].Windows) != 1 {
			return nil, fmt.Errorf("%s.aggregations: a label needs exactly one aggregation with one window", path)
		}
		w := g.Aggregations[0].Windows[0]
		if w.TimeUnit != api.UnitDays {
			return nil, fmt.Errorf("%s.aggregations[0].windows[0]: a label window must be in days", path)
		}
		if lp.LeftStartOffset != w.Length || lp.LeftEndOffset != w.Length {
			return nil, fmt.Errorf("%s: leftStartOffset (%d) and leftEndOffset (%d) must both equal the label window (%d days)",
				path, lp.LeftStartOffset, lp.LeftEndOffset, w.Length)
		}
	}
	md := api.MetaData{}
	if j.MetaData != nil {
		md = *j.MetaData
	}
	return &api.Join{
		MetaData:  &md,
		Left:      &api.Source{Entities: &api.EntitySource{SnapshotTable: j.Left.Table(), Query: j.Left.Query()}},
		JoinParts: lp.Labels,
		SkewKeys:  j.SkewKeys,
		RowIDs:    j.RowIDs,
	}, nil
}

// CompileLabelJoin compiles j's labelPart against the tables' schemas
// (windowTail as for CompileJoin).
func CompileLabelJoin(j *api.Join, schemas SchemaFunc, windowTail string) (*LabelJoin, error) {
	def, err := LabelJoinDefinition(j)
	if err != nil {
		return nil, err
	}
	cj, err := CompileJoin(def, schemas, windowTail)
	if err != nil {
		return nil, err
	}
	return newLabelJoin(j, cj)
}

func newLabelJoin(j *api.Join, cj *Join) (*LabelJoin, error) {
	name := j.MetaData.GetName()
	l := &LabelJoin{Def: j, Join: cj}
	if len(j.RowIDs) > 0 {
		for _, c := range j.RowIDs {
			if c != api.PartitionColumn {
				l.RowKeys = append(l.RowKeys, c)
			}
		}
	} else {
		for _, p := range cj.Parts {
			for _, k := range p.LeftKeys {
				if !slices.Contains(l.RowKeys, k) {
					l.RowKeys = append(l.RowKeys, k)
				}
			}
		}
	}
	left := cj.Left.Schema()
	var fields []arrow.Field
	for _, k := range l.RowKeys {
		idx := left.FieldIndices(k)
		if len(idx) == 0 {
			return nil, fmt.Errorf("%s: rowIds: column %q is not selected by the left query", name, k)
		}
		fields = append(fields, left.Field(idx[0]))
	}
	for i, p := range cj.Parts {
		for _, k := range p.LeftKeys {
			if !slices.Contains(l.RowKeys, k) {
				// Labels depend on the part's keys: rows told apart by rowIds
				// alone could not carry them (Chronon fails the same join).
				return nil, fmt.Errorf("%s: labelPart.labels[%d]: left key %q is not among the rowIds %v", name, i, k, j.RowIDs)
			}
		}
		for _, f := range p.ValueFields() {
			f.Name = p.JoinPart.FullPrefix() + "_" + f.Name
			f.Nullable = true
			fields = append(fields, f)
		}
	}
	fields = append(fields, arrow.Field{Name: LabelDSColumn, Type: arrow.BinaryTypes.String, Nullable: true})
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f.Name] {
			return nil, fmt.Errorf("%s: labelPart: column %q appears twice in the label table (set a prefix on a label part)", name, f.Name)
		}
		seen[f.Name] = true
	}
	l.schema = arrow.NewSchema(fields, nil)
	return l, nil
}

// TableSchema is the data schema (without ds) of the label table
// `<join output table>_labels`: RowKeys, each label part's prefixed value
// columns, then label_ds (Chronon's label table, whose partition columns
// are label_ds and ds).
func (l *LabelJoin) TableSchema() *arrow.Schema { return l.schema }

// Table is the label table's name (Chronon's MetadataOps.outputLabelTable).
func (l *LabelJoin) Table() string { return l.Def.MetaData.TableWithSuffix(api.SuffixLabels) }

// LeftDays returns the left partitions a label run for labelDS refreshes,
// both inclusive: labelDS - (leftStartOffset - 1) days to labelDS -
// (leftEndOffset - 1) days. Chronon counts label_ds itself as the first day
// of an offset (LabelJoin.scala: "offsets are inclusive, e.g label_ds =
// 04-03, left_start_offset = left_end_offset = 3, left_ds will be 04-01").
func LeftDays(lp *api.LabelPart, labelDS string) (start, end string, err error) {
	if start, err = batch.ShiftDS(labelDS, -int(lp.LeftStartOffset-1)); err != nil {
		return "", "", fmt.Errorf("label_ds %q: %w", labelDS, err)
	}
	if end, err = batch.ShiftDS(labelDS, -int(lp.LeftEndOffset-1)); err != nil {
		return "", "", fmt.Errorf("label_ds %q: %w", labelDS, err)
	}
	return start, end, nil
}

// AskAsOf returns query batch q of part (a LeftBatch.Queries entry) asked
// as of partition day: every row's query time and snapshot day become
// those the part's rule gives a left row of that day. A label join asks
// every left row as of its label day.
func (j *Join) AskAsOf(part int, q arrow.RecordBatch, day int64) (arrow.RecordBatch, error) {
	if part < 0 || part >= len(j.Parts) {
		return nil, fmt.Errorf("query batch of part %d of %d", part, len(j.Parts))
	}
	t, qday := j.Parts[part].Rule.Query(0, day)
	n := int(q.NumRows())
	cols := slices.Clone(q.Columns())
	var owned []arrow.Array
	defer func() { releaseAll(owned) }()
	for name, v := range map[string]int64{QueryTsColumn: t, DayColumn: qday} {
		idx := q.Schema().FieldIndices(name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("query batch lacks column %s", name)
		}
		b := array.NewInt64Builder(memory.DefaultAllocator)
		for i := 0; i < n; i++ {
			b.Append(v)
		}
		cols[idx[0]] = b.NewArray()
		b.Release()
		owned = append(owned, cols[idx[0]])
	}
	return array.NewRecordBatch(q.Schema(), cols, int64(n)), nil
}

// LabelRows turns assembled rows of one left partition (Join.Assemble's
// output for l.Join, with or without ds) into label table rows
// (TableSchema) of version labelDS: one row per distinct RowKeys, the first
// seen (Chronon's dropDuplicates(rowIdentifier); every row of a key has the
// same labels).
func (l *LabelJoin) LabelRows(assembled arrow.RecordBatch, labelDS string) (arrow.RecordBatch, error) {
	enc, err := NewKeyEncoder(assembled, l.RowKeys)
	if err != nil {
		return nil, fmt.Errorf("%s: label rows: %w", l.Def.MetaData.GetName(), err)
	}
	seen := map[string]bool{}
	var rows []int32
	var buf []byte
	for i := 0; i < int(assembled.NumRows()); i++ {
		buf, _ = enc.Append(buf[:0], i)
		if !seen[string(buf)] {
			seen[string(buf)] = true
			rows = append(rows, int32(i))
		}
	}
	kept, err := Take(assembled, rows)
	if err != nil {
		return nil, err
	}
	defer kept.Release()
	ds := constStrings(labelDS, len(rows))
	defer ds.Release()
	cols := make([]arrow.Array, 0, l.schema.NumFields())
	for _, f := range l.schema.Fields() {
		if f.Name == LabelDSColumn {
			cols = append(cols, ds)
			continue
		}
		idx := kept.Schema().FieldIndices(f.Name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("%s: label rows: assembled rows lack column %s", l.Def.MetaData.GetName(), f.Name)
		}
		cols = append(cols, kept.Column(idx[0]))
	}
	return array.NewRecordBatch(l.schema, cols, int64(len(rows))), nil
}

func constStrings(v string, n int) arrow.Array {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	for i := 0; i < n; i++ {
		b.Append(v)
	}
	return b.NewArray()
}

// VersionHash is what a label version computed now is stored with: the
// JSON of the label parts' and the left source's semantic hashes (as
// api.Join.SemanticHashes computes them for a join), the offsets, rowIds
// and skewKeys, and the left days it was computed over. A version whose
// stored hash equals it is up to date; a changed definition, or a left
// partition that arrived since, recomputes it.
func (l *LabelJoin) VersionHash(windowTail string, leftDays []string) string {
	h := l.Join.Def.SemanticHashes(windowTail)
	lp := l.Def.LabelPart
	h["label_offsets"] = fmt.Sprintf("%d,%d", lp.LeftStartOffset, lp.LeftEndOffset)
	h["row_keys"] = strings.Join(l.RowKeys, ",")
	if len(l.Def.SkewKeys) > 0 {
		b, _ := json.Marshal(l.Def.SkewKeys) // sorted keys; a map of string lists always marshals
		h["skew_keys"] = string(b)
	}
	h["left_days"] = strings.Join(leftDays, ",")
	b, _ := json.Marshal(h)
	return string(b)
}

// VersionProperty is the label table property holding the VersionHash of
// label version labelDS.
func VersionProperty(labelDS string) string { return "label_version/" + labelDS }

// MergeLabelVersion returns the rows of one label table partition after
// version labelDS is (re)computed: the existing rows of other versions and
// the fresh rows, under schema (columns matched by name; a column a record
// lacks is null). It is an error for a column to have another type.
func MergeLabelVersion(schema *arrow.Schema, existing []arrow.RecordBatch, fresh arrow.RecordBatch, labelDS string) ([]arrow.RecordBatch, error) {
	var out []arrow.RecordBatch
	fail := func(err error) ([]arrow.RecordBatch, error) {
		releaseRecords(out)
		return nil, err
	}
	for _, rec := range existing {
		versions, err := stringColumn(rec, LabelDSColumn)
		if err != nil {
			return fail(fmt.Errorf("label table rows: %w", err))
		}
		var keep []int32
		for i := 0; i < versions.Len(); i++ {
			if versions.IsNull(i) || versions.Value(i) != labelDS {
				keep = append(keep, int32(i))
			}
		}
		if len(keep) == 0 {
			continue
		}
		kept, err := Take(rec, keep)
		if err != nil {
			return fail(err)
		}
		conformed, err := ConformTo(kept, schema)
		kept.Release()
		if err != nil {
			return fail(err)
		}
		out = append(out, conformed)
	}
	if fresh != nil && fresh.NumRows() > 0 {
		conformed, err := ConformTo(fresh, schema)
		if err != nil {
			return fail(err)
		}
		out = append(out, conformed)
	}
	return out, nil
}

// ConformTo returns rec's columns under schema, by name: a column rec lacks
// is all null, and one of another type is an error.
func ConformTo(rec arrow.RecordBatch, schema *arrow.Schema) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, schema.NumFields())
	var owned []arrow.Array
	defer func() { releaseAll(owned) }()
	for i, f := range schema.Fields() {
		idx := rec.Schema().FieldIndices(f.Name)
		if len(idx) == 0 {
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, int(rec.NumRows()))
			owned = append(owned, cols[i])
			continue
		}
		c := rec.Column(idx[0])
		if !arrow.TypeEqual(c.DataType(), f.Type) {
			return nil, fmt.Errorf("column %s is %s, the table has %s", f.Name, c.DataType(), f.Type)
		}
		cols[i] = c
	}
	return array.NewRecordBatch(schema, cols, rec.NumRows()), nil
}

// UnionSchema returns want's fields followed by those of have that want
// lacks (made nullable), so that a table keeps columns older writes
// stored. A column both have with different types is an error.
func UnionSchema(want, have *arrow.Schema) (*arrow.Schema, error) {
	fields := slices.Clone(want.Fields())
	if have == nil {
		return want, nil
	}
	for _, f := range have.Fields() {
		idx := want.FieldIndices(f.Name)
		if len(idx) == 0 {
			f.Nullable = true
			fields = append(fields, f)
			continue
		}
		if t := want.Field(idx[0]).Type; !arrow.TypeEqual(t, f.Type) {
			return nil, fmt.Errorf("column %s is now %s, the table stores %s", f.Name, t, f.Type)
		}
	}
	return arrow.NewSchema(fields, nil), nil
}
