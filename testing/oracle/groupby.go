// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/expr"
)

func trim(s string) string { return strings.TrimSpace(s) }

// groupBy is a GroupBy with its sources read: every row of every source
// (the union), and the mutation rows of its entity sources when it is
// TEMPORAL.
type groupBy struct {
	g        *api.GroupBy
	name     string
	model    api.DataModel
	accuracy api.Accuracy
	keys     []string
	// parts and inputs (the input columns' types) are empty without
	// aggregations.
	parts  []api.AggregationPart
	inputs []arrow.DataType
	// baseCols are the value columns before derivations; valueCols after.
	baseCols  []string
	valueCols []string
	// types of the selected columns, and of every value column (base and
	// derived).
	types      map[string]arrow.DataType
	valueTypes map[string]arrow.DataType
	rows       []scanRow
	muts       []scanRow
	hasMuts    bool
	// realTs reports whether the rows carry a ts of their own (else entity
	// rows get the end of their partition minus 1 ms and mutation rows
	// their mutation_ts, which only serves to make them count).
	realTs bool
	derive *derivations
}

func (gb *groupBy) aggregated() bool { return len(gb.parts) > 0 }

// needsTime reports whether some part reads ts: a windowed part or FIRST,
// LAST, FIRST_K, LAST_K (Chronon asserts a ts column for those).
func (gb *groupBy) needsTime() bool {
	for _, p := range gb.parts {
		if (p.Window != nil && !p.Window.Unbounded()) || timed(p.Operation) {
			return true
		}
	}
	return false
}

// mergeTypes adds src's column types to dst; a column typed differently by
// two sources is an error (Chronon requires the sources to agree).
func mergeTypes(dst, src map[string]arrow.DataType, what string) error {
	for c, t := range src {
		if old, ok := dst[c]; ok && !arrow.TypeEqual(old, t) {
			return fmt.Errorf("oracle: %s: column %q is %s in one source and %s in another", what, c, old, t)
		}
		dst[c] = t
	}
	return nil
}

// loadGroupBy reads g's sources. Rows whose key columns are all null are
// dropped: Chronon's GroupBy.from filters with "(k1 IS NOT NULL) OR (k2 IS
// NOT NULL) ...", so with several keys a row with some null keys stays (it
// never matches a left row in a join, but has a row of its own in the
// GroupBy's backfill).
func loadGroupBy(g *api.GroupBy, tables Tables, types map[string]*arrow.Schema) (*groupBy, error) {
	if g == nil {
		return nil, fmt.Errorf("oracle: nil GroupBy")
	}
	gb := &groupBy{
		g: g, name: g.MetaData.GetName(), model: g.DataModel(), accuracy: g.InferredAccuracy(),
		keys: g.KeyColumns, types: map[string]arrow.DataType{}, realTs: true,
	}
	what := "group-by " + gb.name
	if len(g.Sources) == 0 {
		return nil, fmt.Errorf("oracle: %s has no sources", what)
	}
	if len(gb.keys) == 0 {
		return nil, fmt.Errorf("oracle: %s has no key columns", what)
	}
	for i, src := range g.Sources {
		switch {
		case src == nil || src.Events == nil && src.Entities == nil:
			return nil, fmt.Errorf("oracle: %s source %d: only events and entities sources are supported", what, i+1)
		case src.DataModel() != gb.model:
			return nil, fmt.Errorf("oracle: %s mixes events and entities sources", what)
		}
		rule := noTime
		if gb.model == api.EventsModel {
			rule = dsTime
			if gb.accuracy == api.Temporal {
				rule = needTime
			}
		}
		swhat := fmt.Sprintf("%s source %d", what, i+1)
		sc, err := scan(tables, types, scanSpec{what: swhat, table: src.Table(), query: src.Query(), time: rule})
		if err != nil {
			return nil, err
		}
		if err := mergeTypes(gb.types, sc.types, what); err != nil {
			return nil, err
		}
		for _, r := range sc.rows {
			if !allNull(keyOf(r.vals, gb.keys)) {
				gb.rows = append(gb.rows, r)
			}
		}
		if gb.model == api.EntitiesModel && gb.accuracy == api.Temporal && src.Entities.MutationTable != "" {
			mc, err := scan(tables, types, scanSpec{what: swhat + " mutations", table: src.Entities.MutationTable,
				query: src.Query(), time: noTime, mutations: true})
			if err != nil {
				return nil, err
			}
			if err := mergeTypes(gb.types, mc.types, what); err != nil {
				return nil, err
			}
			gb.muts = append(gb.muts, mc.rows...)
			gb.hasMuts = true
		}
	}
	for _, k := range gb.keys {
		if _, ok := gb.types[k]; !ok {
			return nil, fmt.Errorf("oracle: %s: key column %q is not selected", what, k)
		}
	}
	gb.parts = g.AggregationParts()
	gb.baseCols = g.BaseValueColumns()
	gb.valueTypes = map[string]arrow.DataType{}
	for i, p := range gb.parts {
		in, ok := gb.types[p.InputColumn]
		if !ok {
			return nil, fmt.Errorf("oracle: %s: input column %q is not selected", what, p.InputColumn)
		}
		if p.Bucket != "" {
			if _, ok := gb.types[p.Bucket]; !ok {
				return nil, fmt.Errorf("oracle: %s: bucket column %q is not selected", what, p.Bucket)
			}
		}
		out, err := OutputType(p, in)
		if err != nil {
			return nil, fmt.Errorf("oracle: %s: %s: %w", what, p.OutputColumnName(), err)
		}
		gb.inputs = append(gb.inputs, in)
		gb.valueTypes[gb.baseCols[i]] = out
	}
	if !gb.aggregated() {
		for _, c := range gb.baseCols {
			t, ok := gb.types[c]
			if !ok {
				return nil, fmt.Errorf("oracle: %s: value column %q is not selected", what, c)
			}
			gb.valueTypes[c] = t
		}
	}
	// Rows without a ts of their own (entities without a time column): a
	// snapshot row gets the end of its partition minus 1 ms, a mutation row
	// its mutation_ts, so that it counts at any later T. Nothing reads that
	// ts otherwise: a part that would is an error.
	for pass, rows := range [][]scanRow{gb.rows, gb.muts} {
		for i := range rows {
			r := &rows[i]
			if r.hasTs {
				continue
			}
			if gb.needsTime() {
				return nil, fmt.Errorf("oracle: %s: windowed or time-based aggregations need a ts: set timeColumn or select ts", what)
			}
			gb.realTs = false
			if pass == 1 {
				r.ts = r.mutTs
			} else {
				start, _ := dayStart(r.ds)
				r.ts = start + OneDay - 1
			}
		}
	}
	if err := gb.compileDerivations(); err != nil {
		return nil, err
	}
	return gb, nil
}

