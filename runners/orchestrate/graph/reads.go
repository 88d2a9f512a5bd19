// SPDX-License-Identifier: Apache-2.0

package graph

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
)

// Need says which of the partitions a step reads must exist before it runs.
type Need string

// Needs.
const (
	// NeedAll: every partition read must exist (a join's left, entity
	// snapshots, declared dependencies).
	NeedAll Need = "all"
	// NeedLast: a day may lack data (no events that day), but the last
	// partition read must have landed before the step runs.
	NeedLast Need = "last"
	// NeedNone: the table may lack the partitions (fetch logs of a day
	// without fetches, bootstrap tables): it orders steps but is not
	// waited for.
	NeedNone Need = "none"
)

// Read is a table a step reads for its day D: the partitions D+From through
// D+To, within the query's startPartition and endPartition.
type Read struct {
	// Table is "namespace.table".
	Table string `json:"table"`
	// Role says how the table is read: left, snapshot, events, mutations,
	// cumulative, bootstrap, dependency, sql, labels, log or logged.
	Role string `json:"role"`
	// By names the definition reading it (a join part's group-by, say).
	By string `json:"by"`
	// From and To are offsets in days from the step's day, From <= To.
	From int `json:"from"`
	To   int `json:"to"`
	// AllHistory reports an unbounded window: the read starts at the
	// table's first partition, whatever From says.
	AllHistory bool `json:"all_history,omitempty"`
	// Start and End are the query's startPartition and endPartition.
	Start string `json:"start_partition,omitempty"`
	End   string `json:"end_partition,omitempty"`
	// Need says which partitions must exist before the step runs.
	Need Need `json:"need"`
	// Producer is the ID of the step writing the table, "" for a table
	// no step of the graph writes.
	Producer string `json:"producer,omitempty"`
}

// Partitions returns the first and last partition the read covers for day
// ds, clamped to Start and End; first is "" for AllHistory (the table's
// first partition). ok is false when the range is empty.
func (r Read) Partitions(ds string) (first, last string, ok bool) {
	if r.Role == roleCumulative {
		// Chronon reads the latest partition of a cumulative table, or
		// its endPartition.
		if r.End != "" {
			return r.End, r.End, true
		}
		return ds, ds, true
	}
	last = shift(ds, r.To)
	if r.End != "" && last > r.End {
		last = r.End
	}
	if !r.AllHistory {
		first = shift(ds, r.From)
	}
	if r.Start != "" && first < r.Start {
		first = r.Start
	}
	if first != "" && first > last {
		return "", "", false
	}
	return first, last, true
}

// Waits returns the partitions of the read that must exist before a step
// for day ds runs, as Need says.
func (r Read) Waits(ds string) []string {
	first, last, ok := r.Partitions(ds)
	if !ok {
		return nil
	}
	switch r.Need {
	case NeedAll:
		if first == "" {
			return []string{last} // all history: only the newest is known
		}
		days, err := batch.DSRange(first, last)
		if err != nil {
			return []string{last}
		}
		return days
	case NeedLast:
		return []string{last}
	}
	return nil
}

// shift moves a valid partition by days; Build checks every partition it
// shifts, so an error cannot happen here.
func shift(ds string, days int) string {
	out, err := batch.ShiftDS(ds, days)
	if err != nil {
		return ds
	}
	return out
}

// Read roles.
const (
	roleLeft       = "left"
	roleSnapshot   = "snapshot"
	roleEvents     = "events"
	roleMutations  = "mutations"
	roleCumulative = "cumulative"
	roleBootstrap  = "bootstrap"
	roleDependency = "dependency"
	roleSQL        = "sql"
	roleLabels     = "labels"
	roleLog        = "log"
	roleLogged     = "logged"
)

// leftKind is what a group-by is computed for, as in runners/plan.
type leftKind int

const (
	// standalone: a group-by's own backfill or upload, values as of the
	// end of day D.
	standalone leftKind = iota
	// eventsLeft: a join part of an events left.
	eventsLeft
	// entitiesLeft: a join part of an entities left (end of each day).
	entitiesLeft
)

// windowDays returns the number of day boundaries g's longest window can
// cross backwards (ceil of its length in days); bounded is false when some
// output column (or a group-by without aggregations) reads all history.
func windowDays(g *api.GroupBy) (days int, bounded bool) {
	parts := g.AggregationParts()
	var ms int64
	for _, p := range parts {
		if p.Window == nil || p.Window.Unbounded() {
			return 0, false
		}
		ms = max(ms, p.Window.Millis())
	}
	return int((ms + batch.DayMillis - 1) / batch.DayMillis), len(parts) > 0
}

