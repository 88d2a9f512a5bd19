// SPDX-License-Identifier: Apache-2.0

package api

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Kind is the kind of a compiled definition.
type Kind string

// Kinds of definitions, named as their folders under production/.
const (
	KindGroupBy      Kind = "group_bys"
	KindJoin         Kind = "joins"
	KindStagingQuery Kind = "staging_queries"
)

// Kinds lists every kind in compile order.
var Kinds = []Kind{KindStagingQuery, KindGroupBy, KindJoin}

// MarshalJSON writes setups as [] when empty, like Chronon's compiler.
func (q *Query) MarshalJSON() ([]byte, error) {
	type plain Query
	c := *q
	if c.Setups == nil {
		c.Setups = []string{}
	}
	return json.Marshal((*plain)(&c))
}

// MarshalJSON writes joinParts as [] when empty: it is the one required list.
func (j *Join) MarshalJSON() ([]byte, error) {
	type plain Join
	c := *j
	if c.JoinParts == nil {
		c.JoinParts = []*JoinPart{}
	}
	return json.Marshal((*plain)(&c))
}

// MarshalJSON writes argMap as {} when empty, like Chronon's compiler.
func (a *Aggregation) MarshalJSON() ([]byte, error) {
	type plain Aggregation
	c := *a
	if c.ArgMap == nil {
		c.ArgMap = map[string]string{}
	}
	return json.Marshal((*plain)(&c))
}

// Marshal writes a definition as Chronon's compiled JSON (two-space indent,
// like compile.py), ending with a newline.
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// compact writes v as compact JSON, the form semantic hashes are taken over.
func compact(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Every model type marshals; a failure here is a programming error.
		panic(fmt.Sprintf("api: marshal %T: %v", v, err))
	}
	return bytes.TrimRight(buf.Bytes(), "\n")
}

// ParseGroupBy reads a GroupBy from Chronon's compiled JSON.
func ParseGroupBy(data []byte) (*GroupBy, error) {
	var g GroupBy
	if err := unmarshal(data, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// ParseJoin reads a Join from Chronon's compiled JSON.
func ParseJoin(data []byte) (*Join, error) {
	var j Join
	if err := unmarshal(data, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// ParseStagingQuery reads a StagingQuery from Chronon's compiled JSON.
func ParseStagingQuery(data []byte) (*StagingQuery, error) {
	var s StagingQuery
	if err := unmarshal(data, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// ParseGroupByServingInfo reads the serving info a batch upload stores
// with a GroupBy's values (KV key ServingInfoKey).
func ParseGroupByServingInfo(data []byte) (*GroupByServingInfo, error) {
	var s GroupByServingInfo
	if err := unmarshal(data, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Parse reads a compiled definition of the given kind.
func Parse(kind Kind, data []byte) (any, error) {
	switch kind {
	case KindGroupBy:
		return ParseGroupBy(data)
	case KindJoin:
		return ParseJoin(data)
	case KindStagingQuery:
		return ParseStagingQuery(data)
	}
	return nil, fmt.Errorf("unknown definition kind %q (supported: group_bys, joins, staging_queries)", kind)
}

// unmarshal decodes JSON, ignoring unknown fields as Chronon's reader does,
// and turns type errors into messages naming the field.
func unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("field %s: cannot read JSON %s as %s", te.Field, te.Value, te.Type)
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(data, se.Offset)
			return fmt.Errorf("line %d, column %d: %v", line, col, se)
		}
		return err
	}
	return nil
}

func lineCol(data []byte, offset int64) (int, int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	before := data[:offset]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// md5Base64 is Chronon's HashUtils.md5Base64: the first 10 characters of the
// Base64 of the MD5 digest.
func md5Base64(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])[:10]
}

// SemanticHash hashes everything that decides a GroupBy's values: the
// definition without its metadata (renaming, owners and schedules do not
// recompute data) and the effective window tail mode ("exact" or "hop", see
// EffectiveWindowTail), since switching it changes windowed values.
func (g *GroupBy) SemanticHash(windowTail string) string {
	c := *g
	c.MetaData = nil
	return md5Base64(append(compact(&c), "\x00window_tail="+windowTail...))
}

// WindowTailKey is the customJson key that overrides chronon.yaml's
// window_tail for one GroupBy: {"window_tail": "hop"}.
const WindowTailKey = "window_tail"

// EffectiveWindowTail returns the GroupBy's window tail mode: its customJson
// window_tail if set, else global (chronon.yaml's window_tail; "" means
// "exact").
func (g *GroupBy) EffectiveWindowTail(global string) (string, error) {
	mode := global
	if cj := g.MetaData.GetCustomJSON(); cj != "" {
		var custom map[string]any
		if err := json.Unmarshal([]byte(cj), &custom); err != nil {
			return "", fmt.Errorf("%s: customJson: %w", g.MetaData.GetName(), err)
		}
		if v, ok := custom[WindowTailKey]; ok {
			s, ok := v.(string)
			if !ok {
				return "", fmt.Errorf("%s: customJson %s must be a string, got %v", g.MetaData.GetName(), WindowTailKey, v)
			}
			mode = s
		}
	}
	switch mode {
	case "":
		return "exact", nil
	case "exact", "hop":
		return mode, nil
	}
	return "", fmt.Errorf("%s: window_tail %q is not supported (supported: exact, hop)", g.MetaData.GetName(), mode)
}

// Semantic hash keys of a Join (Chronon's JoinOps.semanticHash).
const (
	LeftSourceHashKey = "left_source"
	DerivationHashKey = "derivations"
)

// SemanticHashes hashes each independently recomputable piece of a Join:
// the left source, each join part (keyed by its part table, including its
// GroupBy's effective window tail under global windowTail) and the
// derivations. A change in one piece recomputes only what depends on it.
func (j *Join) SemanticHashes(windowTail string) map[string]string {
	out := map[string]string{LeftSourceHashKey: md5Base64(compact(j.Left))}
	for _, jp := range j.JoinParts {
		c := *jp
		gb := *jp.GroupBy
		gb.MetaData = &MetaData{Name: jp.GroupBy.MetaData.GetName()}
		c.GroupBy = &gb
		mode, err := jp.GroupBy.EffectiveWindowTail(windowTail)
		if err != nil {
			mode = "invalid:" + windowTail // Validate reports it
		}
		out[j.PartOutputTable(jp)] = md5Base64(append(compact(&c), "\x00window_tail="+mode...))
	}
	if len(j.Derivations) > 0 {
		out[DerivationHashKey] = md5Base64(compact(j.Derivations))
	}
	if len(j.BootstrapParts) > 0 {
		out[j.MetaData.OutputTable()+SuffixBootstrap] = md5Base64(compact(j.BootstrapParts))
	}
	return out
}

// SemanticHash hashes a StagingQuery's query, setups and start partition.
func (s *StagingQuery) SemanticHash() string {
	c := *s
	c.MetaData = nil
	return md5Base64(compact(&c))
}

// KindOfPath finds the kind of a compiled file from its path
// (".../production/joins/team/name" -> KindJoin).
func KindOfPath(path string) (Kind, bool) {
	parts := strings.Split(strings.ReplaceAll(path, "\\", "/"), "/")
	for i := len(parts) - 2; i >= 0; i-- {
		switch k := Kind(parts[i]); k {
		case KindGroupBy, KindJoin, KindStagingQuery:
			return k, true
		}
	}
	return "", false
}