// gbRow is one output row of a GroupBy before derivations: the base value
// cells of one key, and the ds (and ts, for point-in-time rows) that row
// carries in Chronon (readable by derivations).
type gbRow struct {
	key   []any
	cells map[string]Cell
	ds    string
	ts    *int64
}

// aggCells returns the aggregated cells of a key at T over events.
func (gb *groupBy) aggCells(events func(p api.AggregationPart) ([]Event, error), T int64, mode TailMode) (map[string]Cell, error) {
	cells := make(map[string]Cell, len(gb.parts))
	for i, p := range gb.parts {
		evs, err := events(p)
		if err != nil {
			return nil, err
		}
		cells[gb.baseCols[i]] = Cell{Aggregated: true, Part: p, Input: gb.inputs[i], Events: evs, T: T, Mode: mode}
	}
	return cells, nil
}

// rowsOf returns the rows of key that pass keep, in table order.
func rowsOf(rows []scanRow, keys []string, key []any, keep func(scanRow) bool) []scanRow {
	var out []scanRow
	for _, r := range rows {
		if keep(r) && sameGroup(keyOf(r.vals, keys), key) {
			out = append(out, r)
		}
	}
	return out
}

// eventsOf returns the rows as Events, in order.
func eventsOf(rows []scanRow) []Event {
	evs := make([]Event, len(rows))
	for i, r := range rows {
		evs[i] = r.event()
	}
	return evs
}

// snapshotEvents is an events GroupBy's daily snapshot of key for day:
// Chronon's snapshotEvents. The window ends at day+1 00:00 (T) and the
// events are those of partitions <= day. It returns nil when the key has no
// row there, or when every output is null (Chronon drops those rows).
func (gb *groupBy) snapshotEvents(key []any, day string, mode TailMode) (*gbRow, error) {
	start, err := dayStart(day)
	if err != nil {
		return nil, err
	}
	rows := rowsOf(gb.rows, gb.keys, key, func(r scanRow) bool { return r.ds <= day })
	if len(rows) == 0 {
		return nil, nil
	}
	evs := eventsOf(rows)
	cells, err := gb.aggCells(func(api.AggregationPart) ([]Event, error) { return evs, nil }, start+OneDay, mode)
	if err != nil {
		return nil, err
	}
	for _, c := range cells {
		v, err := c.Want()
		if err != nil {
			return nil, err
		}
		if v != nil {
			return &gbRow{key: key, cells: cells, ds: day}, nil
		}
	}
	return nil, nil
}

