// SPDX-License-Identifier: Apache-2.0

package graph

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chronon-go/chronon/core/api"
)

// Kind is the kind of job a step runs.
type Kind string

// Step kinds.
const (
	// StagingQuery runs a staging query up to day D.
	StagingQuery Kind = "staging-query"
	// GroupByBackfill front-fills a group-by's daily snapshots (group-bys
	// with a backfillStartDate).
	GroupByBackfill Kind = "groupby-backfill"
	// JoinBackfill front-fills a join's missing partitions up to D.
	JoinBackfill Kind = "backfill"
	// Upload uploads an online group-by's batch values of D to the KV store.
	Upload Kind = "upload"
	// MetadataUpload stores a team's online definitions for the fetcher.
	MetadataUpload Kind = "metadata-upload"
	// LabelJoin computes a join's labels for label_ds D.
	LabelJoin Kind = "label-join"
	// LogFlatten flattens the fetch logs of an online join for D.
	LogFlatten Kind = "log-flatten"
	// Consistency compares an online join's logged and offline values.
	Consistency Kind = "consistency"
	// KVRetention expires an online group-by's old batch versions and
	// streaming data the latest batch covers.
	KVRetention Kind = "kv-retention"
	// LogRetention empties log table partitions past their TTL.
	LogRetention Kind = "log-retention"
)

// Node is one step of the graph: a job of one definition for a day.
type Node struct {
	// ID is "<kind>:<name>", unique in the graph.
	ID string `json:"id"`
	// Kind is the job's kind.
	Kind Kind `json:"kind"`
	// Name is the definition's name (a table for a log table's retention,
	// a team for a metadata upload).
	Name string `json:"name"`
	// Team owns the step; `chronon dags` writes one DAG per team.
	Team string `json:"team"`
	// Schedule says on which days the step is due.
	Schedule Schedule `json:"-"`
	// Reads are the tables the step reads.
	Reads []Read `json:"reads"`
	// Writes are the tables the step writes.
	Writes []string `json:"writes"`
	// Deps are the IDs of the steps that must finish first, sorted.
	Deps []string `json:"deps"`
	// Defs are the definitions the step runs: one *api.Join, *api.GroupBy
	// or *api.StagingQuery, or a team's online joins and group-bys for a
	// metadata upload. Nil for a log table's retention.
	Defs []any `json:"-"`
	// after are steps that must finish first without a table between
	// them (an upload before its KV retention).
	after []string
}

// Command is the `chronon` command line running the step for day ds.
func (n *Node) Command(ds string) []string {
	return []string{"run", "--ds", ds, "--step", n.ID}
}

// Graph is the dependency graph of a repository's definitions.
type Graph struct {
	// Nodes are the steps in a topological order (every step after its
	// Deps), ties broken by ID.
	Nodes []*Node
	byID  map[string]*Node
}

// Node returns the step with id, or nil.
func (g *Graph) Node(id string) *Node { return g.byID[id] }

// Teams returns the teams owning steps, sorted.
func (g *Graph) Teams() []string {
	var out []string
	for _, n := range g.Nodes {
		if !slices.Contains(out, n.Team) {
			out = append(out, n.Team)
		}
	}
	slices.Sort(out)
	return out
}

// Due reports whether the step is scheduled on day ds.
func (n *Node) Due(ds string) bool {
	t, err := time.Parse(time.DateOnly, ds)
	return err == nil && n.Schedule.DueOn(t)
}

// Definitions are a repository's compiled definitions.
type Definitions struct {
	Joins          []*api.Join
	GroupBys       []*api.GroupBy
	StagingQueries []*api.StagingQuery
}

// Options configure Build.
type Options struct {
	// LogTable is the raw fetch log table ("namespace.chronon_log_table"),
	// read by the log flattening of online joins. The default value ""
	// means "chronon." + api.LogTable.
	LogTable string
	// Exists reports whether a table exists in the warehouse. A table a
	// step must wait for that no step writes and Exists denies is an
	// error. The default value nil skips the check.
	Exists func(table string) bool
}

// ErrBadGraph is wrapped by the errors of Build about the definitions:
// cycles, unknown tables, tables written twice, bad schedules and
// dependencies. Use errors.Is.
var ErrBadGraph = errors.New("graph: bad definitions")

