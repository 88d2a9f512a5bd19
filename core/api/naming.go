// SPDX-License-Identifier: Apache-2.0

package api

import (
	"fmt"
	"math"
	"strings"
)

// Reserved column names (Chronon's Constants.scala).
const (
	TimeColumn          = "ts"
	PartitionColumn     = "ds"
	TimePartitionColumn = "ts_ds"
	ReversalColumn      = "is_before"
	MutationTimeColumn  = "mutation_ts"
	LabelPartitionCol   = "label_ds"
)

// ReservedColumns are the column names a definition may not produce itself.
var ReservedColumns = []string{TimeColumn, PartitionColumn, TimePartitionColumn, ReversalColumn, MutationTimeColumn, LabelPartitionCol}

// MetadataDataset is the KV dataset holding uploaded definitions (Chronon:
// ZIPLINE_METADATA).
const MetadataDataset = "CHRONON_METADATA"

// ServingInfoKey is the key of the GroupByServingInfo row in a batch dataset.
const ServingInfoKey = "group_by_serving_info"

// LogTable is the raw table of fetch logs (namespace from chronon.yaml).
const LogTable = "chronon_log_table"

// Sanitize replaces every character outside [a-zA-Z0-9_] with '_', as
// Chronon does for table and column names.
func Sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// Days returns a window of n days.
func Days(n int32) Window { return Window{Length: n, TimeUnit: UnitDays} }

// Hours returns a window of n hours.
func Hours(n int32) Window { return Window{Length: n, TimeUnit: UnitHours} }

// Unbounded reports whether the window covers all time (length <= 0 or
// Int.MaxValue, as in Chronon).
func (w Window) Unbounded() bool { return w.Length <= 0 || w.Length == math.MaxInt32 }

// Millis returns the window length in milliseconds; 0 when unbounded.
func (w Window) Millis() int64 {
	if w.Unbounded() {
		return 0
	}
	return int64(w.Length) * w.TimeUnit.Millis()
}

// String returns the window as written in column names and YAML: "3d", "1h".
func (w Window) String() string {
	if w.Unbounded() {
		return "unbounded"
	}
	return fmt.Sprintf("%d%s", w.Length, w.TimeUnit.Suffix())
}

// ParseWindow parses "3d", "14d", "1h" (also "3 days", "12 hours").
func ParseWindow(s string) (Window, error) {
	t := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	unit := UnitDays
	var num string
	switch {
	case strings.HasSuffix(t, "days"):
		num = strings.TrimSuffix(t, "days")
	case strings.HasSuffix(t, "day"):
		num = strings.TrimSuffix(t, "day")
	case strings.HasSuffix(t, "d"):
		num = strings.TrimSuffix(t, "d")
	case strings.HasSuffix(t, "hours"):
		num, unit = strings.TrimSuffix(t, "hours"), UnitHours
	case strings.HasSuffix(t, "hour"):
		num, unit = strings.TrimSuffix(t, "hour"), UnitHours
	case strings.HasSuffix(t, "h"):
		num, unit = strings.TrimSuffix(t, "h"), UnitHours
	default:
		return Window{}, fmt.Errorf("bad window %q: want a length and a unit, e.g. 3d or 12h", s)
	}
	var n int64
	if _, err := fmt.Sscanf(num, "%d", &n); err != nil || fmt.Sprint(n) != num || n <= 0 || n > math.MaxInt32-1 {
		return Window{}, fmt.Errorf("bad window %q: length must be a positive integer", s)
	}
	return Window{Length: int32(n), TimeUnit: unit}, nil
}

// Unpack expands an aggregation into its parts, one per output column:
// bucket-major, window-minor; no windows gives one unbounded part and no
// buckets one unbucketed part (Chronon's Aggregation.unpack).
func (a *Aggregation) Unpack() []AggregationPart {
	buckets := a.Buckets
	if len(buckets) == 0 {
		buckets = []string{""}
	}
	var out []AggregationPart
	for _, b := range buckets {
		if len(a.Windows) == 0 {
			out = append(out, a.part(nil, b))
			continue
		}
		for i := range a.Windows {
			w := a.Windows[i]
			if w.Unbounded() {
				out = append(out, a.part(nil, b))
			} else {
				out = append(out, a.part(&w, b))
			}
		}
	}
	return out
}

