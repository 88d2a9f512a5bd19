// SPDX-License-Identifier: Apache-2.0

package api

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// The YAML authoring format: one file per module, like Chronon's Python
// modules. group_bys/quickstart/purchases.yaml holding an entry "v1" defines
// quickstart.purchases.v1 of team quickstart. Keys are the snake_case names of
// Chronon's Python API; readable values replace Thrift's integers
// (operation: last_k, k: 10, windows: [3d, 14d], accuracy: temporal). Top-level
// keys starting with "_" are not entries: use them for YAML anchors.
// See docs/definitions.md for the full reference.

// YAMLMetaData holds the MetaData fields a YAML entry writes at its top
// level (online, team, output_namespace, ...). It is exported only because
// the YAML decoder needs embedded types to be exported.
type YAMLMetaData struct {
	Online                   bool                         `yaml:"online"`
	Production               bool                         `yaml:"production"`
	Description              string                       `yaml:"description"`
	OutputNamespace          string                       `yaml:"output_namespace"`
	Team                     string                       `yaml:"team"`
	TableProperties          map[string]string            `yaml:"table_properties"`
	Dependencies             []any                        `yaml:"dependencies"`
	CustomJSON               map[string]any               `yaml:"custom_json"`
	Env                      map[string]map[string]string `yaml:"env"`
	ConsistencyCheck         bool                         `yaml:"consistency_check"`
	SamplePercent            float64                      `yaml:"sample_percent"`
	ConsistencySamplePercent *float64                     `yaml:"consistency_sample_percent"`
	OfflineSchedule          string                       `yaml:"offline_schedule"`
	HistoricalBackfill       bool                         `yaml:"historical_backfill"`
	DeprecationDate          string                       `yaml:"deprecation_date"`
}

// yamlSelects accepts a list of column names or a map of column -> expression
// (an empty expression keeps the column as is).
type yamlSelects struct{ m *OrderedMap }

func (s *yamlSelects) UnmarshalYAML(unmarshal func(any) error) error {
	var names []string
	if err := unmarshal(&names); err == nil {
		s.m = Selects(names...)
		return nil
	}
	var ms yaml.MapSlice
	if err := unmarshal(&ms); err != nil {
		return fmt.Errorf("selects must be a list of columns or a map of column: expression")
	}
	s.m = &OrderedMap{}
	for _, item := range ms {
		k := fmt.Sprint(item.Key)
		switch v := item.Value.(type) {
		case nil:
			s.m.Set(k, k)
		case string:
			s.m.Set(k, v)
		default:
			s.m.Set(k, fmt.Sprint(v))
		}
	}
	return nil
}

type yamlQuery struct {
	Selects            *yamlSelects `yaml:"selects"`
	Wheres             []string     `yaml:"wheres"`
	StartPartition     string       `yaml:"start_partition"`
	EndPartition       string       `yaml:"end_partition"`
	TimeColumn         string       `yaml:"time_column"`
	Setups             []string     `yaml:"setups"`
	MutationTimeColumn string       `yaml:"mutation_time_column"`
	ReversalColumn     string       `yaml:"reversal_column"`
	PartitionColumn    string       `yaml:"partition_column"`
}

type yamlSource struct {
	Events *struct {
		Table        string     `yaml:"table"`
		Topic        string     `yaml:"topic"`
		IsCumulative bool       `yaml:"is_cumulative"`
		Query        *yamlQuery `yaml:"query"`
	} `yaml:"events"`
	Entities *struct {
		SnapshotTable string     `yaml:"snapshot_table"`
		MutationTable string     `yaml:"mutation_table"`
		MutationTopic string     `yaml:"mutation_topic"`
		Query         *yamlQuery `yaml:"query"`
	} `yaml:"entities"`
	JoinSource *struct {
		Join  string     `yaml:"join"`
		Query *yamlQuery `yaml:"query"`
	} `yaml:"join_source"`
}

type yamlAggregation struct {
	InputColumn string            `yaml:"input_column"`
	Operation   string            `yaml:"operation"`
	K           *int              `yaml:"k"`
	Percentiles []float64         `yaml:"percentiles"`
	ArgMap      map[string]string `yaml:"arg_map"`
	Windows     []string          `yaml:"windows"`
	Buckets     []string          `yaml:"buckets"`
	ElementWise bool              `yaml:"element_wise"`
}

type yamlDerivation struct {
	Name       string `yaml:"name"`
	Expression string `yaml:"expression"`
}

