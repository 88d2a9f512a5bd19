// SPDX-License-Identifier: Apache-2.0

package api

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/chronon-go/chronon/core/batch"
)

// FieldError is one problem in a definition. Path names the field in
// compiled-JSON terms, e.g. "aggregations[1].argMap.k".
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// ValidationError lists every problem found in a definition. Use errors.As
// to get at the individual FieldErrors.
type ValidationError struct {
	Errors []*FieldError
}

func (e *ValidationError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		msgs[i] = fe.Error()
	}
	return strings.Join(msgs, "; ")
}

// validator collects FieldErrors under a path prefix.
type validator struct {
	errs []*FieldError
}

func (v *validator) addf(path, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: v.errs}
}

func join(prefix, field string) string {
	if prefix == "" {
		return field
	}
	if strings.HasPrefix(field, "[") {
		return prefix + field
	}
	return prefix + "." + field
}

func idx(prefix string, i int) string { return fmt.Sprintf("%s[%d]", prefix, i) }

// Validate checks a GroupBy and returns a *ValidationError listing every
// problem, or nil.
func (g *GroupBy) Validate() error {
	var v validator
	v.groupBy("", g)
	return v.err()
}

// Validate checks a Join (and the GroupBys inside it) and returns a
// *ValidationError listing every problem, or nil.
func (j *Join) Validate() error {
	var v validator
	v.join("", j)
	return v.err()
}

// Validate checks a StagingQuery and returns a *ValidationError, or nil.
func (s *StagingQuery) Validate() error {
	var v validator
	v.metaData("metaData", s.MetaData)
	if strings.TrimSpace(s.Query) == "" {
		v.addf("query", "is empty")
	}
	v.date("startPartition", s.StartPartition)
	return v.err()
}

func (v *validator) date(path, ds string) {
	if ds != "" && !batch.ValidDS(ds) {
		v.addf(path, "bad date %q: want YYYY-MM-DD", ds)
	}
}

func (v *validator) metaData(path string, m *MetaData) {
	if m == nil || strings.TrimSpace(m.Name) == "" {
		v.addf(join(path, "name"), "is required")
		return
	}
	v.date(join(path, "deprecationDate"), m.DeprecationDate)
	if m.SamplePercent < 0 || m.SamplePercent > 100 {
		v.addf(join(path, "samplePercent"), "must be between 0 and 100, got %v", m.SamplePercent)
	}
	if m.ConsistencySamplePercent < 0 || m.ConsistencySamplePercent > 100 {
		v.addf(join(path, "consistencySamplePercent"), "must be between 0 and 100, got %v", m.ConsistencySamplePercent)
	}
	if m.CustomJSON != "" && !json.Valid([]byte(m.CustomJSON)) {
		v.addf(join(path, "customJson"), "is not valid JSON")
	}
}

func isReserved(col string) bool {
	for _, r := range ReservedColumns {
		if col == r {
			return true
		}
	}
	return false
}

