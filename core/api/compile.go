// SPDX-License-Identifier: Apache-2.0

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Team holds a team's defaults from teams.json (Chronon's file; teams.yaml is
// read the same way).
type Team struct {
	Description     string                       `json:"description,omitempty" yaml:"description"`
	Namespace       string                       `json:"namespace,omitempty" yaml:"namespace"`
	User            string                       `json:"user,omitempty" yaml:"user"`
	TableProperties map[string]string            `json:"table_properties,omitempty" yaml:"table_properties"`
	CommonEnv       map[string]string            `json:"common_env,omitempty" yaml:"common_env"`
	Production      map[string]map[string]string `json:"production,omitempty" yaml:"production"`
}

// Teams maps team name to defaults. The "default" team's values apply to
// every team that does not set its own.
type Teams map[string]*Team

// DefaultNamespace is the output namespace used when neither the definition
// nor teams.json names one.
const DefaultNamespace = "default"

// ParseTeams reads teams.json (isYAML false) or teams.yaml.
func ParseTeams(data []byte, isYAML bool) (Teams, error) {
	t := Teams{}
	var err error
	if isYAML {
		err = yaml.Unmarshal(data, &t)
	} else {
		err = json.Unmarshal(data, &t)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Apply fills md's team defaults: the output namespace (definition, else the
// team's, else the default team's, else "default") and table properties
// (default team's, overridden by the team's, overridden by the definition's).
// A non-empty Teams that lacks md's team is an error.
func (t Teams) Apply(md *MetaData) error {
	if md == nil {
		return nil
	}
	team, ok := t[md.Team]
	if len(t) > 0 && !ok {
		return fmt.Errorf("team %q is not in teams.json (teams: %s)", md.Team, strings.Join(sortedKeys(t), ", "))
	}
	def := t["default"]
	if md.OutputNamespace == "" {
		for _, c := range []*Team{team, def} {
			if c != nil && c.Namespace != "" {
				md.OutputNamespace = c.Namespace
				break
			}
		}
	}
	if md.OutputNamespace == "" {
		md.OutputNamespace = DefaultNamespace
	}
	props := map[string]string{}
	for _, c := range []*Team{def, team} {
		if c != nil {
			for k, v := range c.TableProperties {
				props[k] = v
			}
		}
	}
	for k, v := range md.TableProperties {
		props[k] = v
	}
	if len(props) > 0 {
		md.TableProperties = props
	}
	return nil
}

// Repo is a compiled repository of definitions, keyed by name.
type Repo struct {
	GroupBys       map[string]*GroupBy
	Joins          map[string]*Join
	StagingQueries map[string]*StagingQuery
}

// Files returns every definition as Chronon's compiled JSON, keyed by its
// path "production/<kind>/<team>/<name>".
func (r *Repo) Files() (map[string][]byte, error) {
	out := map[string][]byte{}
	add := func(kind Kind, name string, v any) error {
		b, err := Marshal(v)
		if err != nil {
			return fmt.Errorf("marshal %s: %w", name, err)
		}
		out[path.Join("production", string(kind), NameToFilePath(name))] = b
		return nil
	}
	for n, g := range r.GroupBys {
		if err := add(KindGroupBy, n, g); err != nil {
			return nil, err
		}
	}
	for n, j := range r.Joins {
		if err := add(KindJoin, n, j); err != nil {
			return nil, err
		}
	}
	for n, s := range r.StagingQueries {
		if err := add(KindStagingQuery, n, s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CompileError lists every problem found while compiling a repository, each
// naming its file, line and field.
type CompileError struct {
	Errors []error
}

func (e *CompileError) Error() string {
	msgs := make([]string, len(e.Errors))
	for i, err := range e.Errors {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "\n")
}

// entry is one parsed YAML entry awaiting compilation.
type entry struct {
	kind Kind
	name string
	team string
	file string
	key  string // the entry's key in its file
	ast  *ast.File
	node ast.Node
	gb   *yamlGroupBy
	join *yamlJoin
	sq   *yamlStagingQuery
}

type compiler struct {
	teams   Teams
	entries map[string]*entry
	repo    *Repo
	errs    []error
	active  map[string]bool // names being compiled, for cycle detection
	failed  map[string]bool
}

// CompileRepo compiles every YAML definition under group_bys/, joins/ and
// staging_queries/ of fsys, filling team defaults from teams.json or
// teams.yaml at its root. Errors name the file, line and field; all of them
// are reported at once as a *CompileError.
func CompileRepo(fsys fs.FS) (*Repo, error) {
	c := &compiler{entries: map[string]*entry{}, active: map[string]bool{}, failed: map[string]bool{},
		repo: &Repo{GroupBys: map[string]*GroupBy{}, Joins: map[string]*Join{}, StagingQueries: map[string]*StagingQuery{}}}
	if err := c.loadTeams(fsys); err != nil {
		return nil, err
	}
	for _, kind := range Kinds {
		if err := c.parseKind(fsys, kind); err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(c.entries))
	for n := range c.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		c.compile(c.entries[n])
	}
	if len(c.errs) > 0 {
		return c.repo, &CompileError{Errors: c.errs}
	}
	return c.repo, nil
}

func (c *compiler) loadTeams(fsys fs.FS) error {
	for _, name := range []string{"teams.json", "teams.yaml", "teams.yml"} {
		data, err := fs.ReadFile(fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		t, err := ParseTeams(data, name != "teams.json")
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		c.teams = t
		return nil
	}
	return nil
}

func (c *compiler) parseKind(fsys fs.FS, kind Kind) error {
	root := string(kind)
	if _, err := fs.Stat(fsys, root); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			return nil
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("read %s: %w", p, err)
		}
		c.parseFile(kind, p, data)
		return nil
	})
}

func (c *compiler) errorf(file string, line, col int, format string, args ...any) {
	loc := file
	if line > 0 {
		loc = fmt.Sprintf("%s:%d:%d", file, line, col)
	}
	c.errs = append(c.errs, fmt.Errorf("%s: %s", loc, fmt.Sprintf(format, args...)))
}

// yamlErr reports a go-yaml error at its own position.
func (c *compiler) yamlErr(file string, err error) {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		pos := ye.GetToken().Position
		c.errorf(file, pos.Line, pos.Column, "%s", ye.GetMessage())
		return
	}
	c.errorf(file, 0, 0, "%v", err)
}

func (c *compiler) parseFile(kind Kind, p string, data []byte) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		c.yamlErr(p, err)
		return
	}
	rel := strings.TrimPrefix(p, string(kind)+"/")
	module := strings.ReplaceAll(strings.TrimSuffix(strings.TrimSuffix(rel, ".yaml"), ".yml"), "/", ".")
	team, _, _ := strings.Cut(module, ".")
	if !strings.Contains(rel, "/") {
		c.errorf(p, 0, 0, "definitions live in %s/<team>/<module>.yaml", kind)
		return
	}
	for _, doc := range f.Docs {
		if doc.Body == nil {
			continue
		}
		// One decoder per document, run once over the whole body first so
		// that anchors defined in one entry (or a "_" key) resolve in others.
		dec := yaml.NewDecoder(bytes.NewReader(nil), yaml.DisallowUnknownField())
		var whole any
		if err := dec.DecodeFromNode(doc.Body, &whole); err != nil {
			c.yamlErr(p, err)
			continue
		}
		m, ok := doc.Body.(*ast.MappingNode)
		if !ok {
			pos := doc.Body.GetToken().Position
			c.errorf(p, pos.Line, pos.Column, "the file must be a map of entry name to definition")
			continue
		}
		for _, mv := range m.Values {
			key := mv.Key.String()
			if strings.HasPrefix(key, "_") {
				continue
			}
			e := &entry{kind: kind, name: module + "." + key, team: team, file: p, key: key, ast: f, node: mv.Value}
			var target any
			switch kind {
			case KindGroupBy:
				e.gb = &yamlGroupBy{}
				target = e.gb
			case KindJoin:
				e.join = &yamlJoin{}
				target = e.join
			case KindStagingQuery:
				e.sq = &yamlStagingQuery{}
				target = e.sq
			}
			if err := dec.DecodeFromNode(mv.Value, target); err != nil {
				c.yamlErr(p, err)
				continue
			}
			if prev, dup := c.entries[e.name]; dup {
				pos := mv.Key.GetToken().Position
				c.errorf(p, pos.Line, pos.Column, "%s is also defined in %s", e.name, prev.file)
				continue
			}
			c.entries[e.name] = e
		}
	}
}