// Build derives the steps of defs, their reads and writes, and the edges
// between them (a step depends on the steps writing the tables it reads).
// Group-bys of join parts and joins of JoinSources count as definitions
// even when not compiled on their own; a compiled definition wins over an
// embedded copy of the same name.
func Build(defs Definitions, opts Options) (*Graph, error) {
	if opts.LogTable == "" {
		opts.LogTable = "chronon." + api.LogTable
	}
	b := &builder{opts: opts, byID: map[string]*Node{}, joins: map[string]*api.Join{}, groupBys: map[string]*api.GroupBy{}}
	b.collect(defs)
	for _, sq := range defs.StagingQueries {
		b.stagingQuery(sq)
	}
	for _, name := range sortedKeys(b.groupBys) {
		b.groupBy(b.groupBys[name])
	}
	for _, name := range sortedKeys(b.joins) {
		b.join(b.joins[name])
	}
	b.metadata()
	if len(b.errs) == 0 {
		b.link()
	}
	if len(b.errs) > 0 {
		return nil, fmt.Errorf("%w:\n  %w", ErrBadGraph, joinIndented(b.errs))
	}
	nodes, err := topoSort(b.nodes, b.byID)
	if err != nil {
		return nil, err
	}
	return &Graph{Nodes: nodes, byID: b.byID}, nil
}

// joinIndented joins errors one per line, indented under the summary.
func joinIndented(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "\n  "))
}

type builder struct {
	opts     Options
	nodes    []*Node
	byID     map[string]*Node
	joins    map[string]*api.Join
	groupBys map[string]*api.GroupBy
	// online are the online definitions per team, for metadata uploads.
	online map[string][]any
	errs   []error
}

func (b *builder) errorf(format string, args ...any) {
	b.errs = append(b.errs, fmt.Errorf(format, args...))
}

// collect gathers the definitions, compiled ones first.
func (b *builder) collect(defs Definitions) {
	for _, g := range defs.GroupBys {
		b.groupBys[g.MetaData.GetName()] = g
	}
	for _, j := range defs.Joins {
		b.joins[j.MetaData.GetName()] = j
	}
	var embedded func(j *api.Join)
	embedded = func(j *api.Join) {
		for _, jp := range j.JoinParts {
			g := jp.GroupBy
			if g == nil {
				continue
			}
			if _, ok := b.groupBys[g.MetaData.GetName()]; !ok {
				b.groupBys[g.MetaData.GetName()] = g
			}
			for _, s := range g.Sources {
				if s.JoinSource == nil || s.JoinSource.Join == nil {
					continue
				}
				if _, ok := b.joins[s.JoinSource.Join.MetaData.GetName()]; !ok {
					b.joins[s.JoinSource.Join.MetaData.GetName()] = s.JoinSource.Join
					embedded(s.JoinSource.Join)
				}
			}
		}
	}
	for _, j := range defs.Joins {
		embedded(j)
	}
	for _, g := range defs.GroupBys {
		for _, s := range g.Sources {
			if s.JoinSource != nil && s.JoinSource.Join != nil {
				if _, ok := b.joins[s.JoinSource.Join.MetaData.GetName()]; !ok {
					b.joins[s.JoinSource.Join.MetaData.GetName()] = s.JoinSource.Join
					embedded(s.JoinSource.Join)
				}
			}
		}
	}
}

// team is the definition's team: metaData.team, else its name's first part.
func team(md *api.MetaData) string {
	if md != nil && md.Team != "" {
		return md.Team
	}
	t, _, _ := strings.Cut(md.GetName(), ".")
	return t
}

// add creates a step of md's definition; schedule is the offlineSchedule
// in force. It returns nil (and records the error) for a bad schedule.
// Callers add metaData.dependencies to the reads of the definition's own
// jobs (withDependencies), not to the maintenance steps that follow them.
func (b *builder) add(kind Kind, md *api.MetaData, schedule string, reads []Read, writes []string, defs ...any) *Node {
	sch, err := ParseSchedule(schedule)
	if err != nil {
		b.errorf("%s: offlineSchedule: %w", md.GetName(), err)
		return nil
	}
	n := &Node{ID: string(kind) + ":" + md.GetName(), Kind: kind, Name: md.GetName(), Team: team(md), Schedule: sch,
		Reads: reads, Writes: writes, Defs: defs}
	b.insert(n)
	return n
}

// withDependencies appends md's metaData.dependencies to reads; ok is
// false (and the error recorded) when one cannot be parsed.
func (b *builder) withDependencies(md *api.MetaData, reads []Read) (_ []Read, ok bool) {
	deps, err := dependencyReads(md)
	if err != nil {
		b.errorf("%s: %w", md.GetName(), err)
		return nil, false
	}
	return append(reads, deps...), true
}

func (b *builder) insert(n *Node) {
	if _, dup := b.byID[n.ID]; dup {
		b.errorf("%s: two definitions have the name %s", n.ID, n.Name)
		return
	}
	b.byID[n.ID] = n
	b.nodes = append(b.nodes, n)
}

