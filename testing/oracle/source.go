// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/expr"
)

// Row is one table row: column name -> value in the Go value convention of
// docs/aggregations.md (int64, float64, string, bool, []byte, []any,
// map[string]any, nil), plus "ds" (a string YYYY-MM-DD) naming its
// partition.
type Row map[string]any

// Tables maps "namespace.table" to its rows, all partitions together, in
// table order.
type Tables map[string][]Row

// dsLayout is the partition format.
const dsLayout = "2006-01-02"

// dayStart returns the epoch milliseconds of ds 00:00 UTC.
func dayStart(ds string) (int64, error) {
	t, err := time.Parse(dsLayout, ds)
	if err != nil {
		return 0, fmt.Errorf("oracle: bad partition %q: want YYYY-MM-DD", ds)
	}
	return t.UnixMilli(), nil
}

// dayOf returns the UTC day (YYYY-MM-DD) holding ts.
func dayOf(ts int64) string {
	return time.UnixMilli(Midnight(ts)).UTC().Format(dsLayout)
}

// shiftDay returns ds moved by n days; ds must be valid.
func shiftDay(ds string, n int) string {
	t, _ := time.Parse(dsLayout, ds)
	return t.AddDate(0, 0, n).Format(dsLayout)
}

// scanRow is one row of a source after the scan: its selected columns (ts
// included when the row has one), its partition and, for mutation rows,
// mutation_ts and is_before.
type scanRow struct {
	vals  map[string]any
	ds    string
	ts    int64
	hasTs bool
	// Mutation rows only.
	mutTs  int64
	before bool
}

// event returns the row as an oracle Event.
func (r scanRow) event() Event { return Event{Ts: r.ts, Values: r.vals} }

// timeRule says how a scan finds a row's ts when neither the selects nor
// the query's timeColumn nor the table gives one.
type timeRule int

const (
	// noTime: the row has no ts (entities, left entities).
	noTime timeRule = iota
	// dsTime: ts = end of the row's ds day minus 1 ms (SNAPSHOT events).
	dsTime
	// needTime: a ts is required (TEMPORAL events, left events).
	needTime
)

// scanSpec is one table read.
type scanSpec struct {
	what      string // for error messages: "left", "group-by x source 1"...
	table     string
	query     *api.Query
	time      timeRule
	mutations bool
}

// scanned is the result of a scan.
type scanned struct {
	rows []scanRow
	// types are the Arrow types of the selected columns (and of ts,
	// mutation_ts, is_before when present).
	types map[string]arrow.DataType
	// tableCols are the table's columns (for a left side without selects).
	tableCols []string
}

