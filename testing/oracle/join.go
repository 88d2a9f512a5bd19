// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// joinPart is a join part resolved against the left side.
type joinPart struct {
	gb *groupBy
	// leftKeys[i] is the left column joined with the group-by key
	// gb.keys[i] (keyMapping left -> right; unmapped keys by name).
	leftKeys []string
	prefix   string
}

// JoinBackfill returns the expected output rows of Join j for the output
// partitions days (YYYY-MM-DD): for each day in order, one row per left row
// of that partition, in table order. types gives each table's column types
// (the aggregation inputs' Arrow types come from the selects compiled
// against them); mode is the window_tail setting.
//
// A row holds the left columns (api.Join.LeftColumns: the left selects, or
// every table column; ts for an events left; ds), then per join part its
// value columns `<FullPrefix>_<column>`, then the join's derivations. Keys
// appear once, under their left names. What each part sees depends on the
// left and right data models and the GroupBy's accuracy (Chronon's
// JoinBase.computeJoinPart and joinWithLeft):
//
//	left      right                      query time T and data
//	entities  events (any accuracy)      D+1 00:00, events of partitions <= D (D = left ds)
//	entities  entities (any accuracy)    D+1 00:00, snapshot partition D
//	events    events TEMPORAL            the left ts, events of any partition (*)
//	events    events SNAPSHOT            D 00:00, events of partitions <= D-1 (D = UTC day of the left ts)
//	events    entities TEMPORAL with     the left ts, snapshot D-1 then mutations of partition D with
//	          a mutationTable              D 00:00 <= mutation_ts < T (see temporalEntities)
//	events    other entities             D 00:00, snapshot partition D-1
//
// (*) Every partition the right query's startPartition and endPartition
// allow: Chronon reads the partitions up to the end of the backfill's left
// range, which only differs for events filed in a partition after their
// ts day.
//
// Chronon keys both events-left snapshot cases (and temporalEntities) by
// the day of the left row's ts, not by its ds column: joinWithLeft joins
// SNAPSHOT parts on ts_ds (from_unixtime(ts)) against the right ds + 1,
// the right side being computed on the left's time range shifted by -1 day
// (shiftedPartitionRange = unfilledTimeRange.toPartitionRange.shift(-1));
// temporalEntities groups queries by ds_of_ts. An entity part without
// aggregations passes through the one row of the key in the relevant
// snapshot partition (several rows are an error). An events GroupBy
// without aggregations cannot be joined (Chronon has no such path).
//
// A part has no row for a left row (all its columns null, even derived
// ones) when a left key is null, or, in the snapshot cases, when the key
// has no row in the GroupBy's snapshot (for events: when all its outputs
// are null). Otherwise its aggregated columns are Aggregated cells: an
// empty window is null, which Check demands.
//
// Join derivations follow Chronon's DerivationUtils.applyDerivation:
// without "*" the output is the left columns and the derived columns;
// "*" keeps the part columns except those used verbatim as an expression
// (renamed); a derived column named like a left or part column is
// coalesce(that column, expression). Derived values are computed with
// core/expr from the row's exact values (aggregated cells via Value), so an
// approximate operation under a derivation is compared exactly with the
// oracle's exact answer; rename-only derivations keep the renamed cell.
//
// Not supported (an error): skew keys, bootstrap parts, model transforms,
// JoinSource sources. External parts (online only), label parts (a job of
// their own) and row ids (for bootstrap) do not change the backfill's rows
// and are ignored.
func JoinBackfill(j *api.Join, tables Tables, types map[string]*arrow.Schema, days []string, mode TailMode) ([]ExpectedRow, error) {
	if j == nil || j.Left == nil || j.Left.Events == nil && j.Left.Entities == nil {
		return nil, fmt.Errorf("oracle: join needs an events or entities left source")
	}
	name := j.MetaData.GetName()
	if len(j.SkewKeys) > 0 || len(j.BootstrapParts) > 0 || j.ModelTransforms != nil {
		return nil, fmt.Errorf("oracle: join %s: skew keys, bootstrap parts and model transforms are not supported", name)
	}
	leftModel := j.Left.DataModel()
	rule := noTime
	if leftModel == api.EventsModel {
		rule = needTime
	}
	left, err := scan(tables, types, scanSpec{what: "join " + name + " left", table: j.Left.Table(), query: j.Left.Query(), time: rule})
	if err != nil {
		return nil, err
	}
	leftCols := j.LeftColumns(left.tableCols)
	leftTypes := map[string]arrow.DataType{api.PartitionColumn: arrow.BinaryTypes.String}
	isLeft := map[string]bool{}
	for _, c := range leftCols {
		isLeft[c] = true
		if c != api.PartitionColumn {
			t, ok := left.types[c]
			if !ok {
				return nil, fmt.Errorf("oracle: join %s: left column %q is not selected", name, c)
			}
			leftTypes[c] = t
		}
	}

	loaded := map[*api.GroupBy]*groupBy{}
	var parts []*joinPart
	for i, jp := range j.JoinParts {
		if jp == nil || jp.GroupBy == nil {
			return nil, fmt.Errorf("oracle: join %s: part %d has no GroupBy", name, i+1)
		}
		gb := loaded[jp.GroupBy]
		if gb == nil {
			if gb, err = loadGroupBy(jp.GroupBy, tables, types); err != nil {
				return nil, err
			}
			loaded[jp.GroupBy] = gb
		}
		if !gb.aggregated() && gb.model == api.EventsModel {
			return nil, fmt.Errorf("oracle: join %s: events group-by %s without aggregations cannot be joined", name, gb.name)
		}
		p := &joinPart{gb: gb, prefix: jp.FullPrefix()}
		l2r := jp.LeftToRight()
		for _, k := range gb.keys {
			var found []string
			for l, r := range l2r {
				if r == k {
					found = append(found, l)
				}
			}
			if len(found) != 1 {
				return nil, fmt.Errorf("oracle: join %s, part %s: %d left columns map to key %q, want 1", name, gb.name, len(found), k)
			}
			if !isLeft[found[0]] {
				return nil, fmt.Errorf("oracle: join %s, part %s: key %q joins left column %q, which the left does not select", name, gb.name, k, found[0])
			}
			p.leftKeys = append(p.leftKeys, found[0])
		}
		parts = append(parts, p)
	}

	// The join's derivations, compiled against the left and part columns.
	var baseCols []string
	allCols := append([]string(nil), leftCols...)
	allTypes := map[string]arrow.DataType{}
	for c, t := range leftTypes {
		allTypes[c] = t
	}
	isBase := map[string]bool{}
	for _, p := range parts {
		for _, c := range p.gb.valueCols {
			pc := p.prefix + "_" + c
			baseCols = append(baseCols, pc)
			allCols = append(allCols, pc)
			allTypes[pc] = p.gb.valueTypes[c]
			isBase[pc] = true
		}
	}
	existing := map[string]bool{}
	for c := range allTypes {
		existing[c] = true
	}
	derive, err := compileDerivationList(j.Derivations, allCols, allTypes, existing, "join "+name)
	if err != nil {
		return nil, err
	}
	jd := &joinDerive{d: derive, list: j.Derivations, leftCols: leftCols, baseCols: baseCols,
		isLeft: isLeft, isBase: isBase, types: allTypes}

	var out []ExpectedRow
	for _, day := range days {
		if _, err := dayStart(day); err != nil {
			return nil, err
		}
		for _, lr := range left.rows {
			if lr.ds != day {
				continue
			}
			row := ExpectedRow{}
			for _, c := range leftCols {
				if c == api.PartitionColumn {
					row[c] = Cell{Value: lr.ds}
				} else {
					row[c] = Cell{Value: lr.vals[c]}
				}
			}
			for _, p := range parts {
				cells, err := p.cells(lr, leftModel, mode)
				if err != nil {
					return nil, err
				}
				for _, c := range p.gb.valueCols {
					row[p.prefix+"_"+c] = cells[c]
				}
			}
			if derive != nil {
				if row, err = jd.apply(row); err != nil {
					return nil, fmt.Errorf("oracle: join %s: %w", name, err)
				}
			}
			out = append(out, row)
		}
	}
	return out, nil
}