func (b *builder) stagingQuery(sq *api.StagingQuery) {
	md := sq.MetaData
	declared, ok := b.withDependencies(md, nil)
	if !ok {
		return
	}
	b.add(StagingQuery, md, md.OfflineSchedule, append(declared, stagingQueryReads(sq, declared)...), []string{md.OutputTable()}, sq)
}

func (b *builder) groupBy(g *api.GroupBy) {
	md := g.MetaData
	reads, ok := b.withDependencies(md, groupByReads(g, standalone))
	if !ok {
		return
	}
	if g.BackfillStartDate != "" {
		b.add(GroupByBackfill, md, md.OfflineSchedule, reads, []string{md.OutputTable()}, g)
	}
	if !md.Online {
		return
	}
	if up := b.add(Upload, md, md.OfflineSchedule, slices.Clone(reads), []string{md.TableWithSuffix(api.SuffixUpload)}, g); up != nil {
		// Retention follows every upload, whatever the schedule.
		if ret := b.add(KVRetention, md, "@daily", nil, nil, g); ret != nil {
			ret.after = []string{up.ID}
		}
	}
	b.addOnline(md, g)
}

func (b *builder) addOnline(md *api.MetaData, def any) {
	if b.online == nil {
		b.online = map[string][]any{}
	}
	b.online[team(md)] = append(b.online[team(md)], def)
}

func (b *builder) join(j *api.Join) {
	md := j.MetaData
	name := md.GetName()
	if j.Left == nil || j.Left.Table() == "" {
		b.errorf("%s: the join has no left table", name)
		return
	}
	writes := []string{md.OutputTable()}
	for _, jp := range j.JoinParts {
		if jp.GroupBy == nil {
			b.errorf("%s: a join part has no group-by", name)
			return
		}
		writes = append(writes, j.PartOutputTable(jp))
	}
	reads, ok := b.withDependencies(md, joinReads(j))
	if !ok {
		return
	}
	b.add(JoinBackfill, md, md.OfflineSchedule, reads, writes, j)
	if lp := j.LabelPart; lp != nil {
		// Labels of label_ds D are for the left days D-(leftStartOffset-1)
		// through D-(leftEndOffset-1) (core/backfill.LeftDays: Chronon
		// counts D itself as the first day of an offset); the newest must
		// have been computed.
		labels := []Read{{Table: md.OutputTable(), Role: roleLabels, By: name, From: -int(lp.LeftStartOffset - 1), To: -int(lp.LeftEndOffset - 1), Need: NeedLast}}
		if labels[0].From > labels[0].To {
			b.errorf("%s: labelPart: leftStartOffset %d is smaller than leftEndOffset %d", name, lp.LeftStartOffset, lp.LeftEndOffset)
			return
		}
		for _, l := range lp.Labels {
			if l.GroupBy != nil {
				labels = append(labels, groupByReads(l.GroupBy, standalone)...)
			}
		}
		// A label part has its own schedule (label_offline_schedule).
		schedule := md.OfflineSchedule
		if lp.MetaData != nil && lp.MetaData.OfflineSchedule != "" {
			schedule = lp.MetaData.OfflineSchedule
		}
		b.add(LabelJoin, md, schedule, labels, []string{md.TableWithSuffix(api.SuffixLabels),
			md.TableWithSuffix(api.SuffixLabeled), md.TableWithSuffix(api.SuffixLabeledLatest)}, j)
	}
	if !md.Online {
		return
	}
	b.addOnline(md, j)
	logged := md.TableWithSuffix(api.SuffixLogged)
	flatten := b.add(LogFlatten, md, "@daily", []Read{{Table: b.opts.LogTable, Role: roleLog, By: name, Need: NeedNone}}, []string{logged}, j)
	if flatten == nil {
		return
	}
	if md.ConsistencyCheck {
		b.add(Consistency, md, "@daily", []Read{{Table: logged, Role: roleLogged, By: name, Need: NeedAll}},
			[]string{md.TableWithSuffix(api.SuffixConsistency)}, j)
	}
	b.add(LogRetention, md, "@daily", []Read{{Table: logged, Role: roleLogged, By: name, Need: NeedNone}}, nil, j)
}