// snapshotEntities is an entities GroupBy's snapshot of key for day:
// Chronon's snapshotEntities over snapshot partition day only, windows
// ending at day+1 00:00. Every key with a row there has an output row (no
// all-null filter, unlike events). As everywhere in the oracle, a row
// counts only if ts < T, unbounded windows included; Chronon's
// snapshotEntitiesBase skips that test when the GroupBy has no windowed
// aggregation, which only matters for rows whose ts lies after the end of
// their own snapshot day. Without aggregations the row is the
// partition's row of that key passed through; several rows of one key are
// an error, since a join would have to pick one.
func (gb *groupBy) snapshotEntities(key []any, day string, mode TailMode) (*gbRow, error) {
	start, err := dayStart(day)
	if err != nil {
		return nil, err
	}
	rows := rowsOf(gb.rows, gb.keys, key, func(r scanRow) bool { return r.ds == day })
	if len(rows) == 0 {
		return nil, nil
	}
	if !gb.aggregated() {
		if len(rows) > 1 {
			return nil, fmt.Errorf("oracle: group-by %s (no aggregations): %d rows of key %s in partition %s; the oracle wants one",
				gb.name, len(rows), show(key), day)
		}
		return gb.passthrough(rows[0]), nil
	}
	evs := eventsOf(rows)
	cells, err := gb.aggCells(func(api.AggregationPart) ([]Event, error) { return evs, nil }, start+OneDay, mode)
	if err != nil {
		return nil, err
	}
	return &gbRow{key: key, cells: cells, ds: day}, nil
}

// passthrough is the output row of a GroupBy without aggregations for one
// source row.
func (gb *groupBy) passthrough(r scanRow) *gbRow {
	cells := make(map[string]Cell, len(gb.baseCols))
	for _, c := range gb.baseCols {
		cells[c] = Cell{Value: r.vals[c]}
	}
	return &gbRow{key: keyOf(r.vals, gb.keys), cells: cells, ds: r.ds}
}

// temporalEvents is the point-in-time value of key at T (a left event's
// ts): every event of the key, from any partition the query allows; Check
// applies the window ending at T.
func (gb *groupBy) temporalEvents(key []any, T int64, ds string, mode TailMode) (*gbRow, error) {
	evs := eventsOf(rowsOf(gb.rows, gb.keys, key, func(scanRow) bool { return true }))
	cells, err := gb.aggCells(func(api.AggregationPart) ([]Event, error) { return evs, nil }, T, mode)
	if err != nil {
		return nil, err
	}
	ts := T
	return &gbRow{key: key, cells: cells, ds: ds, ts: &ts}, nil
}

// temporalEntities is the point-in-time value of key at T over an entity
// source with mutations (Chronon's GroupBy.temporalEntities and
// SawtoothMutationAggregator.lambdaAggregateIrMany). With D the UTC day of
// T and B = D 00:00:
//   - the state starts from snapshot partition D-1, rows with ts < B
//     (SawtoothMutationAggregator.update takes only rows with
//     batchEndTs > ts);
//   - then come the mutation rows of mutation partition D with
//     B <= mutation_ts < T, in mutation_ts order (stable: table order among
//     equal mutation_ts);
//   - an after-image (is_before false) is added; a before-image (is_before
//     true) is deleted, which only deletable operations do (SUM, COUNT,
//     AVERAGE, HISTOGRAM); the others ignore it, as Chronon's add-only
//     semantics do.
//
// For a deletable part the events are thus the multiset snapshot rows +
// after-images - before-images; Check windows them by their ts with T.
func (gb *groupBy) temporalEntities(key []any, T int64, ds string, mode TailMode) (*gbRow, error) {
	D := dayOf(T)
	B, _ := dayStart(D)
	prev := shiftDay(D, -1)
	snap := rowsOf(gb.rows, gb.keys, key, func(r scanRow) bool { return r.ds == prev && r.ts < B })
	muts := rowsOf(gb.muts, gb.keys, key, func(r scanRow) bool { return r.ds == D && r.mutTs >= B && r.mutTs < T })
	sort.SliceStable(muts, func(i, j int) bool { return muts[i].mutTs < muts[j].mutTs })
	cells, err := gb.aggCells(func(p api.AggregationPart) ([]Event, error) {
		return mutationEvents(p, snap, muts, T, mode, gb.realTs)
	}, T, mode)
	if err != nil {
		return nil, fmt.Errorf("oracle: group-by %s, key %s at T=%d: %w", gb.name, show(key), T, err)
	}
	ts := T
	return &gbRow{key: key, cells: cells, ds: ds, ts: &ts}, nil
}

