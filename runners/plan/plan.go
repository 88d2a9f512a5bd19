// SPDX-License-Identifier: Apache-2.0

package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// DescribeFunc returns a table's description, as warehouse.Warehouse's
// Describe does (callers bind its context). A table that does not exist is
// reported as an error wrapping warehouse.ErrTableNotFound, or as (nil, nil).
type DescribeFunc func(table string) (*warehouse.TableInfo, error)

// Options configure planning. The zero value plans the whole available
// range with exact window tails and lenient event inputs.
type Options struct {
	// Start and End bound the output partitions, both inclusive
	// ("YYYY-MM-DD"). For a Join, an empty Start defaults to the left
	// table's first partition (not before the left query's startPartition)
	// and an empty End to its last partition (not after endPartition); a
	// given range is clamped to the left query's startPartition and
	// endPartition. For a GroupBy, an empty Start defaults to its
	// backfillStartDate, else to the first partition of its first source's
	// table, and an empty End to that table's last partition.
	Start, End string
	// WindowTail is chronon.yaml's window_tail ("exact" or "hop"); it enters
	// the semantic hashes. The default value "" means "exact".
	WindowTail string
	// Strict makes missing partitions of event and mutation tables errors
	// (--strict-inputs). The default (false) lists them as warnings: a day
	// may simply have had no events.
	Strict bool
}

// Role says how a backfill reads an input table.
type Role string

// Input roles.
const (
	// RoleLeft is a Join's left table: one partition per output partition.
	RoleLeft Role = "left"
	// RoleSnapshot is an entity snapshot table (or the output of a join with
	// an entities left): one partition per output day, D-1 or D.
	RoleSnapshot Role = "snapshot"
	// RoleEvents is an event table read over the longest window.
	RoleEvents Role = "events"
	// RoleMutations is an entity mutation table, read for TEMPORAL entity
	// GroupBys of an events left.
	RoleMutations Role = "mutations"
	// RoleCumulative is a cumulative event table: only its latest partition
	// (or the query's endPartition) is read.
	RoleCumulative Role = "cumulative"
	// RoleBootstrap is a Join's bootstrap table: each output partition's
	// day, when it has one (a missing day bootstraps nothing).
	RoleBootstrap Role = "bootstrap"
)

// Required reports whether every partition of an input in this role must
// exist: left, snapshot and cumulative inputs. Event and mutation tables may
// lack days (no events that day) unless Options.Strict is set.
func (r Role) Required() bool {
	return r == RoleLeft || r == RoleSnapshot || r == RoleCumulative
}

// ErrMissingPartition is wrapped by every *MissingError. Use errors.Is.
var ErrMissingPartition = errors.New("plan: missing input partition")

// MissingError reports input partitions a backfill needs that a table
// lacks. It wraps ErrMissingPartition.
type MissingError struct {
	// Table is the input table.
	Table string
	// Partitions are the missing partitions, sorted.
	Partitions []string
	// Role is how the table is read.
	Role Role
	// ReadBy names the definitions that read the table this way.
	ReadBy []string
	// Note adds context, e.g. the join that produces the table.
	Note string
}

// Error implements error, e.g. `missing partition data.users/ds=2023-11-29
// (snapshot read by quickstart.users.v1)`.
func (e *MissingError) Error() string {
	var b strings.Builder
	if len(e.Partitions) == 1 {
		fmt.Fprintf(&b, "missing partition %s/ds=%s", e.Table, e.Partitions[0])
	} else {
		fmt.Fprintf(&b, "missing %d partitions of %s: %s", len(e.Partitions), e.Table, FormatPartitions(e.Partitions, 10))
	}
	fmt.Fprintf(&b, " (%s read by %s", e.Role, strings.Join(e.ReadBy, ", "))
	if e.Note != "" {
		b.WriteString("; ")
		b.WriteString(e.Note)
	}
	b.WriteString(")")
	return b.String()
}

// Unwrap returns ErrMissingPartition.
func (e *MissingError) Unwrap() error { return ErrMissingPartition }

// Input is one table a backfill reads, in one role.
type Input struct {
	// Table is the table's name, "namespace.table".
	Table string
	// Role is how it is read.
	Role Role
	// ReadBy names the definitions reading it: the Join for its left, the
	// GroupBys otherwise.
	ReadBy []string
	// Partitions are the partitions read, sorted.
	Partitions []string
	// Absent are the Partitions the table lacks.
	Absent []string
	// Note adds context, e.g. "output of join team.name.v1".
	Note string
}