func (a *Aggregation) part(w *Window, bucket string) AggregationPart {
	return AggregationPart{InputColumn: a.InputColumn, Operation: a.Operation, ArgMap: a.ArgMap,
		Window: w, Bucket: bucket, ElementWise: a.ElementWise}
}

// OutputColumnName is Chronon's name for the part's column:
// {input}_{op}{_window}{_by_bucket}, e.g. purchase_price_last10,
// purchase_price_sum_3d.
func (p AggregationPart) OutputColumnName() string {
	var b strings.Builder
	b.WriteString(p.InputColumn)
	b.WriteByte('_')
	b.WriteString(p.opSuffix())
	if p.Window != nil && !p.Window.Unbounded() {
		b.WriteByte('_')
		b.WriteString(p.Window.String())
	}
	if p.Bucket != "" {
		b.WriteString("_by_")
		b.WriteString(p.Bucket)
	}
	return b.String()
}

func (p AggregationPart) opSuffix() string {
	k := p.ArgMap["k"]
	switch p.Operation {
	case OpLastK:
		return "last" + k
	case OpFirstK:
		return "first" + k
	case OpTopK:
		return "top" + k
	case OpBottomK:
		return "bottom" + k
	}
	return p.Operation.String()
}

// GetName returns the metadata's name, or "" for nil metadata.
func (m *MetaData) GetName() string {
	if m == nil {
		return ""
	}
	return m.Name
}

// GetCustomJSON returns the metadata's customJson, or "" for nil metadata.
func (m *MetaData) GetCustomJSON() string {
	if m == nil {
		return ""
	}
	return m.CustomJSON
}

// CleanName is the sanitized name, e.g. quickstart_purchases_v1.
func (m *MetaData) CleanName() string { return Sanitize(m.GetName()) }

// OutputTable is "{outputNamespace}.{sanitize(name)}", e.g.
// default.quickstart_training_set_v1.
func (m *MetaData) OutputTable() string {
	return m.OutputNamespace + "." + m.CleanName()
}

// TableWithSuffix returns the output table with a suffix such as "_logged".
func (m *MetaData) TableWithSuffix(suffix string) string { return m.OutputTable() + suffix }

// Table suffixes Chronon uses for a Join's and GroupBy's derived tables.
const (
	SuffixUpload         = "_upload"
	SuffixLogged         = "_logged"
	SuffixSchema         = "_schema"
	SuffixBootstrap      = "_bootstrap"
	SuffixLabels         = "_labels"
	SuffixLabeled        = "_labeled"
	SuffixLabeledLatest  = "_labeled_latest"
	SuffixConsistency    = "_consistency"
	SuffixDailyStats     = "_daily_stats"
	SuffixLoggedStats    = "_logged_daily_stats"
	SuffixComparison     = "_comparison"
	SuffixIncremental    = "_daily_inc"
	SuffixConsistencyUpl = "_consistency_upload"
)

// NameToFilePath returns the compiled file path under production/<kind>/ for
// a name: the first "." becomes "/" (quickstart.purchases.v1 ->
// quickstart/purchases.v1).
func NameToFilePath(name string) string {
	return strings.Replace(name, ".", "/", 1)
}

// BatchDataset is the KV dataset of a GroupBy's uploaded batch values.
func (m *MetaData) BatchDataset() string { return strings.ToUpper(m.CleanName()) + "_BATCH" }

// StreamingDataset is the KV dataset of a GroupBy's streaming updates.
func (m *MetaData) StreamingDataset() string {
	return strings.ToUpper(m.CleanName()) + "_STREAMING"
}

