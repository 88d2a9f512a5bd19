// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
)

// Rule says which events of a GroupBy a query sees and at what time, from
// the left side's model and the GroupBy's model and accuracy (SEMANTICS.md
// §4, §9).
type Rule int

const (
	// RuleTemporal: events left × TEMPORAL events: every event before the
	// left row's ts.
	RuleTemporal Rule = iota
	// RuleMidnight: events left × SNAPSHOT events: as of 00:00 UTC starting
	// the day of the left row's ts.
	RuleMidnight
	// RuleDayEnd: entities left × events, and GroupBy backfills of events:
	// as of the end of the left row's ds (next day 00:00).
	RuleDayEnd
	// RuleSnapshotPrev: events left × entities: the snapshot of the day
	// before the left row's ts, as of its end.
	RuleSnapshotPrev
	// RuleSnapshotSame: entities left × entities, and GroupBy backfills of
	// entities: the snapshot of the left row's ds, as of its end.
	RuleSnapshotSame
	// RuleMutations: events left × TEMPORAL entities with mutations: the
	// snapshot of the day before the left row's ts, then that day's
	// mutations before the left row's ts.
	RuleMutations
)

// RuleFor returns how a GroupBy joins a left side of the given model.
func RuleFor(g *api.GroupBy, left api.DataModel) Rule {
	entities := g.DataModel() == api.EntitiesModel
	temporal := g.InferredAccuracy() == api.Temporal
	switch {
	case left == api.EntitiesModel && entities:
		return RuleSnapshotSame
	case left == api.EntitiesModel:
		return RuleDayEnd
	case entities && temporal && hasMutations(g):
		return RuleMutations
	case entities:
		return RuleSnapshotPrev
	case temporal:
		return RuleTemporal
	}
	return RuleMidnight
}

func hasMutations(g *api.GroupBy) bool {
	for _, s := range g.Sources {
		if s.Entities != nil && s.Entities.MutationTable != "" {
			return true
		}
	}
	return false
}

// Snapshot reports whether the rule groups right rows by snapshot day.
func (r Rule) Snapshot() bool {
	return r == RuleSnapshotPrev || r == RuleSnapshotSame || r == RuleMutations
}

// Query returns the query time and the snapshot day (days since the epoch;
// -1 when the rule reads events) of a left row at ts (events left) on
// partition day ds.
func (r Rule) Query(ts int64, ds int64) (t int64, day int64) {
	const dayMs = 24 * 60 * 60 * 1000
	tsDay := floorDiv(ts, dayMs)
	switch r {
	case RuleTemporal:
		return ts, -1
	case RuleMidnight:
		return tsDay * dayMs, -1
	case RuleDayEnd:
		return (ds + 1) * dayMs, -1
	case RuleSnapshotPrev:
		return tsDay * dayMs, tsDay - 1
	case RuleSnapshotSame:
		return (ds + 1) * dayMs, ds
	case RuleMutations:
		return ts, tsDay - 1
	}
	return ts, -1
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// GroupBy is a compiled GroupBy: its keys, the value columns events carry
// and the aggregation spec over them (nil without aggregations).
type GroupBy struct {
	Def  *api.GroupBy
	Keys []string
	// Values are the columns events carry, in the order of Event.Values:
	// the aggregations' inputs and buckets, or the selected value columns
	// of a GroupBy without aggregations.
	Values []arrow.Field
	Spec   *agg.Spec
	// Output are the base value columns (before derivations).
	Output []arrow.Field
}

// CompileGroupBy compiles g over its projected source schema (the first
// source's; every source must give the same columns).
func CompileGroupBy(g *api.GroupBy, source *arrow.Schema, mode agg.TailMode) (*GroupBy, error) {
	name := g.MetaData.GetName()
	c := &GroupBy{Def: g, Keys: g.KeyColumns}
	field := func(n string) (arrow.Field, error) {
		idx := source.FieldIndices(n)
		if len(idx) == 0 {
			return arrow.Field{}, fmt.Errorf("%s: column %q is not selected by sources[0] (columns: %v)", name, n, fieldNames(source))
		}
		return source.Field(idx[0]), nil
	}
	for _, k := range c.Keys {
		if _, err := field(k); err != nil {
			return nil, fmt.Errorf("keyColumns: %w", err)
		}
	}
	if len(g.Aggregations) == 0 {
		for _, n := range g.BaseValueColumns() {
			f, err := field(n)
			if err != nil {
				return nil, err
			}
			c.Values = append(c.Values, f)
		}
		c.Output = c.Values
		return c, nil
	}
	seen := map[string]bool{}
	for _, p := range g.AggregationParts() {
		for _, n := range []string{p.InputColumn, p.Bucket} {
			if n == "" || seen[n] {
				continue
			}
			f, err := field(n)
			if err != nil {
				return nil, err
			}
			seen[n] = true
			c.Values = append(c.Values, f)
		}
	}
	spec, err := agg.NewSpec(g.Aggregations, c.Values, mode)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c.Spec = spec
	for _, col := range spec.Columns {
		t := spec.Bases[col.Base].Agg.OutputType()
		c.Output = append(c.Output, arrow.Field{Name: col.Name, Type: t, Nullable: true})
	}
	return c, nil
}