// source checks one source and returns its selected column names (nil when
// it has no selects, i.e. SELECT *).
func (v *validator) source(path string, s *Source) []string {
	if s == nil {
		v.addf(path, "is required")
		return nil
	}
	n := 0
	var qpath string
	switch {
	case s.Events != nil:
		n++
		qpath = join(path, "events.query")
		if s.Events.Table == "" {
			v.addf(join(path, "events.table"), "is required")
		}
	case s.Entities != nil:
		n++
		qpath = join(path, "entities.query")
		if s.Entities.SnapshotTable == "" {
			v.addf(join(path, "entities.snapshotTable"), "is required")
		}
	case s.JoinSource != nil:
		n++
		qpath = join(path, "joinSource.query")
		if s.JoinSource.Join == nil {
			v.addf(join(path, "joinSource.join"), "is required")
		} else {
			v.join(join(path, "joinSource.join"), s.JoinSource.Join)
		}
	}
	if s.Events != nil && s.Entities != nil || s.JoinSource != nil && (s.Events != nil || s.Entities != nil) {
		n = 2
	}
	if n != 1 {
		v.addf(path, "must set exactly one of events, entities, joinSource")
		return nil
	}
	q := s.Query()
	if q == nil {
		return nil
	}
	v.date(join(qpath, "startPartition"), q.StartPartition)
	v.date(join(qpath, "endPartition"), q.EndPartition)
	if q.StartPartition != "" && q.EndPartition != "" && q.StartPartition > q.EndPartition {
		v.addf(join(qpath, "endPartition"), "%s is before startPartition %s", q.EndPartition, q.StartPartition)
	}
	for _, c := range q.Selects.Keys() {
		switch {
		case c == TimeColumn && q.TimeColumn != "":
			v.addf(join(qpath, "selects."+c), "%q is reserved: the time column becomes ts (set timeColumn instead)", c)
		case c != TimeColumn && isReserved(c):
			v.addf(join(qpath, "selects."+c), "%q is a reserved column name (reserved: %s)", c, strings.Join(ReservedColumns, ", "))
		case strings.TrimSpace(c) == "":
			v.addf(join(qpath, "selects"), "has an empty column name")
		}
	}
	if s.Entities != nil && s.Entities.MutationTable != "" && q.MutationTimeColumn == "" {
		v.addf(join(qpath, "mutationTimeColumn"), "is required with a mutationTable")
	}
	if q.Selects.Len() == 0 {
		return nil
	}
	cols := append([]string(nil), q.Selects.Keys()...)
	if q.TimeColumn != "" || s.Events != nil {
		cols = append(cols, TimeColumn)
	}
	return cols
}

func (v *validator) groupBy(path string, g *GroupBy) {
	if g == nil {
		v.addf(path, "is required")
		return
	}
	v.metaData(join(path, "metaData"), g.MetaData)
	if _, err := g.EffectiveWindowTail(""); err != nil && g.MetaData != nil && json.Valid([]byte(g.MetaData.CustomJSON)) {
		v.addf(join(path, "metaData.customJson"), "%v", err)
	}
	v.date(join(path, "backfillStartDate"), g.BackfillStartDate)
	if len(g.Sources) == 0 {
		v.addf(join(path, "sources"), "at least one source is required")
	}
	var selected map[string]bool // nil when any source selects *
	for i, s := range g.Sources {
		sp := idx(join(path, "sources"), i)
		cols := v.source(sp, s)
		if s != nil && s.DataModel() != g.DataModel() {
			v.addf(sp, "is %s but sources[0] is %s: all sources must share one data model", s.DataModel(), g.DataModel())
		}
		if cols == nil {
			continue
		}
		set := toSet(cols)
		if i == 0 {
			selected = set
		}
		for _, k := range g.KeyColumns {
			if !set[k] {
				v.addf(join(sp, sourceQueryField(s)+".selects"), "missing key column %q", k)
			}
		}
		if s.Events != nil && g.InferredAccuracy() == Temporal && s.Events.Query.TimeColumn == "" {
			v.addf(join(sp, "events.query.timeColumn"), "is required for a TEMPORAL events source")
		}
	}
	if len(g.KeyColumns) == 0 {
		v.addf(join(path, "keyColumns"), "at least one key column is required")
	}
	v.unique(join(path, "keyColumns"), g.KeyColumns, "key column")
	snapshotEvents := g.InferredAccuracy() == Snapshot && g.DataModel() == EventsModel
	for i, a := range g.Aggregations {
		v.aggregation(idx(join(path, "aggregations"), i), a, selected, snapshotEvents)
	}
	if len(g.Aggregations) == 0 && len(g.Sources) > 0 && g.Sources[0].Query().GetSelects().Len() == 0 {
		v.addf(join(path, "sources[0]"), "a GroupBy without aggregations needs selects to name its value columns")
	}
	v.derivations(join(path, "derivations"), g.Derivations)
	if !g.complete() {
		return
	}
	cols := g.ValueColumns()
	v.unique(join(path, "aggregations"), cols, "output column")
	keys := toSet(g.KeyColumns)
	for _, c := range cols {
		if keys[c] {
			v.addf(join(path, "aggregations"), "output column %q has the name of a key column", c)
		}
	}
}

func sourceQueryField(s *Source) string {
	switch {
	case s.Entities != nil:
		return "entities.query"
	case s.JoinSource != nil:
		return "joinSource.query"
	}
	return "events.query"
}