// mutationEvents applies mutations (in order) to the snapshot rows for one
// part. A before-image whose input (or bucket) is null, or that is outside
// the part's window at T, is ignored, as Chronon's delete ignores it; one
// that counts must match an earlier row of equal ts (when rows have a ts),
// input value and bucket value, else the data retracts a row that was
// never there, which the oracle cannot represent (Chronon's IR would go
// negative) and reports as an error.
func mutationEvents(p api.AggregationPart, snap, muts []scanRow, T int64, mode TailMode, useTs bool) ([]Event, error) {
	evs := eventsOf(snap)
	del := p.Operation.Deletable()
	for _, m := range muts {
		if !m.before {
			evs = append(evs, m.event())
			continue
		}
		in := m.vals[p.InputColumn]
		if !del || in == nil || p.Bucket != "" && m.vals[p.Bucket] == nil || !Counts(m.ts, T, p.Window, mode) {
			continue
		}
		idx := -1
		for i, e := range evs {
			if (!useTs || e.Ts == m.ts) && equalValues(e.Values[p.InputColumn], in) &&
				(p.Bucket == "" || equalValues(e.Values[p.Bucket], m.vals[p.Bucket])) {
				idx = i
				break
			}
		}
		if idx < 0 {
			return nil, fmt.Errorf("%s: before-image (mutation_ts %d, ts %d, %s = %s) retracts no earlier row",
				p.OutputColumnName(), m.mutTs, m.ts, p.InputColumn, show(in))
		}
		evs = append(evs[:idx:idx], evs[idx+1:]...)
	}
	return evs, nil
}

// derivation is one compiled derivation.
type derivation struct {
	// expr is the expression as written (trimmed).
	expr string
	// prog computes the column: the expression, or for a join derivation
	// named like an existing column, coalesce(column, expression).
	prog *expr.Program
}

// derivations are the compiled Derivations of a GroupBy or a Join, by
// name ("*" has none).
type derivations struct {
	byName map[string]derivation
}

// compileDerivationList compiles ds (nil if empty) against the columns and
// types given. A derivation named like one of coalesced (other than a plain
// c -> c) computes coalesce(that column, expression), as Chronon's
// DerivationUtils.applyDerivation does for joins, so its type is the
// coalesced one.
func compileDerivationList(ds []*api.Derivation, cols []string, types map[string]arrow.DataType, coalesced map[string]bool, what string) (*derivations, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	fields := make([]arrow.Field, 0, len(cols))
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c] {
			continue
		}
		seen[c] = true
		fields = append(fields, arrow.Field{Name: c, Type: types[c], Nullable: true})
	}
	schema := arrow.NewSchema(fields, nil)
	d := &derivations{byName: map[string]derivation{}}
	for _, x := range ds {
		if x.Name == "*" {
			continue
		}
		e := trim(x.Expression)
		src := e
		if coalesced[x.Name] && e != x.Name {
			src = "coalesce(" + identQuote(x.Name) + ", (" + e + "))"
		}
		p, err := expr.Compile(src, schema)
		if err != nil {
			return nil, fmt.Errorf("oracle: %s: derivation %q: %w", what, x.Name, err)
		}
		d.byName[x.Name] = derivation{expr: e, prog: p}
	}
	return d, nil
}

func (gb *groupBy) compileDerivations() error {
	gb.valueCols = gb.g.ValueColumns()
	if len(gb.g.Derivations) == 0 {
		return nil
	}
	cols := append(append([]string(nil), gb.keys...), gb.baseCols...)
	types := map[string]arrow.DataType{api.PartitionColumn: arrow.BinaryTypes.String}
	for _, k := range gb.keys {
		types[k] = gb.types[k]
	}
	for c, t := range gb.valueTypes {
		types[c] = t
	}
	cols = append(cols, api.PartitionColumn)
	if _, ok := gb.types[api.TimeColumn]; ok {
		types[api.TimeColumn] = arrow.PrimitiveTypes.Int64
		cols = append(cols, api.TimeColumn)
	}
	d, err := compileDerivationList(gb.g.Derivations, cols, types, nil, "group-by "+gb.name)
	if err != nil {
		return err
	}
	gb.derive = d
	for name, x := range d.byName {
		gb.valueTypes[name] = x.prog.Type()
	}
	return nil
}