type yamlGroupBy struct {
	YAMLMetaData      `yaml:",inline"`
	Sources           []*yamlSource     `yaml:"sources"`
	KeyColumns        []string          `yaml:"key_columns"`
	Aggregations      []yamlAggregation `yaml:"aggregations"`
	Accuracy          string            `yaml:"accuracy"`
	BackfillStartDate string            `yaml:"backfill_start_date"`
	Derivations       []yamlDerivation  `yaml:"derivations"`
}

type yamlJoinPart struct {
	GroupBy    string            `yaml:"group_by"`
	KeyMapping map[string]string `yaml:"key_mapping"`
	Prefix     *string           `yaml:"prefix"`
}

type yamlExternalSource struct {
	Name    string        `yaml:"name"`
	Team    string        `yaml:"team"`
	Keys    yaml.MapSlice `yaml:"keys"`
	Values  yaml.MapSlice `yaml:"values"`
	Factory *struct {
		Name   string            `yaml:"name"`
		Params map[string]string `yaml:"params"`
	} `yaml:"factory"`
}

type yamlExternalPart struct {
	Source     *yamlExternalSource `yaml:"source"`
	Contextual yaml.MapSlice       `yaml:"contextual"`
	KeyMapping map[string]string   `yaml:"key_mapping"`
	Prefix     *string             `yaml:"prefix"`
}

type yamlBootstrapPart struct {
	Table      string     `yaml:"table"`
	Query      *yamlQuery `yaml:"query"`
	KeyColumns []string   `yaml:"key_columns"`
}

type yamlLabelPart struct {
	Labels          []yamlJoinPart `yaml:"labels"`
	LeftStartOffset int32          `yaml:"left_start_offset"`
	LeftEndOffset   int32          `yaml:"left_end_offset"`
}

type yamlJoin struct {
	YAMLMetaData   `yaml:",inline"`
	Left           *yamlSource         `yaml:"left"`
	JoinParts      []yamlJoinPart      `yaml:"join_parts"`
	Derivations    []yamlDerivation    `yaml:"derivations"`
	RowIDs         []string            `yaml:"row_ids"`
	SkewKeys       map[string][]string `yaml:"skew_keys"`
	BootstrapParts []yamlBootstrapPart `yaml:"bootstrap_parts"`
	LabelPart      *yamlLabelPart      `yaml:"label_part"`
	ExternalParts  []yamlExternalPart  `yaml:"external_parts"`
}

type yamlStagingQuery struct {
	YAMLMetaData   `yaml:",inline"`
	Query          string   `yaml:"query"`
	StartPartition string   `yaml:"start_partition"`
	Setups         []string `yaml:"setups"`
	CreateView     bool     `yaml:"create_view"`
}

// conversion helpers ---------------------------------------------------------

// fieldErr is an error at a YAML path inside an entry ("aggregations[1].k").
type fieldErr struct {
	path string
	msg  string
}

func (e *fieldErr) Error() string { return e.path + ": " + e.msg }

func (m *YAMLMetaData) toMetaData(name, team string) (*MetaData, error) {
	md := &MetaData{
		Name: name, Online: Bool(m.Online), Production: Bool(m.Production), Description: m.Description,
		OutputNamespace: m.OutputNamespace, Team: team, TableProperties: m.TableProperties,
		ModeToEnvMap: m.Env, ConsistencyCheck: Bool(m.ConsistencyCheck), SamplePercent: m.SamplePercent,
		OfflineSchedule: m.OfflineSchedule, HistoricalBackfill: Bool(m.HistoricalBackfill),
		DeprecationDate: m.DeprecationDate,
	}
	if m.Team != "" {
		md.Team = m.Team
	}
	if md.OfflineSchedule == "" {
		md.OfflineSchedule = "@daily"
	}
	if m.ConsistencySamplePercent != nil {
		md.ConsistencySamplePercent = *m.ConsistencySamplePercent
	} else if m.ConsistencyCheck {
		md.ConsistencySamplePercent = 5
	}
	for i, d := range m.Dependencies {
		switch d := d.(type) {
		case string:
			md.Dependencies = append(md.Dependencies, d)
		default:
			b, err := json.Marshal(d)
			if err != nil {
				return nil, &fieldErr{fmt.Sprintf("dependencies[%d]", i), err.Error()}
			}
			md.Dependencies = append(md.Dependencies, string(b))
		}
	}
	if m.CustomJSON != nil {
		b, err := json.Marshal(m.CustomJSON)
		if err != nil {
			return nil, &fieldErr{"custom_json", err.Error()}
		}
		md.CustomJSON = string(b)
	}
	return md, nil
}