func (v *validator) unique(path string, xs []string, what string) {
	seen := map[string]bool{}
	for _, x := range xs {
		if seen[x] {
			v.addf(path, "duplicate %s %q", what, x)
		}
		seen[x] = true
	}
}

func (v *validator) aggregation(path string, a *Aggregation, selected map[string]bool, snapshotEvents bool) {
	if a == nil {
		v.addf(path, "is empty")
		return
	}
	if !a.Operation.Valid() {
		v.addf(join(path, "operation"), "unknown operation %d (valid: 0..%d)", a.Operation, len(operationNames)-1)
		return
	}
	if a.InputColumn == "" {
		v.addf(join(path, "inputColumn"), "is required")
	} else if selected != nil && !selected[a.InputColumn] {
		v.addf(join(path, "inputColumn"), "%q is not selected by the source", a.InputColumn)
	}
	k, hasK := a.ArgMap["k"]
	switch {
	case a.Operation.NeedsK() && !hasK:
		v.addf(join(path, "argMap.k"), "%s needs `k` to be specified in the argMap", strings.ToUpper(a.Operation.String()))
	case hasK:
		if n, err := strconv.Atoi(k); err != nil || n < 0 || (a.Operation.NeedsK() && n == 0) {
			v.addf(join(path, "argMap.k"), "must be a positive integer, got %q", k)
		}
	}
	if p, ok := a.ArgMap["percentiles"]; ok {
		var ps []float64
		if err := json.Unmarshal([]byte(p), &ps); err != nil || len(ps) == 0 {
			v.addf(join(path, "argMap.percentiles"), "must be a JSON array of numbers like [0.5, 0.99], got %q", p)
		}
		for _, x := range ps {
			if x < 0 || x > 1 {
				v.addf(join(path, "argMap.percentiles"), "percentile %v is outside [0, 1]", x)
			}
		}
	}
	for i, w := range a.Windows {
		wp := idx(join(path, "windows"), i)
		if w.TimeUnit != UnitHours && w.TimeUnit != UnitDays {
			v.addf(join(wp, "timeUnit"), "unknown time unit %d (0 = HOURS, 1 = DAYS)", w.TimeUnit)
		}
		if w.Length <= 0 {
			v.addf(join(wp, "length"), "must be positive, got %d", w.Length)
		}
		if snapshotEvents && w.TimeUnit == UnitHours {
			v.addf(wp, "hour window %s on a SNAPSHOT events GroupBy: snapshots are daily, use day windows or accuracy TEMPORAL", w)
		}
	}
	v.unique(join(path, "windows"), windowStrings(a.Windows), "window")
	for i, b := range a.Buckets {
		if selected != nil && !selected[b] {
			v.addf(idx(join(path, "buckets"), i), "bucket column %q is not selected by the source", b)
		}
	}
}

func windowStrings(ws []Window) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.String()
	}
	return out
}

func (v *validator) derivations(path string, ds []*Derivation) {
	seen := map[string]bool{}
	for i, d := range ds {
		dp := idx(path, i)
		switch {
		case d == nil || strings.TrimSpace(d.Name) == "":
			v.addf(join(dp, "name"), "is required")
			continue
		case strings.TrimSpace(d.Expression) == "":
			v.addf(join(dp, "expression"), "is required")
		case d.Name == "*" && d.Expression != "*":
			v.addf(join(dp, "expression"), `name "*" needs expression "*"`)
		}
		if seen[d.Name] {
			v.addf(join(dp, "name"), "duplicate derivation %q", d.Name)
		}
		if isReserved(d.Name) {
			v.addf(join(dp, "name"), "%q is a reserved column name", d.Name)
		}
		seen[d.Name] = true
	}
}