// fail reports err (a *fieldErr, *ValidationError or other) against entry e.
func (c *compiler) fail(e *entry, err error) {
	c.failed[e.name] = true
	var fe *fieldErr
	var ve *ValidationError
	switch {
	case errors.As(err, &fe):
		line, col := nodeLine(e.ast, e.key, fe.path)
		c.errorf(e.file, line, col, "%s: %s: %s", e.name, fe.path, fe.msg)
	case errors.As(err, &ve):
		for _, f := range ve.Errors {
			yp := yamlPath(f.Path)
			line, col := nodeLine(e.ast, e.key, yp)
			c.errorf(e.file, line, col, "%s: %s: %s", e.name, yp, f.Msg)
		}
	default:
		pos := e.node.GetToken().Position
		c.errorf(e.file, pos.Line, pos.Column, "%s: %v", e.name, err)
	}
}

// compile compiles e (and, first, what it references); it returns false if
// e or a dependency failed.
func (c *compiler) compile(e *entry) bool {
	if c.failed[e.name] {
		return false
	}
	if c.done(e) {
		return true
	}
	if c.active[e.name] {
		c.fail(e, fmt.Errorf("definition cycle through %s", e.name))
		return false
	}
	c.active[e.name] = true
	defer delete(c.active, e.name)
	var err error
	switch e.kind {
	case KindGroupBy:
		err = c.compileGroupBy(e)
	case KindJoin:
		err = c.compileJoin(e)
	case KindStagingQuery:
		err = c.compileStagingQuery(e)
	}
	if err != nil {
		c.fail(e, err)
		return false
	}
	return true
}