func (q *yamlQuery) toQuery() *Query {
	if q == nil {
		return &Query{Setups: []string{}}
	}
	if q.Setups == nil {
		q.Setups = []string{}
	}
	out := &Query{Wheres: q.Wheres, StartPartition: q.StartPartition, EndPartition: q.EndPartition,
		TimeColumn: q.TimeColumn, Setups: q.Setups, MutationTimeColumn: q.MutationTimeColumn,
		ReversalColumn: q.ReversalColumn, PartitionColumn: q.PartitionColumn}
	if q.Selects != nil {
		out.Selects = q.Selects.m
	}
	return out
}

func (a *yamlAggregation) toAggregation(path string) (*Aggregation, error) {
	if a.Operation == "" {
		return nil, &fieldErr{path + ".operation", "is required"}
	}
	op, err := ParseOperation(a.Operation)
	if err != nil {
		return nil, &fieldErr{path + ".operation", err.Error()}
	}
	out := &Aggregation{InputColumn: a.InputColumn, Operation: op, ArgMap: map[string]string{},
		Buckets: a.Buckets, ElementWise: Bool(a.ElementWise)}
	for k, v := range a.ArgMap {
		out.ArgMap[k] = v
	}
	if a.K != nil {
		out.ArgMap["k"] = strconv.Itoa(*a.K)
	}
	if op == OpApproxPercentile {
		if _, ok := out.ArgMap["k"]; !ok {
			out.ArgMap["k"] = "128"
		}
		if len(a.Percentiles) > 0 {
			out.ArgMap["percentiles"] = formatPercentiles(a.Percentiles)
		}
	}
	for i, w := range a.Windows {
		win, err := ParseWindow(w)
		if err != nil {
			return nil, &fieldErr{fmt.Sprintf("%s.windows[%d]", path, i), err.Error()}
		}
		out.Windows = append(out.Windows, win)
	}
	return out, nil
}