// finish applies the GroupBy's derivations to a row and returns its value
// cells by (unprefixed) value column. A column kept by "*" keeps its cell;
// a derived column is an exact Value computed with core/expr from the
// base values (aggregated ones via Value), so an approximate operation
// under a derivation is compared exactly with the oracle's exact answer.
func (gb *groupBy) finish(r *gbRow) (map[string]Cell, error) {
	if gb.derive == nil {
		return r.cells, nil
	}
	env := map[string]any{api.PartitionColumn: r.ds}
	if r.ts != nil {
		env[api.TimeColumn] = *r.ts
	}
	for i, k := range gb.keys {
		env[k] = r.key[i]
	}
	for c, cell := range r.cells {
		v, err := cell.Want()
		if err != nil {
			return nil, err
		}
		env[c] = v
	}
	out := make(map[string]Cell, len(gb.valueCols))
	for _, c := range gb.valueCols {
		x, ok := gb.derive.byName[c]
		if !ok {
			out[c] = r.cells[c]
			continue
		}
		if cell, ok := r.cells[x.expr]; ok { // rename-only (or identity)
			out[c] = cell
			continue
		}
		v, err := x.prog.EvalRow(env)
		if err != nil {
			return nil, fmt.Errorf("oracle: group-by %s: derivation %q: %w", gb.name, c, err)
		}
		out[c] = Cell{Value: v}
	}
	return out, nil
}

// GroupByBackfill returns the expected rows of g's backfill (its daily
// snapshots) for the output partitions days: key columns, value columns
// (after derivations) and ds, grouped by day in the order of days, keys in
// order of first appearance in the source rows. types gives each table's
// column types (the inputs' Arrow types come from the selects compiled
// against them); mode is the window_tail setting.
//
// As Chronon's GroupBy.computeBackfill, the accuracy does not matter:
//   - events: for day D, every event of partitions <= D counts in windows
//     ending at T = D+1 00:00 (exclusive); keys whose outputs are all null
//     are dropped (GroupBy.snapshotEventsBase);
//   - entities: snapshot partition D only, windows ending at D+1 00:00;
//     every key with a row there is output (GroupBy.snapshotEntitiesBase
//     has no all-null filter); mutations are not read;
//   - without aggregations: every selected row of partition D passed
//     through (Chronon supports this for entities; the oracle also for
//     events).
//
// Rows whose keys are all null are dropped; with several keys, a row with
// some null keys forms its own group (Chronon's GroupBy.from null filter).
func GroupByBackfill(g *api.GroupBy, tables Tables, types map[string]*arrow.Schema, days []string, mode TailMode) ([]ExpectedRow, error) {
	gb, err := loadGroupBy(g, tables, types)
	if err != nil {
		return nil, err
	}
	var out []ExpectedRow
	emit := func(r *gbRow) error {
		cells, err := gb.finish(r)
		if err != nil {
			return err
		}
		row := ExpectedRow{api.PartitionColumn: {Value: r.ds}}
		for i, k := range gb.keys {
			row[k] = Cell{Value: r.key[i]}
		}
		for c, cell := range cells {
			row[c] = cell
		}
		out = append(out, row)
		return nil
	}
	for _, day := range days {
		if _, err := dayStart(day); err != nil {
			return nil, err
		}
		if !gb.aggregated() {
			for _, r := range gb.rows {
				if r.ds == day {
					if err := emit(gb.passthrough(r)); err != nil {
						return nil, err
					}
				}
			}
			continue
		}
		var keys [][]any
		for _, r := range gb.rows {
			if r.ds > day || gb.model == api.EntitiesModel && r.ds != day {
				continue
			}
			k := keyOf(r.vals, gb.keys)
			seen := false
			for _, o := range keys {
				if sameGroup(o, k) {
					seen = true
					break
				}
			}
			if !seen {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			var r *gbRow
			if gb.model == api.EventsModel {
				r, err = gb.snapshotEvents(k, day, mode)
			} else {
				r, err = gb.snapshotEntities(k, day, mode)
			}
			if err != nil {
				return nil, err
			}
			if r != nil {
				if err := emit(r); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}