func (c *compiler) done(e *entry) bool {
	switch e.kind {
	case KindGroupBy:
		return c.repo.GroupBys[e.name] != nil
	case KindJoin:
		return c.repo.Joins[e.name] != nil
	}
	return c.repo.StagingQueries[e.name] != nil
}

// ref resolves a referenced definition name of a kind, compiling it first.
func (c *compiler) ref(kind Kind, name, path string) (*entry, error) {
	e, ok := c.entries[name]
	if !ok || e.kind != kind {
		return nil, &fieldErr{path, fmt.Sprintf("unknown %s %q", strings.TrimSuffix(string(kind), "s"), name)}
	}
	if !c.compile(e) {
		return nil, &fieldErr{path, fmt.Sprintf("%s has errors (reported above)", name)}
	}
	return e, nil
}

func (c *compiler) metaData(e *entry, m *YAMLMetaData) (*MetaData, error) {
	md, err := m.toMetaData(e.name, e.team)
	if err != nil {
		return nil, err
	}
	if err := c.teams.Apply(md); err != nil {
		return nil, &fieldErr{"team", err.Error()}
	}
	return md, nil
}

func (c *compiler) source(s *yamlSource, path string) (*Source, error) {
	if s == nil {
		return nil, &fieldErr{path, "is required"}
	}
	out := &Source{}
	n := 0
	if s.Events != nil {
		n++
		out.Events = &EventSource{Table: s.Events.Table, Topic: s.Events.Topic,
			IsCumulative: Bool(s.Events.IsCumulative), Query: s.Events.Query.toQuery()}
	}
	if s.Entities != nil {
		n++
		out.Entities = &EntitySource{SnapshotTable: s.Entities.SnapshotTable, MutationTable: s.Entities.MutationTable,
			MutationTopic: s.Entities.MutationTopic, Query: s.Entities.Query.toQuery()}
	}
	if s.JoinSource != nil {
		n++
		je, err := c.ref(KindJoin, s.JoinSource.Join, path+".join_source.join")
		if err != nil {
			return nil, err
		}
		out.JoinSource = &JoinSource{Join: c.repo.Joins[je.name], Query: s.JoinSource.Query.toQuery()}
	}
	if n != 1 {
		return nil, &fieldErr{path, "set exactly one of events, entities, join_source"}
	}
	return out, nil
}