// identQuote back-quotes a column name for an expression.
func identQuote(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// withDS returns schema with a string ds column added if it has none, so
// that wheres and time expressions may read the partition.
func withDS(s *arrow.Schema) *arrow.Schema {
	if s.HasField(api.PartitionColumn) {
		return s
	}
	fields := append(append([]arrow.Field(nil), s.Fields()...),
		arrow.Field{Name: api.PartitionColumn, Type: arrow.BinaryTypes.String, Nullable: true})
	return arrow.NewSchema(fields, nil)
}

// asInt64 reads an integer value (any width) as int64.
func asInt64(v any) (int64, bool) {
	switch v.(type) {
	case int8, int16, int32, int64:
		return toInt64(v), true
	}
	return 0, false
}

// inRange reports whether partition ds is allowed by the query's
// startPartition and endPartition (inclusive; YYYY-MM-DD orders as text).
func inRange(q *api.Query, ds string) bool {
	if q == nil {
		return true
	}
	if q.StartPartition != "" && ds < q.StartPartition {
		return false
	}
	if q.EndPartition != "" && ds > q.EndPartition {
		return false
	}
	return true
}

// scan reads one source table row by row, following Chronon's source query
// (GroupBy.renderDataSourceQuery, QueryUtils.build):
//   - only partitions in [startPartition, endPartition];
//   - wheres evaluated against the raw table row, not the select aliases;
//   - selects (output name -> expression, "" meaning the column of that
//     name); no selects means every table column;
//   - ts: a select named ts if any, else the timeColumn expression, else
//     the table's ts column, else by rule (see timeRule);
//   - for mutation tables also mutation_ts (mutationTimeColumn, else the
//     table's mutation_ts column) and is_before (reversalColumn, else the
//     table's is_before column).
//
// Expressions are evaluated with core/expr, one row at a time.
func scan(tables Tables, types map[string]*arrow.Schema, s scanSpec) (*scanned, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("oracle: %s (table %s): %s", s.what, s.table, fmt.Sprintf(format, args...))
	}
	base, ok := types[s.table]
	if !ok || base == nil {
		return nil, fail("no schema given for the table")
	}
	schema := withDS(base)
	q := s.query
	if q == nil {
		q = &api.Query{}
	}
	out := &scanned{types: map[string]arrow.DataType{}}
	for _, f := range base.Fields() {
		out.tableCols = append(out.tableCols, f.Name)
	}
	var selects [][2]string
	if q.Selects.Len() > 0 {
		for _, k := range q.Selects.Keys() {
			v, _ := q.Selects.Get(k)
			if strings.TrimSpace(v) == "" {
				v = identQuote(k)
			}
			selects = append(selects, [2]string{k, v})
		}
	} else {
		for _, f := range base.Fields() {
			if f.Name != api.PartitionColumn {
				selects = append(selects, [2]string{f.Name, identQuote(f.Name)})
			}
		}
	}
	proj, err := expr.CompileProjection(selects, q.Wheres, schema)
	if err != nil {
		return nil, fail("%v", err)
	}
	for _, f := range proj.Schema().Fields() {
		out.types[f.Name] = f.Type
	}
	_, selectedTs := out.types[api.TimeColumn]
	var tsProg *expr.Program
	switch {
	case selectedTs:
	case q.TimeColumn != "":
		if tsProg, err = expr.Compile(q.TimeColumn, schema); err != nil {
			return nil, fail("timeColumn %q: %v", q.TimeColumn, err)
		}
	case base.HasField(api.TimeColumn):
		tsProg, _ = expr.Compile(identQuote(api.TimeColumn), schema)
	case s.time == needTime:
		return nil, fail("no time: set the query's timeColumn or select ts")
	}
	if tsProg != nil {
		out.types[api.TimeColumn] = tsProg.Type()
	}
	var mutProg, revProg *expr.Program
	if s.mutations {
		compileOr := func(src, col, field string) (*expr.Program, error) {
			if src == "" {
				if !base.HasField(col) {
					return nil, fail("no %s: set the query's %s or give the table a %s column", col, field, col)
				}
				src = identQuote(col)
			}
			p, err := expr.Compile(src, schema)
			if err != nil {
				return nil, fail("%s %q: %v", field, src, err)
			}
			return p, nil
		}
		if mutProg, err = compileOr(q.MutationTimeColumn, api.MutationTimeColumn, "mutationTimeColumn"); err != nil {
			return nil, err
		}
		if revProg, err = compileOr(q.ReversalColumn, api.ReversalColumn, "reversalColumn"); err != nil {
			return nil, err
		}
	}
	for i, raw := range tables[s.table] {
		ds, ok := raw[api.PartitionColumn].(string)
		if !ok {
			return nil, fail("row %d has no string ds", i)
		}
		start, err := dayStart(ds)
		if err != nil {
			return nil, fail("row %d: %v", i, err)
		}
		if !inRange(q, ds) {
			continue
		}
		vals, keep, err := proj.ApplyRow(raw)
		if err != nil {
			return nil, fail("row %d: %v", i, err)
		}
		if !keep {
			continue
		}
		r := scanRow{vals: vals, ds: ds}
		var tsVal any
		hasTsVal := false
		switch {
		case selectedTs:
			tsVal, hasTsVal = vals[api.TimeColumn], true
		case tsProg != nil:
			if tsVal, err = tsProg.EvalRow(raw); err != nil {
				return nil, fail("row %d: ts: %v", i, err)
			}
			hasTsVal = true
		case s.time == dsTime:
			r.ts, r.hasTs = start+OneDay-1, true
		}
		if hasTsVal {
			ts, ok := asInt64(tsVal)
			if !ok {
				return nil, fail("row %d (ds %s): ts is %s, want epoch milliseconds", i, ds, show(tsVal))
			}
			r.ts, r.hasTs = ts, true
		}
		if r.hasTs {
			vals[api.TimeColumn] = r.ts
		}
		if s.mutations {
			mv, err := mutProg.EvalRow(raw)
			if err != nil {
				return nil, fail("row %d: mutation_ts: %v", i, err)
			}
			mts, ok := asInt64(mv)
			if !ok {
				return nil, fail("row %d (ds %s): mutation_ts is %s, want epoch milliseconds", i, ds, show(mv))
			}
			bv, err := revProg.EvalRow(raw)
			if err != nil {
				return nil, fail("row %d: is_before: %v", i, err)
			}
			b, ok := bv.(bool)
			if !ok {
				return nil, fail("row %d (ds %s): is_before is %s, want a bool", i, ds, show(bv))
			}
			r.mutTs, r.before = mts, b
		}
		out.rows = append(out.rows, r)
	}
	if _, ok := out.types[api.TimeColumn]; ok || s.time == dsTime {
		out.types[api.TimeColumn] = arrow.PrimitiveTypes.Int64
	}
	return out, nil
}

// keyOf returns the row's values of cols.
func keyOf(vals map[string]any, cols []string) []any {
	k := make([]any, len(cols))
	for i, c := range cols {
		k[i] = vals[c]
	}
	return k
}

// allNull reports whether every value of key is null.
func allNull(key []any) bool {
	for _, v := range key {
		if v != nil {
			return false
		}
	}
	return true
}

// anyNull reports whether some value of key is null.
func anyNull(key []any) bool {
	for _, v := range key {
		if v == nil {
			return true
		}
	}
	return false
}

// keyValue normalizes a key value for comparison: integers of any width
// compare as int64, float32 as float64, binary as its bytes.
func keyValue(v any) any {
	switch x := v.(type) {
	case int8, int16, int32:
		return toInt64(x)
	case float32:
		return float64(x)
	case []byte:
		return string(x)
	}
	return v
}

// sameGroup reports whether two keys fall in the same group of a GroupBy:
// equal values, null equal to null. A join matches a left key only when it
// has no null (SQL equality), and then sameGroup is that equality.
func sameGroup(a, b []any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := keyValue(a[i]), keyValue(b[i])
		if x == nil || y == nil {
			if x != y {
				return false
			}
			continue
		}
		if !equalValues(x, y) {
			return false
		}
	}
	return true
}