// metadata adds a metadata upload per team with online definitions, and
// the retention of the raw log table when some join is served.
func (b *builder) metadata() {
	servedJoin := false
	for _, t := range sortedKeys(b.online) {
		defs := b.online[t]
		n := &Node{ID: string(MetadataUpload) + ":" + t, Kind: MetadataUpload, Name: t, Team: t, Defs: defs}
		n.Schedule, _ = ParseSchedule("@daily")
		b.insert(n)
		for _, d := range defs {
			_, isJoin := d.(*api.Join)
			servedJoin = servedJoin || isJoin
		}
	}
	if servedJoin {
		ns, _, _ := strings.Cut(b.opts.LogTable, ".")
		n := &Node{ID: string(LogRetention) + ":" + b.opts.LogTable, Kind: LogRetention, Name: b.opts.LogTable, Team: ns,
			Reads: []Read{{Table: b.opts.LogTable, Role: roleLog, By: b.opts.LogTable, Need: NeedNone}}}
		n.Schedule, _ = ParseSchedule("@daily")
		b.insert(n)
	}
}

// link resolves each read's producer, fills Deps and checks that every
// table waited for is written by a step or exists.
func (b *builder) link() {
	producer := map[string]string{}
	for _, n := range b.nodes {
		for _, t := range n.Writes {
			if other, dup := producer[t]; dup {
				b.errorf("table %s is written by both %s and %s", t, other, n.ID)
				continue
			}
			producer[t] = n.ID
		}
	}
	for _, n := range b.nodes {
		deps := slices.Clone(n.after)
		for i := range n.Reads {
			r := &n.Reads[i]
			p, ok := producer[r.Table]
			switch {
			case ok && p != n.ID:
				r.Producer = p
				deps = append(deps, p)
			case ok:
				// A step reading its own output (a join's part table)
				// needs no edge.
			case r.Need != NeedNone && b.opts.Exists != nil && !b.opts.Exists(r.Table):
				b.errorf("%s reads %s (%s, read by %s), which no definition writes and the warehouse does not have", n.Name, r.Table, r.Role, r.By)
			}
		}
		slices.Sort(deps)
		n.Deps = slices.Compact(deps)
	}
}

// topoSort orders nodes so that each follows its deps (Kahn's algorithm,
// smallest ID first), or reports a cycle naming its steps and tables.
func topoSort(nodes []*Node, byID map[string]*Node) ([]*Node, error) {
	indeg := map[string]int{}
	dependants := map[string][]string{}
	for _, n := range nodes {
		indeg[n.ID] += 0
		for _, d := range n.Deps {
			indeg[n.ID]++
			dependants[d] = append(dependants[d], n.ID)
		}
	}
	var ready []string
	for id, d := range indeg {
		if d == 0 {
			ready = append(ready, id)
		}
	}
	var out []*Node
	for len(ready) > 0 {
		slices.Sort(ready)
		id := ready[0]
		ready = ready[1:]
		out = append(out, byID[id])
		for _, m := range dependants[id] {
			if indeg[m]--; indeg[m] == 0 {
				ready = append(ready, m)
			}
		}
	}
	if len(out) == len(nodes) {
		return out, nil
	}
	return nil, fmt.Errorf("%w: %s", ErrBadGraph, describeCycle(nodes, byID, indeg))
}

// describeCycle finds a cycle among the steps left with unmet deps and
// names it, e.g. "cycle: backfill:a.x.v1 reads default.b_y_v1 (written by
// backfill:b.y.v1), which reads default.a_x_v1 (written by
// backfill:a.x.v1)".
func describeCycle(nodes []*Node, byID map[string]*Node, indeg map[string]int) string {
	var start string
	for _, n := range nodes {
		if indeg[n.ID] > 0 {
			start = n.ID
			break
		}
	}
	// Walk deps that are also stuck until a step repeats.
	seen := map[string]int{}
	var path []string
	for id := start; ; {
		if i, ok := seen[id]; ok {
			path = path[i:]
			break
		}
		seen[id] = len(path)
		path = append(path, id)
		for _, d := range byID[id].Deps {
			if indeg[d] > 0 {
				id = d
				break
			}
		}
	}
	// path[i] depends on path[i+1]: say it in the order data flows.
	slices.Reverse(path)
	var b strings.Builder
	b.WriteString("cycle: ")
	for i, id := range path {
		next := byID[path[(i+1)%len(path)]]
		if i == 0 {
			b.WriteString(id)
		}
		fmt.Fprintf(&b, " writes %s, read by %s", via(byID[id], next), next.ID)
		if i < len(path)-1 {
			b.WriteString(", which")
		}
	}
	return b.String()
}

// via names the table from writes to reads (or "its output" for an
// ordering without a table).
func via(writer, reader *Node) string {
	for _, r := range reader.Reads {
		if r.Producer == writer.ID {
			return r.Table
		}
	}
	return "its output"
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