// DataModel is whether a GroupBy aggregates events or entities.
type DataModel int

// Data models.
const (
	EventsModel DataModel = iota
	EntitiesModel
)

// String returns "events" or "entities".
func (d DataModel) String() string {
	if d == EntitiesModel {
		return "entities"
	}
	return "events"
}

// DataModel is the source's data model; a JoinSource has its join's left
// source's model.
func (s *Source) DataModel() DataModel {
	switch {
	case s == nil:
		return EventsModel
	case s.Entities != nil:
		return EntitiesModel
	case s.JoinSource != nil && s.JoinSource.Join != nil:
		return s.JoinSource.Join.Left.DataModel()
	}
	return EventsModel
}

// Query returns the source's query, whichever kind it is.
func (s *Source) Query() *Query {
	switch {
	case s == nil:
		return nil
	case s.Events != nil:
		return s.Events.Query
	case s.Entities != nil:
		return s.Entities.Query
	case s.JoinSource != nil:
		return s.JoinSource.Query
	}
	return nil
}

// Table returns the table the source reads: the events table, the snapshot
// table, or the join's output table.
func (s *Source) Table() string {
	switch {
	case s == nil:
		return ""
	case s.Events != nil:
		return s.Events.Table
	case s.Entities != nil:
		return s.Entities.SnapshotTable
	case s.JoinSource != nil && s.JoinSource.Join != nil:
		return s.JoinSource.Join.MetaData.OutputTable()
	}
	return ""
}

// Topic returns the source's streaming topic (events topic or mutation
// topic), if any.
func (s *Source) Topic() string {
	switch {
	case s == nil:
		return ""
	case s.Events != nil:
		return s.Events.Topic
	case s.Entities != nil:
		return s.Entities.MutationTopic
	}
	return ""
}

// DataModel is the GroupBy's data model (that of its first source).
func (g *GroupBy) DataModel() DataModel {
	if len(g.Sources) == 0 {
		return EventsModel
	}
	return g.Sources[0].DataModel()
}

// InferredAccuracy is the explicit accuracy if set; else TEMPORAL if any
// source has a topic, else SNAPSHOT (Chronon's GroupByOps.inferredAccuracy).
func (g *GroupBy) InferredAccuracy() Accuracy {
	if g.Accuracy != nil {
		return *g.Accuracy
	}
	for _, s := range g.Sources {
		if s.Topic() != "" {
			return Temporal
		}
	}
	return Snapshot
}

// AggregationParts returns every output part of every aggregation, in order.
func (g *GroupBy) AggregationParts() []AggregationPart {
	var out []AggregationPart
	for _, a := range g.Aggregations {
		out = append(out, a.Unpack()...)
	}
	return out
}

// BaseValueColumns are the GroupBy's columns before derivations: one per
// aggregation part, or, without aggregations, the first source's selects
// minus the key columns.
func (g *GroupBy) BaseValueColumns() []string {
	if len(g.Aggregations) > 0 {
		parts := g.AggregationParts()
		out := make([]string, len(parts))
		for i, p := range parts {
			out[i] = p.OutputColumnName()
		}
		return out
	}
	if len(g.Sources) == 0 {
		return nil
	}
	keys := toSet(g.KeyColumns)
	var out []string
	for _, c := range g.Sources[0].Query().GetSelects().Keys() {
		if !keys[c] {
			out = append(out, c)
		}
	}
	return out
}

// ValueColumns are the GroupBy's output value columns after derivations.
func (g *GroupBy) ValueColumns() []string {
	return DerivedColumns(g.BaseValueColumns(), g.Derivations)
}

// GetSelects returns the query's selects (nil-safe).
func (q *Query) GetSelects() *OrderedMap {
	if q == nil {
		return nil
	}
	return q.Selects
}