// groupByReads lists the tables g reads to compute day D for left, with
// the rules runners/plan applies (see its package documentation): the
// entity snapshot of D-1 for an events left and of D otherwise, event
// tables over the longest window ending at D-1 (SNAPSHOT parts of an
// events left) or D, the latest partition of a cumulative table.
func groupByReads(g *api.GroupBy, left leftKind) []Read {
	name := g.MetaData.GetName()
	var out []Read
	for _, s := range g.Sources {
		r := Read{Table: s.Table(), By: name}
		if q := s.Query(); q != nil {
			r.Start, r.End = q.StartPartition, q.EndPartition
		}
		switch {
		case s.DataModel() == api.EntitiesModel:
			r.Role, r.Need = roleSnapshot, NeedAll
			if left == eventsLeft {
				r.From, r.To = -1, -1 // the snapshot as of the start of D
			}
			out = append(out, r)
			if left == eventsLeft && g.InferredAccuracy() == api.Temporal && s.Entities != nil && s.Entities.MutationTable != "" {
				m := r
				m.Table, m.Role, m.Need, m.From, m.To = s.Entities.MutationTable, roleMutations, NeedLast, 0, 0
				out = append(out, m)
			}
			continue
		case s.Events != nil && bool(s.Events.IsCumulative):
			r.Role, r.Need = roleCumulative, NeedAll
			out = append(out, r)
			continue
		}
		r.Role, r.Need = roleEvents, NeedLast
		w, bounded := windowDays(g)
		switch {
		case left == eventsLeft && g.InferredAccuracy() == api.Snapshot:
			r.From, r.To = -w, -1 // values as of D 00:00
		case left == eventsLeft:
			r.From, r.To = -w, 0 // point in time within D
		default:
			r.From, r.To = 1-w, 0 // values as of the end of D
		}
		r.AllHistory = !bounded
		if r.AllHistory {
			r.From = r.To
		}
		out = append(out, r)
	}
	return out
}

// joinReads lists the tables a join backfill reads for day D: its left,
// its parts' sources and its bootstrap tables.
func joinReads(j *api.Join) []Read {
	name := j.MetaData.GetName()
	left := Read{Table: j.Left.Table(), Role: roleLeft, By: name, Need: NeedAll}
	if q := j.Left.Query(); q != nil {
		left.Start, left.End = q.StartPartition, q.EndPartition
	}
	out := []Read{left}
	kind := eventsLeft
	if j.Left.DataModel() == api.EntitiesModel {
		kind = entitiesLeft
	}
	for _, jp := range j.JoinParts {
		out = append(out, groupByReads(jp.GroupBy, kind)...)
	}
	for _, bp := range j.BootstrapParts {
		out = append(out, Read{Table: bp.Table, Role: roleBootstrap, By: name, Need: NeedNone})
	}
	return out
}

// sqlTables finds the namespace.table names a staging query reads after
// FROM or JOIN. It is a heuristic (SQL is not parsed): metaData.dependencies
// state a staging query's inputs exactly.
var sqlTables = regexp.MustCompile(`(?i)\b(?:from|join)\s+` + "`?" + `([A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*)`)

func stagingQueryReads(sq *api.StagingQuery, declared []Read) []Read {
	seen := map[string]bool{}
	for _, r := range declared {
		seen[r.Table] = true
	}
	// Declared dependencies replace the waits inferred from the SQL: the
	// inferred tables then only order the steps.
	need := NeedLast
	if len(declared) > 0 {
		need = NeedNone
	}
	var out []Read
	for _, m := range sqlTables.FindAllStringSubmatch(sq.Query, -1) {
		t := m[1]
		if seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, Read{Table: t, Role: roleSQL, By: sq.MetaData.GetName(), Need: need})
	}
	return out
}

// dsMacro matches the partition value of a dependency spec: {{ ds }},
// {{ yesterday_ds }}, {{ tomorrow_ds }} or {{ macros.ds_add(ds, N) }}.
var dsMacro = regexp.MustCompile(`^\{\{\s*(ds|yesterday_ds|tomorrow_ds|macros\.ds_add\(\s*ds\s*,\s*(-?\d+)\s*\))\s*\}\}$`)

// dependencyReads parses metaData.dependencies. Each entry is a table
// ("ns.table"), a partition spec ("ns.table/ds={{ ds }}", with the macros
// dsMacro accepts) or Chronon's JSON object {"name": ..., "spec": ...}.
// A dependency without a ds macro waits for partition D.
func dependencyReads(md *api.MetaData) ([]Read, error) {
	var out []Read
	for i, dep := range md.Dependencies {
		spec := strings.TrimSpace(dep)
		if strings.HasPrefix(spec, "{") {
			var obj struct {
				Name string `json:"name"`
				Spec string `json:"spec"`
			}
			if err := json.Unmarshal([]byte(spec), &obj); err != nil || obj.Spec == "" {
				return nil, fmt.Errorf("metaData.dependencies[%d] %s: want a table, a spec ns.table/ds={{ ds }} or an object with a spec", i, dep)
			}
			spec = obj.Spec
		}
		table, parts, _ := strings.Cut(spec, "/")
		if ns, t, ok := strings.Cut(table, "."); !ok || ns == "" || t == "" {
			return nil, fmt.Errorf("metaData.dependencies[%d] %q: %q is not a namespace.table name", i, dep, table)
		}
		r := Read{Table: table, Role: roleDependency, By: md.GetName(), Need: NeedAll}
		for _, kv := range strings.Split(parts, "/") {
			k, v, _ := strings.Cut(kv, "=")
			if k != api.PartitionColumn {
				continue
			}
			m := dsMacro.FindStringSubmatch(strings.TrimSpace(v))
			switch {
			case m == nil:
				return nil, fmt.Errorf("metaData.dependencies[%d] %q: ds=%s: want {{ ds }}, {{ yesterday_ds }}, {{ tomorrow_ds }} or {{ macros.ds_add(ds, N) }}", i, dep, v)
			case m[1] == "yesterday_ds":
				r.From, r.To = -1, -1
			case m[1] == "tomorrow_ds":
				r.From, r.To = 1, 1
			case m[2] != "":
				n, err := strconv.Atoi(m[2])
				if err != nil {
					return nil, fmt.Errorf("metaData.dependencies[%d] %q: %w", i, dep, err)
				}
				r.From, r.To = n, n
			}
		}
		out = append(out, r)
	}
	return out, nil
}