// cells returns the part's value cells (unprefixed) for one left row; all
// null when the part has no row for it.
func (p *joinPart) cells(lr scanRow, leftModel api.DataModel, mode TailMode) (map[string]Cell, error) {
	gb := p.gb
	key := keyOf(lr.vals, p.leftKeys)
	var r *gbRow
	var err error
	switch {
	case anyNull(key):
		// A null key matches nothing (SQL equality; Chronon also drops
		// query rows with null keys in temporalEvents/temporalEntities).
	case leftModel == api.EntitiesModel && gb.model == api.EventsModel:
		r, err = gb.snapshotEvents(key, lr.ds, mode)
	case leftModel == api.EntitiesModel:
		r, err = gb.snapshotEntities(key, lr.ds, mode)
	case gb.model == api.EventsModel && gb.accuracy == api.Temporal:
		r, err = gb.temporalEvents(key, lr.ts, lr.ds, mode)
	case gb.model == api.EventsModel:
		r, err = gb.snapshotEvents(key, shiftDay(dayOf(lr.ts), -1), mode)
	case gb.accuracy == api.Temporal && gb.hasMuts && gb.aggregated():
		r, err = gb.temporalEntities(key, lr.ts, lr.ds, mode)
	default:
		r, err = gb.snapshotEntities(key, shiftDay(dayOf(lr.ts), -1), mode)
	}
	if err != nil {
		return nil, err
	}
	if r == nil {
		cells := make(map[string]Cell, len(gb.valueCols))
		for _, c := range gb.valueCols {
			cells[c] = Cell{}
		}
		return cells, nil
	}
	return gb.finish(r)
}