// DerivedColumns applies derivations to base columns, Chronon's rule: without
// "*" the result is the derived names; with "*" the base columns are kept,
// except those used verbatim as another derivation's expression (a rename),
// followed by the derived names not already present.
func DerivedColumns(base []string, derivations []*Derivation) []string {
	if len(derivations) == 0 {
		return base
	}
	star := false
	renamed := map[string]bool{}
	for _, d := range derivations {
		if d.Name == "*" {
			star = true
			continue
		}
		renamed[strings.TrimSpace(d.Expression)] = true
	}
	var out []string
	seen := map[string]bool{}
	if star {
		for _, c := range base {
			if !renamed[c] {
				out = append(out, c)
				seen[c] = true
			}
		}
	}
	for _, d := range derivations {
		if d.Name != "*" && !seen[d.Name] {
			out = append(out, d.Name)
			seen[d.Name] = true
		}
	}
	return out
}

// FullPrefix is the prefix of the part's columns: "[prefix_]" +
// sanitize(group-by name). A nil prefix is omitted; "" yields a leading "_".
func (jp *JoinPart) FullPrefix() string {
	name := Sanitize(jp.GroupBy.MetaData.GetName())
	if jp.Prefix == nil {
		return name
	}
	return *jp.Prefix + "_" + name
}

// LeftToRight maps each left key column to the group-by key it joins with:
// keyMapping entries, and unmapped group-by keys to themselves.
func (jp *JoinPart) LeftToRight() map[string]string {
	out := map[string]string{}
	mapped := map[string]bool{}
	for l, r := range jp.KeyMapping {
		out[l] = r
		mapped[r] = true
	}
	for _, k := range jp.GroupBy.KeyColumns {
		if !mapped[k] {
			out[k] = k
		}
	}
	return out
}

// ValueColumns are the part's columns in the join output, prefixed.
func (jp *JoinPart) ValueColumns() []string {
	prefix := jp.FullPrefix()
	cols := jp.GroupBy.ValueColumns()
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = prefix + "_" + c
	}
	return out
}

// PartOutputTable is the table holding one join part's backfill:
// "{join output table}_{[prefix_]}{sanitize(gb name)}".
func (j *Join) PartOutputTable(jp *JoinPart) string {
	return j.MetaData.OutputTable() + "_" + jp.FullPrefix()
}

// LeftColumns are the columns the left side contributes: its selects (every
// column of the table when it has no selects, given as tableColumns), ts for
// events, and ds.
func (j *Join) LeftColumns(tableColumns []string) []string {
	var out []string
	if sel := j.Left.Query().GetSelects(); sel.Len() > 0 {
		out = append(out, sel.Keys()...)
	} else {
		for _, c := range tableColumns {
			if c != TimeColumn && c != PartitionColumn {
				out = append(out, c)
			}
		}
	}
	if j.Left.DataModel() == EventsModel {
		out = append(out, TimeColumn)
	}
	return append(out, PartitionColumn)
}

// ExternalFullName is "ext_[prefix_]sanitize(source name)"; external columns
// are FullName + "_" + value field.
func (ep *ExternalPart) FullName() string {
	name := Sanitize(ep.Source.MetaData.GetName())
	if ep.Prefix != nil {
		return "ext_" + *ep.Prefix + "_" + name
	}
	return "ext_" + name
}

// BaseValueColumns are the join's columns before derivations: the join
// parts' prefixed value columns, in order (external parts are online only).
func (j *Join) BaseValueColumns() []string {
	var out []string
	for _, jp := range j.JoinParts {
		out = append(out, jp.ValueColumns()...)
	}
	return out
}

// OutputColumns are the join output table's columns: the left columns and
// the value columns after derivations (a derived column named like a left
// column replaces it in place).
func (j *Join) OutputColumns(tableColumns []string) []string {
	left := j.LeftColumns(tableColumns)
	seen := toSet(left)
	out := append([]string(nil), left...)
	for _, c := range DerivedColumns(j.BaseValueColumns(), j.Derivations) {
		if !seen[c] {
			out = append(out, c)
			seen[c] = true
		}
	}
	return out
}

func toSet(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}