// Output is one table a backfill writes.
type Output struct {
	// Table is the table's name.
	Table string
	// Part is the GroupBy name for a join part table, "" for the main
	// output table.
	Part string
	// SemanticHash is the hash to store with the written partitions
	// (warehouse.WriteOptions.SemanticHash).
	SemanticHash string
	// StoredHash is the table's current hash, "" when absent or unset.
	StoredHash string
	// Exists reports whether the table exists.
	Exists bool
	// Stale reports that the table was computed by another definition: the
	// runner drops it (every partition) before writing Compute.
	Stale bool
	// Changed lists the semantic hash keys that differ when the hashes are
	// JSON maps (a Join's left_source, part tables, derivations).
	Changed []string
	// Compute are the partitions to compute, sorted.
	Compute []string
}

// Plan is what a backfill would compute and read.
type Plan struct {
	// Kind is api.KindJoin or api.KindGroupBy.
	Kind api.Kind
	// Name is the definition's name.
	Name string
	// Start and End are the planned range of output partitions (empty when
	// the range is empty).
	Start, End string
	// Schema is the main output table's schema, ds included.
	Schema *arrow.Schema
	// Outputs are the tables written: the main output table first, then a
	// Join's part tables in join part order.
	Outputs []*Output
	// Bootstrap is a Join's `_bootstrap` table (nil without bootstrap
	// parts): the left rows with their bootstrapped values, written for
	// every output partition computed.
	Bootstrap *Output
	// Compute are the main output table's partitions to compute.
	Compute []string
	// Inputs are the tables read, in order of first use.
	Inputs []*Input
	// Required maps each input table to every partition the backfill reads
	// from it, sorted.
	Required map[string][]string
	// Missing lists a *MissingError per input whose required partitions are
	// absent (event gaps too, with Options.Strict).
	Missing []error
	// Warnings are problems that do not stop a backfill.
	Warnings []string
}

// Err returns the missing inputs joined into one error, or nil.
func (p *Plan) Err() error {
	if len(p.Missing) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w", p.Name, errors.Join(p.Missing...))
}

// OutputPartitions returns the partitions of days to compute in an output
// table described by info (nil when absent) for a definition whose semantic
// hash is hash: all of them when the table is stale (it stores a different
// hash), else those the table lacks. A table without a stored hash is not
// stale.
func OutputPartitions(info *warehouse.TableInfo, days []string, hash string) (compute []string, stale bool) {
	stale = info != nil && info.SemanticHash != "" && !sameHash(info.SemanticHash, hash)
	have := map[string]bool{}
	if info != nil && !stale {
		for _, p := range info.Partitions {
			have[p.DS] = true
		}
	}
	for _, d := range days {
		if !have[d] {
			compute = append(compute, d)
		}
	}
	return compute, stale
}

// JoinTableHash returns the semantic hash stored with a Join's main output
// table: the JSON of api.Join.SemanticHashes under windowTail.
func JoinTableHash(j *api.Join, windowTail string) string {
	return encodeHashes(j.SemanticHashes(windowTail))
}

// JoinPartTableHash returns the semantic hash stored with a join part's
// table: the JSON of the part's and the left source's entries of
// api.Join.SemanticHashes, so that a change of either recomputes it.
func JoinPartTableHash(j *api.Join, jp *api.JoinPart, windowTail string) string {
	return partHash(j.SemanticHashes(windowTail), j.PartOutputTable(jp))
}

func partHash(hashes map[string]string, partTable string) string {
	m := map[string]string{
		api.LeftSourceHashKey: hashes[api.LeftSourceHashKey],
		partTable:             hashes[partTable],
	}
	// A part table holds only the rows bootstrap left uncovered, so a
	// bootstrap change recomputes it (Chronon drops every part table).
	for k, v := range hashes {
		if strings.HasSuffix(k, api.SuffixBootstrap) {
			m[k] = v
		}
	}
	return encodeHashes(m)
}

func encodeHashes(m map[string]string) string {
	b, err := json.Marshal(m) // sorted keys
	if err != nil {
		panic(err) // a map of strings always marshals
	}
	return string(b)
}

// sameHash compares hashes, as JSON maps when both are.
func sameHash(stored, current string) bool {
	if stored == current {
		return true
	}
	a, b, ok := hashMaps(stored, current)
	return ok && maps.Equal(a, b)
}