func (v *validator) join(path string, j *Join) {
	if j == nil {
		v.addf(path, "is required")
		return
	}
	v.metaData(join(path, "metaData"), j.MetaData)
	leftCols := v.source(join(path, "left"), j.Left)
	var left map[string]bool
	if leftCols != nil {
		left = toSet(leftCols)
	}
	if j.Left != nil && j.Left.JoinSource != nil {
		v.addf(join(path, "left"), "a join's left side must be events or entities")
	}
	if len(j.JoinParts) == 0 && len(j.OnlineExternalParts) == 0 {
		v.addf(join(path, "joinParts"), "at least one join part is required")
	}
	for i, jp := range j.JoinParts {
		v.joinPart(idx(join(path, "joinParts"), i), jp, left)
	}
	for i, ep := range j.OnlineExternalParts {
		ep := ep
		epPath := idx(join(path, "onlineExternalParts"), i)
		if ep == nil || ep.Source == nil || ep.Source.MetaData.GetName() == "" {
			v.addf(join(epPath, "source.metadata.name"), "is required")
		}
	}
	for i, r := range j.RowIDs {
		if left != nil && !left[r] {
			v.addf(idx(join(path, "rowIds"), i), "row id %q is not a left column", r)
		}
	}
	for i, b := range j.BootstrapParts {
		bp := idx(join(path, "bootstrapParts"), i)
		if b == nil || b.Table == "" {
			v.addf(join(bp, "table"), "is required")
			continue
		}
		if len(b.KeyColumns) == 0 && len(j.RowIDs) == 0 {
			v.addf(join(bp, "keyColumns"), "is required when the join has no rowIds")
		}
		if b.Query != nil {
			v.date(join(bp, "query.startPartition"), b.Query.StartPartition)
			v.date(join(bp, "query.endPartition"), b.Query.EndPartition)
		}
	}
	if lp := j.LabelPart; lp != nil {
		lpath := join(path, "labelPart")
		if lp.LeftStartOffset < 0 || lp.LeftEndOffset < 0 {
			v.addf(lpath, "offsets must not be negative")
		}
		if lp.LeftStartOffset < lp.LeftEndOffset {
			v.addf(join(lpath, "leftStartOffset"), "%d is less than leftEndOffset %d", lp.LeftStartOffset, lp.LeftEndOffset)
		}
		for i, l := range lp.Labels {
			v.joinPart(idx(join(lpath, "labels"), i), l, left)
		}
	}
	v.derivations(join(path, "derivations"), j.Derivations)
	if j.complete() {
		v.unique(join(path, "joinParts"), j.BaseValueColumns(), "output column (set a prefix on one of the parts)")
		leftOut := toSet(j.LeftColumns(nil))
		for _, c := range j.BaseValueColumns() {
			if leftOut[c] {
				v.addf(join(path, "joinParts"), "output column %q has the name of a left column", c)
			}
		}
	}
}

func (v *validator) joinPart(path string, jp *JoinPart, left map[string]bool) {
	if jp == nil || jp.GroupBy == nil {
		v.addf(join(path, "groupBy"), "is required")
		return
	}
	v.groupBy(join(path, "groupBy"), jp.GroupBy)
	keys := toSet(jp.GroupBy.KeyColumns)
	for _, l := range sortedKeys(jp.KeyMapping) {
		if r := jp.KeyMapping[l]; !keys[r] {
			v.addf(join(path, "keyMapping."+l), "maps to %q, which is not a key of %s (keys: %s)",
				r, jp.GroupBy.MetaData.GetName(), strings.Join(jp.GroupBy.KeyColumns, ", "))
		}
	}
	if left == nil {
		return
	}
	for _, l := range sortedKeys(jp.LeftToRight()) {
		if !left[l] {
			v.addf(join(path, "keyMapping"), "left column %q (joined to %s) is not selected by the left source", l, jp.GroupBy.MetaData.GetName())
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// complete reports whether the GroupBy has no nil parts, so its column names
// can be derived.
func (g *GroupBy) complete() bool {
	for _, a := range g.Aggregations {
		if a == nil {
			return false
		}
	}
	for _, d := range g.Derivations {
		if d == nil {
			return false
		}
	}
	return true
}

// complete reports whether the Join has no nil parts, so its column names
// can be derived.
func (j *Join) complete() bool {
	if j.Left == nil {
		return false
	}
	for _, jp := range j.JoinParts {
		if jp == nil || jp.GroupBy == nil || !jp.GroupBy.complete() {
			return false
		}
	}
	for _, d := range j.Derivations {
		if d == nil {
			return false
		}
	}
	return true
}