// joinDerive applies a join's derivations to its rows.
type joinDerive struct {
	d              *derivations
	list           []*api.Derivation
	leftCols       []string
	baseCols       []string // the parts' prefixed value columns
	isLeft, isBase map[string]bool
	types          map[string]arrow.DataType
}

// apply applies the join's derivations to a finished row (see
// JoinBackfill). Cells are kept where the derived value is the cell's own:
// columns kept by "*", rename-only derivations, and coalesce(part column,
// expression) over a non-null part column of the same type. Every other
// derived cell is an exact value.
func (jd *joinDerive) apply(row ExpectedRow) (ExpectedRow, error) {
	env := make(map[string]any, len(row))
	for c, cell := range row {
		v, err := cell.Want()
		if err != nil {
			return nil, err
		}
		env[c] = v
	}
	eval := func(name string) (Cell, error) {
		v, err := jd.d.byName[name].prog.EvalRow(env)
		if err != nil {
			return Cell{}, fmt.Errorf("derivation %q: %w", name, err)
		}
		return Cell{Value: v}, nil
	}
	out := ExpectedRow{}
	for _, c := range jd.leftCols {
		out[c] = row[c]
		if x, ok := jd.d.byName[c]; ok && x.expr != c {
			cell, err := eval(c) // coalesce(left column, expression)
			if err != nil {
				return nil, err
			}
			out[c] = cell
		}
	}
	for _, c := range api.DerivedColumns(jd.baseCols, jd.list) {
		if jd.isLeft[c] {
			continue
		}
		x, ok := jd.d.byName[c]
		switch {
		case !ok: // kept by "*"
			out[c] = row[c]
		case jd.isBase[c] && x.expr == c: // c -> c
			out[c] = row[c]
		case jd.isBase[c] && env[c] != nil && arrow.TypeEqual(x.prog.Type(), jd.types[c]):
			out[c] = row[c] // coalesce(c, expression) keeps c
		case !jd.isBase[c] && (jd.isBase[x.expr] || jd.isLeft[x.expr]): // rename-only
			out[c] = row[x.expr]
		default:
			cell, err := eval(c)
			if err != nil {
				return nil, err
			}
			out[c] = cell
		}
	}
	return out, nil
}