// formatPercentiles writes percentiles as Chronon's Python does: "[0.5, 0.99]".
func formatPercentiles(ps []float64) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = strconv.FormatFloat(p, 'f', -1, 64)
		if !strings.ContainsAny(parts[i], ".e") {
			parts[i] += ".0"
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func toDerivations(ds []yamlDerivation) []*Derivation {
	var out []*Derivation
	for _, d := range ds {
		out = append(out, &Derivation{Name: d.Name, Expression: d.Expression})
	}
	return out
}

// parseTypeName parses a type written in YAML: a scalar kind ("string",
// "long") or list<T> / map<K,V>.
func parseTypeName(s string) (*TDataType, error) {
	t := strings.TrimSpace(strings.ToLower(s))
	switch {
	case strings.HasPrefix(t, "list<") && strings.HasSuffix(t, ">"):
		elem, err := parseTypeName(t[5 : len(t)-1])
		if err != nil {
			return nil, err
		}
		return &TDataType{Kind: ListKind, Params: []*DataField{{Name: "elem", DataType: elem}}}, nil
	case strings.HasPrefix(t, "map<") && strings.HasSuffix(t, ">"):
		k, v, ok := strings.Cut(t[4:len(t)-1], ",")
		if !ok {
			return nil, fmt.Errorf("bad map type %q: want map<key,value>", s)
		}
		kt, err := parseTypeName(k)
		if err != nil {
			return nil, err
		}
		vt, err := parseTypeName(v)
		if err != nil {
			return nil, err
		}
		return &TDataType{Kind: MapKind, Params: []*DataField{{Name: "key", DataType: kt}, {Name: "value", DataType: vt}}}, nil
	}
	k, err := ParseDataKind(t)
	if err != nil {
		return nil, err
	}
	return &TDataType{Kind: k}, nil
}

func structType(name string, fields yaml.MapSlice, path string) (*TDataType, error) {
	st := &TDataType{Kind: StructKind, Name: name}
	for _, f := range fields {
		fname := fmt.Sprint(f.Key)
		dt, err := parseTypeName(fmt.Sprint(f.Value))
		if err != nil {
			return nil, &fieldErr{path + "." + fname, err.Error()}
		}
		st.Params = append(st.Params, &DataField{Name: fname, DataType: dt})
	}
	return st, nil
}

func (e *yamlExternalPart) toExternalPart(path string) (*ExternalPart, error) {
	out := &ExternalPart{KeyMapping: e.KeyMapping, Prefix: e.Prefix}
	switch {
	case e.Source != nil && e.Contextual != nil:
		return nil, &fieldErr{path, "set one of source and contextual"}
	case e.Contextual != nil:
		// Chronon's ContextualSource: values echo the request's keys.
		keys, err := structType("contextual_keys", e.Contextual, path+".contextual")
		if err != nil {
			return nil, err
		}
		vals, _ := structType("contextual_values", e.Contextual, path+".contextual")
		out.Source = &ExternalSource{MetaData: &MetaData{Name: "contextual", Team: "default"}, KeySchema: keys, ValueSchema: vals}
	case e.Source != nil:
		s := e.Source
		if s.Name == "" {
			return nil, &fieldErr{path + ".source.name", "is required"}
		}
		if s.Name == "contextual" {
			return nil, &fieldErr{path + ".source.name", `"contextual" is reserved: use contextual: {field: type}`}
		}
		keys, err := structType("ext_"+s.Name+"_keys", s.Keys, path+".source.keys")
		if err != nil {
			return nil, err
		}
		vals, err := structType("ext_"+s.Name+"_values", s.Values, path+".source.values")
		if err != nil {
			return nil, err
		}
		team := s.Team
		if team == "" {
			team = "default"
		}
		out.Source = &ExternalSource{MetaData: &MetaData{Name: s.Name, Team: team}, KeySchema: keys, ValueSchema: vals}
		if s.Factory != nil {
			out.Source.FactoryConfig = &ExternalSourceFactoryConfig{FactoryName: s.Factory.Name, FactoryParams: s.Factory.Params}
		}
	default:
		return nil, &fieldErr{path, "needs source or contextual"}
	}
	return out, nil
}

// yamlPath translates a compiled-JSON field path (from Validate) into the
// authoring path of the same field, as best it can: field names become
// snake_case, metaData fields sit at the entry's top level, argMap k and
// percentiles are written directly on the aggregation, and a join part's
// group-by is a reference (its own file reports its own problems).
func yamlPath(jsonPath string) string {
	toks := splitPath(jsonPath)
	var out []string
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case t == "metaData" || t == "metadata":
			continue
		case t == "argMap" && i+1 < len(toks) && (toks[i+1] == "k" || toks[i+1] == "percentiles"):
			continue
		case t == "groupBy":
			return strings.Join(append(out, "group_by"), ".")
		case t == "onlineExternalParts":
			out = append(out, "external_parts")
			continue
		case t == "argMap":
			out = append(out, "arg_map")
			continue
		case strings.HasPrefix(t, "["):
			if len(out) > 0 {
				out[len(out)-1] += t
				continue
			}
		}
		out = append(out, snake(t))
	}
	return strings.Join(out, ".")
}

// splitPath splits "a.b[1].c" into ["a", "b", "[1]", "c"].
func splitPath(p string) []string {
	var out []string
	for _, part := range strings.Split(p, ".") {
		for {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				break
			}
			if i > 0 {
				out = append(out, part[:i])
			}
			j := strings.IndexByte(part, ']')
			if j < i {
				break
			}
			out = append(out, part[i:j+1])
			part = part[j+1:]
		}
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

func snake(s string) string {
	switch s {
	case "keyColumns":
		return "key_columns"
	case "rowIds":
		return "row_ids"
	}
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r - 'A' + 'a')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// nodeLine finds the line and column of the deepest node that exists along
// path (a YAML path inside entry), falling back to the entry itself.
func nodeLine(f *ast.File, entry, path string) (int, int) {
	toks := splitPath(path)
	for n := len(toks); n >= 0; n-- {
		var b strings.Builder
		b.WriteString("$.")
		b.WriteString(quotePathKey(entry))
		for _, t := range toks[:n] {
			if strings.HasPrefix(t, "[") {
				b.WriteString(t)
			} else {
				b.WriteByte('.')
				b.WriteString(quotePathKey(t))
			}
		}
		p, err := yaml.PathString(b.String())
		if err != nil {
			continue
		}
		node, err := p.FilterFile(f)
		if err != nil || node == nil || node.GetToken() == nil {
			continue
		}
		pos := node.GetToken().Position
		return pos.Line, pos.Column
	}
	return 0, 0
}

func quotePathKey(k string) string {
	for _, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "'" + k + "'"
		}
	}
	return k
}
