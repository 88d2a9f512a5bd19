// SPDX-License-Identifier: Apache-2.0

package api

import (
	"strconv"
	"strings"
)

// Selects returns selects that keep each named column as is.
func Selects(cols ...string) *OrderedMap {
	m := &OrderedMap{}
	for _, c := range cols {
		m.Set(c, c)
	}
	return m
}

// NewQuery returns a query with the given selects and time column.
func NewQuery(selects *OrderedMap, timeColumn string) *Query {
	return &Query{Selects: selects, TimeColumn: timeColumn}
}

// EventsSource returns an event source over a table.
func EventsSource(table string, q *Query) *Source {
	return &Source{Events: &EventSource{Table: table, Query: q}}
}

// EntitiesSource returns an entity source over a snapshot table.
func EntitiesSource(snapshotTable string, q *Query) *Source {
	return &Source{Entities: &EntitySource{SnapshotTable: snapshotTable, Query: q}}
}

// NewAggregation returns an aggregation of op over input with the given
// windows (none = unbounded).
func NewAggregation(input string, op Operation, windows ...Window) *Aggregation {
	return &Aggregation{InputColumn: input, Operation: op, ArgMap: map[string]string{}, Windows: windows}
}

// Sum returns SUM(input) over the windows.
func Sum(input string, windows ...Window) *Aggregation {
	return NewAggregation(input, OpSum, windows...)
}

// CountOf returns COUNT(input) over the windows.
func CountOf(input string, windows ...Window) *Aggregation {
	return NewAggregation(input, OpCount, windows...)
}

// Avg returns AVERAGE(input) over the windows.
func Avg(input string, windows ...Window) *Aggregation {
	return NewAggregation(input, OpAverage, windows...)
}

// WithK returns op with argMap k set: LAST_K(10) is WithK(OpLastK, ...).
func WithK(input string, op Operation, k int, windows ...Window) *Aggregation {
	a := NewAggregation(input, op, windows...)
	a.ArgMap["k"] = strconv.Itoa(k)
	return a
}

// LastK returns LAST_K(input, k) over the windows.
func LastK(input string, k int, windows ...Window) *Aggregation {
	return WithK(input, OpLastK, k, windows...)
}

// NewGroupBy returns a GroupBy named name (team = the name's first part).
func NewGroupBy(name string, sources []*Source, keys []string, aggs ...*Aggregation) *GroupBy {
	return &GroupBy{MetaData: NewMetaData(name), Sources: sources, KeyColumns: keys, Aggregations: aggs}
}

// NewJoin returns a Join named name over left with the given parts.
func NewJoin(name string, left *Source, parts ...*JoinPart) *Join {
	return &Join{MetaData: NewMetaData(name), Left: left, JoinParts: parts}
}

// Part returns a join part for a GroupBy, optionally prefixed.
func Part(g *GroupBy, keyMapping map[string]string) *JoinPart {
	return &JoinPart{GroupBy: g, KeyMapping: keyMapping}
}

// NewMetaData returns metadata for name with its team set to the name's first
// dotted component.
func NewMetaData(name string) *MetaData {
	team, _, _ := strings.Cut(name, ".")
	return &MetaData{Name: name, Team: team}
}

// Ptr returns a pointer to v, for optional fields such as Accuracy and
// JoinPart.Prefix.
func Ptr[T any](v T) *T { return &v }