func (c *compiler) compileGroupBy(e *entry) error {
	y := e.gb
	md, err := c.metaData(e, &y.YAMLMetaData)
	if err != nil {
		return err
	}
	g := &GroupBy{MetaData: md, KeyColumns: y.KeyColumns, BackfillStartDate: y.BackfillStartDate,
		Derivations: toDerivations(y.Derivations)}
	for i, s := range y.Sources {
		src, err := c.source(s, fmt.Sprintf("sources[%d]", i))
		if err != nil {
			return err
		}
		g.Sources = append(g.Sources, src)
	}
	for i := range y.Aggregations {
		a, err := y.Aggregations[i].toAggregation(fmt.Sprintf("aggregations[%d]", i))
		if err != nil {
			return err
		}
		g.Aggregations = append(g.Aggregations, a)
	}
	if y.Accuracy != "" {
		acc, err := ParseAccuracy(y.Accuracy)
		if err != nil {
			return &fieldErr{"accuracy", err.Error()}
		}
		g.Accuracy = &acc
	}
	if err := g.Validate(); err != nil {
		return err
	}
	c.repo.GroupBys[e.name] = g
	return nil
}

func (c *compiler) joinParts(parts []yamlJoinPart, path string) ([]*JoinPart, error) {
	var out []*JoinPart
	for i, p := range parts {
		pp := fmt.Sprintf("%s[%d]", path, i)
		if p.GroupBy == "" {
			return nil, &fieldErr{pp + ".group_by", "is required"}
		}
		ge, err := c.ref(KindGroupBy, p.GroupBy, pp+".group_by")
		if err != nil {
			return nil, err
		}
		out = append(out, &JoinPart{GroupBy: c.repo.GroupBys[ge.name], KeyMapping: p.KeyMapping, Prefix: p.Prefix})
	}
	return out, nil
}

func (c *compiler) compileJoin(e *entry) error {
	y := e.join
	md, err := c.metaData(e, &y.YAMLMetaData)
	if err != nil {
		return err
	}
	j := &Join{MetaData: md, RowIDs: y.RowIDs, SkewKeys: y.SkewKeys, Derivations: toDerivations(y.Derivations)}
	if j.Left, err = c.source(y.Left, "left"); err != nil {
		return err
	}
	if j.JoinParts, err = c.joinParts(y.JoinParts, "join_parts"); err != nil {
		return err
	}
	for i, ep := range y.ExternalParts {
		part, err := ep.toExternalPart(fmt.Sprintf("external_parts[%d]", i))
		if err != nil {
			return err
		}
		j.OnlineExternalParts = append(j.OnlineExternalParts, part)
	}
	for _, b := range y.BootstrapParts {
		j.BootstrapParts = append(j.BootstrapParts, &BootstrapPart{Table: b.Table, Query: b.Query.toQuery(), KeyColumns: b.KeyColumns})
	}
	if lp := y.LabelPart; lp != nil {
		labels, err := c.joinParts(lp.Labels, "label_part.labels")
		if err != nil {
			return err
		}
		j.LabelPart = &LabelPart{Labels: labels, LeftStartOffset: lp.LeftStartOffset, LeftEndOffset: lp.LeftEndOffset}
	}
	if j.MetaData.Online {
		for i, jp := range j.JoinParts {
			if !jp.GroupBy.MetaData.Online {
				return &fieldErr{fmt.Sprintf("join_parts[%d].group_by", i),
					fmt.Sprintf("the join is online but %s is not: set online: true on it", jp.GroupBy.MetaData.Name)}
			}
		}
	}
	if err := j.Validate(); err != nil {
		return err
	}
	c.repo.Joins[e.name] = j
	return nil
}

func (c *compiler) compileStagingQuery(e *entry) error {
	y := e.sq
	md, err := c.metaData(e, &y.YAMLMetaData)
	if err != nil {
		return err
	}
	s := &StagingQuery{MetaData: md, Query: y.Query, StartPartition: y.StartPartition, Setups: y.Setups,
		CreateView: Bool(y.CreateView)}
	if err := s.Validate(); err != nil {
		return err
	}
	c.repo.StagingQueries[e.name] = s
	return nil
}