func hashMaps(stored, current string) (a, b map[string]string, ok bool) {
	if json.Unmarshal([]byte(stored), &a) != nil || json.Unmarshal([]byte(current), &b) != nil {
		return nil, nil, false
	}
	return a, b, true
}

// changedKeys lists the keys whose values differ between two JSON hash maps.
func changedKeys(stored, current string) []string {
	a, b, ok := hashMaps(stored, current)
	if !ok {
		return nil
	}
	var out []string
	for k, v := range b {
		if old, ok := a[k]; !ok || old != v {
			out = append(out, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// PlanJoin plans the backfill of a Join over opts' range: its output schema,
// the main and join part table partitions to compute, and the inputs they
// read (see the package documentation). It returns an error for a problem
// with the definition or the range; missing input partitions are reported in
// the plan (Missing, Warnings; see Plan.Err).
func PlanJoin(j *api.Join, describe DescribeFunc, opts Options) (*Plan, error) {
	if j == nil {
		return nil, errors.New("plan: nil Join")
	}
	name := j.MetaData.GetName()
	schema, err := JoinOutputSchema(j, SchemaOf(describe))
	if err != nil {
		return nil, err
	}
	for i, jp := range j.JoinParts {
		if _, err := jp.GroupBy.EffectiveWindowTail(opts.WindowTail); err != nil {
			return nil, fmt.Errorf("%s: joinParts[%d]: %w", name, i, err)
		}
	}
	b := newBuilder(describe, opts)
	leftTable := j.Left.Table()
	lt, err := b.table(leftTable)
	if err != nil {
		return nil, err
	}
	q := j.Left.Query()
	var qStart, qEnd string
	if q != nil {
		qStart, qEnd = q.StartPartition, q.EndPartition
	}
	days, err := b.resolveRange(name, "left table "+leftTable, opts.Start, opts.End, qStart, qEnd, lt, true)
	if err != nil {
		return nil, err
	}
	p := &Plan{Kind: api.KindJoin, Name: name, Schema: schema}
	if len(days) > 0 {
		p.Start, p.End = days[0].String(), days[len(days)-1].String()
	}
	hashes := j.SemanticHashes(opts.WindowTail)
	main, compute, err := b.output(j.MetaData.OutputTable(), "", days, encodeHashes(hashes))
	if err != nil {
		return nil, err
	}
	p.Outputs = append(p.Outputs, main)
	p.Compute = main.Compute
	b.need(leftTable, RoleLeft, name, "", daySetOf(compute))
	left := eventsLeft
	if j.Left.DataModel() == api.EntitiesModel {
		left = entitiesLeft
	}
	if len(j.BootstrapParts) > 0 {
		if p.Bootstrap, _, err = b.output(j.MetaData.TableWithSuffix(api.SuffixBootstrap), "", compute, BootstrapTableHash(j, opts.WindowTail)); err != nil {
			return nil, err
		}
		// Rows are enriched wherever the output is computed.
		p.Bootstrap.Compute = dayStrings(compute)
		for _, bp := range j.BootstrapParts {
			days := daySet{}
			for _, d := range compute {
				ds := d.String()
				if q := bp.Query; q == nil || (q.StartPartition == "" || ds >= q.StartPartition) && (q.EndPartition == "" || ds <= q.EndPartition) {
					days[d] = true
				}
			}
			b.need(bp.Table, RoleBootstrap, name, "", days)
		}
	}
	for _, jp := range j.JoinParts {
		pt := j.PartOutputTable(jp)
		po, partDays, err := b.output(pt, jp.GroupBy.MetaData.GetName(), compute, partHash(hashes, pt))
		if err != nil {
			return nil, err
		}
		p.Outputs = append(p.Outputs, po)
		if err := b.groupByInputs(jp.GroupBy, left, partDays); err != nil {
			return nil, err
		}
	}
	if err := b.finish(p); err != nil {
		return nil, err
	}
	return p, nil
}

// PlanGroupBy plans the backfill of a GroupBy's daily snapshots over opts'
// range: its output schema, the partitions to compute and the inputs they
// read (see the package documentation). It returns an error for a problem
// with the definition or the range; missing input partitions are reported
// in the plan.
func PlanGroupBy(g *api.GroupBy, describe DescribeFunc, opts Options) (*Plan, error) {
	if g == nil {
		return nil, errors.New("plan: nil GroupBy")
	}
	name := g.MetaData.GetName()
	schema, err := GroupByOutputSchema(g, SchemaOf(describe))
	if err != nil {
		return nil, err
	}
	mode, err := g.EffectiveWindowTail(opts.WindowTail)
	if err != nil {
		return nil, err
	}
	b := newBuilder(describe, opts)
	src := g.Sources[0]
	st, err := b.table(src.Table())
	if err != nil {
		return nil, err
	}
	start := opts.Start
	if start == "" {
		start = g.BackfillStartDate
	}
	var qStart, qEnd string
	if q := src.Query(); q != nil {
		qStart, qEnd = q.StartPartition, q.EndPartition
	}
	days, err := b.resolveRange(name, "table "+src.Table()+" of sources[0]", start, opts.End, qStart, qEnd, st, false)
	if err != nil {
		return nil, err
	}
	p := &Plan{Kind: api.KindGroupBy, Name: name, Schema: schema}
	if len(days) > 0 {
		p.Start, p.End = days[0].String(), days[len(days)-1].String()
	}
	out, compute, err := b.output(g.MetaData.OutputTable(), "", days, g.SemanticHash(mode))
	if err != nil {
		return nil, err
	}
	p.Outputs = append(p.Outputs, out)
	p.Compute = out.Compute
	if err := b.groupByInputs(g, standalone, compute); err != nil {
		return nil, err
	}
	if err := b.finish(p); err != nil {
		return nil, err
	}
	return p, nil
}

// leftKind is what a GroupBy is computed for.
type leftKind int

const (
	// standalone: a GroupBy backfill, values as of the end of each day.
	standalone leftKind = iota
	// eventsLeft: a join part of an events left.
	eventsLeft
	// entitiesLeft: a join part of an entities left (end of each day).
	entitiesLeft
)

// tableState is what planning knows about one table.
type tableState struct {
	info    *warehouse.TableInfo
	present daySet
	// first and last are the first and last partitions; valid when
	// len(present) > 0.
	first, last day
}

func (t *tableState) hasPartitions() bool { return len(t.present) > 0 }

type inputKey struct {
	table string
	role  Role
}

type inputAcc struct {
	readBy []string
	days   daySet
	note   string
}

// builder accumulates a plan.
type builder struct {
	describe DescribeFunc
	opts     Options
	tables   map[string]*tableState
	inputs   map[inputKey]*inputAcc
	order    []inputKey
	warnings []string
}

func newBuilder(describe DescribeFunc, opts Options) *builder {
	return &builder{describe: describe, opts: opts, tables: map[string]*tableState{}, inputs: map[inputKey]*inputAcc{}}
}

func (b *builder) warnf(format string, args ...any) {
	b.warnings = append(b.warnings, fmt.Sprintf(format, args...))
}

// table describes a table once; an absent table has no info and no
// partitions.
func (b *builder) table(name string) (*tableState, error) {
	if t, ok := b.tables[name]; ok {
		return t, nil
	}
	info, err := b.describe(name)
	if errors.Is(err, warehouse.ErrTableNotFound) {
		info, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("plan: describe %s: %w", name, err)
	}
	t := &tableState{info: info, present: daySet{}}
	if info != nil {
		for i, p := range info.Partitions {
			d, err := parseDay("partition of "+name, p.DS)
			if err != nil {
				return nil, err
			}
			t.present[d] = true
			if i == 0 || d < t.first {
				t.first = d
			}
			if i == 0 || d > t.last {
				t.last = d
			}
		}
	}
	b.tables[name] = t
	return t, nil
}

// resolveRange returns the output days from optStart to optEnd, defaulting
// to the partitions of t (what names it) within the query's qStart and
// qEnd; with clamp, given bounds are clamped to qStart and qEnd too.
func (b *builder) resolveRange(def, what, optStart, optEnd, qStart, qEnd string, t *tableState, clamp bool) ([]day, error) {
	var qs, qe *day
	if qStart != "" {
		d, err := parseDay(def+": startPartition", qStart)
		if err != nil {
			return nil, err
		}
		qs = &d
	}
	if qEnd != "" {
		d, err := parseDay(def+": endPartition", qEnd)
		if err != nil {
			return nil, err
		}
		qe = &d
	}
	var start, end day
	switch {
	case optStart != "":
		d, err := parseDay("start", optStart)
		if err != nil {
			return nil, err
		}
		start = d
	case t.hasPartitions():
		start = t.first
		if qs != nil && *qs > start {
			start = *qs
		}
	case qs != nil:
		start = *qs
	default:
		return nil, fmt.Errorf("%s: no start partition: %s has no partitions; give a start", def, what)
	}
	switch {
	case optEnd != "":
		d, err := parseDay("end", optEnd)
		if err != nil {
			return nil, err
		}
		end = d
	case t.hasPartitions():
		end = t.last
		if qe != nil && *qe < end {
			end = *qe
		}
	case qe != nil:
		end = *qe
	default:
		return nil, fmt.Errorf("%s: no end partition: %s has no partitions; give an end", def, what)
	}
	if optStart != "" && optEnd != "" && start > end {
		return nil, fmt.Errorf("%s: start %s is after end %s", def, optStart, optEnd)
	}
	if clamp {
		if qs != nil && *qs > start {
			start = *qs
		}
		if qe != nil && *qe < end {
			end = *qe
		}
	}
	if start > end {
		b.warnf("%s: nothing to compute: the range %s..%s is empty within the left query's startPartition %q and endPartition %q",
			def, start, end, qStart, qEnd)
		return nil, nil
	}
	var days []day
	for d := start; d <= end; d++ {
		days = append(days, d)
	}
	return days, nil
}

// output plans one output table over days and returns it with the days to
// compute.
func (b *builder) output(table, part string, days []day, hash string) (*Output, []day, error) {
	t, err := b.table(table)
	if err != nil {
		return nil, nil, err
	}
	o := &Output{Table: table, Part: part, SemanticHash: hash, Exists: t.info != nil}
	if t.info != nil {
		o.StoredHash = t.info.SemanticHash
	}
	compute, stale := OutputPartitions(t.info, dayStrings(days), hash)
	o.Compute, o.Stale = compute, stale
	if stale {
		o.Changed = changedKeys(o.StoredHash, hash)
	} else if t.info != nil && o.StoredHash == "" && len(compute) < len(days) {
		b.warnf("%s has no semantic hash: its existing partitions are kept as they are", table)
	}
	var out []day
	if stale {
		out = days
	} else {
		for _, d := range days {
			if !t.present[d] {
				out = append(out, d)
			}
		}
	}
	return o, out, nil
}

// need records that readBy reads days of table in role.
func (b *builder) need(table string, role Role, readBy, note string, days daySet) {
	if len(days) == 0 {
		return
	}
	k := inputKey{table, role}
	acc, ok := b.inputs[k]
	if !ok {
		acc = &inputAcc{days: daySet{}, note: note}
		b.inputs[k] = acc
		b.order = append(b.order, k)
	}
	found := false
	for _, r := range acc.readBy {
		found = found || r == readBy
	}
	if !found {
		acc.readBy = append(acc.readBy, readBy)
	}
	for d := range days {
		acc.days[d] = true
	}
}

func daySetOf(ds []day) daySet {
	s := daySet{}
	for _, d := range ds {
		s[d] = true
	}
	return s
}

// maxWindow returns the longest window of g's aggregations in milliseconds;
// bounded is false when some aggregation (or a GroupBy without
// aggregations) reads all history.
func maxWindow(g *api.GroupBy) (ms int64, bounded bool) {
	if len(g.Aggregations) == 0 {
		return 0, false
	}
	for _, a := range g.Aggregations {
		if len(a.Windows) == 0 {
			return 0, false
		}
		for _, w := range a.Windows {
			if w.Unbounded() {
				return 0, false
			}
			ms = max(ms, w.Millis())
		}
	}
	return ms, true
}

// groupByInputs records the inputs g reads to compute days for left.
func (b *builder) groupByInputs(g *api.GroupBy, left leftKind, days []day) error {
	if len(days) == 0 {
		return nil
	}
	name := g.MetaData.GetName()
	for i, s := range g.Sources {
		table := s.Table()
		note := ""
		if s.JoinSource != nil {
			note = "output of join " + s.JoinSource.Join.MetaData.GetName()
		}
		var qs, qe *day
		if q := s.Query(); q != nil {
			if q.StartPartition != "" {
				d, err := parseDay(fmt.Sprintf("%s: sources[%d] startPartition", name, i), q.StartPartition)
				if err != nil {
					return err
				}
				qs = &d
			}
			if q.EndPartition != "" {
				d, err := parseDay(fmt.Sprintf("%s: sources[%d] endPartition", name, i), q.EndPartition)
				if err != nil {
					return err
				}
				qe = &d
			}
		}
		inQuery := func(d day) bool { return (qs == nil || d >= *qs) && (qe == nil || d <= *qe) }
		t, err := b.table(table)
		if err != nil {
			return err
		}

		if s.DataModel() == api.EntitiesModel {
			snap := daySet{}
			for _, d := range days {
				sd := d
				if left == eventsLeft {
					sd = d - 1 // the snapshot as of the start of D
				}
				if inQuery(sd) {
					snap[sd] = true
				}
			}
			b.need(table, RoleSnapshot, name, note, snap)
			if left == eventsLeft && g.InferredAccuracy() == api.Temporal && s.Entities != nil && s.Entities.MutationTable != "" {
				mut := daySet{}
				for _, d := range days {
					if inQuery(d) {
						mut[d] = true
					}
				}
				b.need(s.Entities.MutationTable, RoleMutations, name, "", mut)
			}
			continue
		}

		if s.Events != nil && s.Events.IsCumulative {
			// Chronon reads the latest partition of a cumulative table.
			switch {
			case qe != nil:
				b.need(table, RoleCumulative, name, note, daySet{*qe: true})
			case t.hasPartitions():
				b.need(table, RoleCumulative, name, note, daySet{t.last: true})
			default:
				b.need(table, RoleCumulative, name, "the table has no partitions", daySet{days[len(days)-1]: true})
			}
			continue
		}

		// The first day the table holds: days before it are empty. A join's
		// output not computed yet will start where its left table starts.
		var lower *day
		if t.hasPartitions() {
			lo := t.first
			lower = &lo
		} else if s.JoinSource != nil && s.JoinSource.Join.Left != nil {
			lt, err := b.table(s.JoinSource.Join.Left.Table())
			if err != nil {
				return err
			}
			if lt.hasPartitions() {
				lo := lt.first
				lower = &lo
			}
		}
		if qs != nil && (lower == nil || *qs > *lower) {
			lower = qs
		}
		ms, bounded := maxWindow(g)
		if !bounded && lower == nil {
			b.warnf("%s: %s has no partitions: %s reads no events from it", name, table, name)
			continue
		}
		w := ceilDays(ms)
		accuracy := g.InferredAccuracy()
		var xs []interval
		for _, d := range days {
			var lo, hi day
			switch {
			case left == eventsLeft && accuracy == api.Snapshot:
				lo, hi = d-w, d-1 // values as of D 00:00
			case left == eventsLeft:
				lo, hi = d-w, d // point in time within D
			default:
				lo, hi = d+1-w, d // values as of the end of D
			}
			if !bounded || lower != nil && lo < *lower {
				lo = *lower
			}
			if qe != nil && hi > *qe {
				hi = *qe
			}
			xs = append(xs, interval{lo, hi})
		}
		set := daySet{}
		for _, x := range mergeIntervals(xs) {
			set.addRange(x.lo, x.hi)
		}
		b.need(table, RoleEvents, name, note, set)
	}
	return nil
}

// finish fills p's inputs, required partitions, missing inputs and
// warnings.
func (b *builder) finish(p *Plan) error {
	p.Required = map[string][]string{}
	required := map[string]daySet{}
	for _, k := range b.order {
		acc := b.inputs[k]
		t, err := b.table(k.table)
		if err != nil {
			return err
		}
		in := &Input{Table: k.table, Role: k.role, ReadBy: acc.readBy, Partitions: acc.days.strings(), Note: acc.note}
		var absent []day
		for _, d := range acc.days.sorted() {
			if !t.present[d] {
				absent = append(absent, d)
			}
		}
		in.Absent = dayStrings(absent)
		p.Inputs = append(p.Inputs, in)
		if required[k.table] == nil {
			required[k.table] = daySet{}
		}
		for d := range acc.days {
			required[k.table][d] = true
		}
		// A bootstrap table covering only some days is normal.
		if len(absent) == 0 || k.role == RoleBootstrap {
			continue
		}
		if k.role.Required() || b.opts.Strict {
			p.Missing = append(p.Missing, &MissingError{Table: k.table, Partitions: in.Absent, Role: k.role, ReadBy: acc.readBy, Note: acc.note})
			continue
		}
		what := "a day without events"
		if k.role == RoleMutations {
			what = "a day without mutations"
		}
		note := ""
		if acc.note != "" {
			note = "; " + acc.note
		}
		b.warnf("%s: %d of the %d partitions read by %s are missing (%s%s); each is read as %s (--strict-inputs makes this an error)",
			k.table, len(absent), len(acc.days), strings.Join(acc.readBy, ", "), FormatPartitions(in.Absent, 10), note, what)
	}
	for table, days := range required {
		p.Required[table] = days.strings()
	}
	p.Warnings = append(p.Warnings, b.warnings...)
	return nil
}
