// SPDX-License-Identifier: Apache-2.0

package fetcher

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
)

// Chronon's names for whole-stage failures of a join fetch.
const (
	derivationException = "derivation_fetch_exception"
)

// joinConf is a join definition read from the metadata dataset, with what
// does not depend on the uploads: each part's prefix and left keys.
type joinConf struct {
	join     *api.Join
	name     string
	parts    []confPart
	external []*extPart

	mu         sync.Mutex
	plans      map[string]*deriveCache // by the parts' serving infos
	nplans     int
	logSchemas map[string]*logSchema // by the parts' serving infos
}

type confPart struct {
	def    *api.JoinPart
	gbName string
	prefix string
	// leftToRight maps a left key column to the GroupBy key it joins.
	leftToRight map[string]string
}

type deriveCache struct {
	derive *deriver
	err    error
}

// joinConf returns a join's definition by name (team/name.v1 or
// team.name.v1).
func (f *Fetcher) joinConf(ctx context.Context, name string) (*joinConf, error) {
	name = DefinitionName(name)
	return f.joins.get(ctx, name, func(ctx context.Context) (*joinConf, error) {
		value, err := f.latest(ctx, api.MetadataDataset, api.MetadataKey(api.KindJoin, name))
		switch {
		case errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("%w: join %s is not in %s (run chronon metadata-upload)", ErrNotFound, name, api.MetadataDataset)
		case err != nil:
			return nil, fmt.Errorf("join %s: read definition: %w", name, err)
		}
		j, err := api.ParseJoin(value)
		if err != nil {
			return nil, fmt.Errorf("join %s: stored definition: %w", name, err)
		}
		return compileJoinConf(j)
	})
}

func compileJoinConf(j *api.Join) (*joinConf, error) {
	c := &joinConf{join: j, name: j.MetaData.GetName(), plans: map[string]*deriveCache{}}
	for i, jp := range j.JoinParts {
		if jp == nil || jp.GroupBy == nil || jp.GroupBy.MetaData == nil {
			return nil, fmt.Errorf("join %s: joinParts[%d]: no groupBy", c.name, i)
		}
		c.parts = append(c.parts, confPart{def: jp, gbName: jp.GroupBy.MetaData.GetName(), prefix: jp.FullPrefix(), leftToRight: jp.LeftToRight()})
	}
	for i, ep := range j.OnlineExternalParts {
		p, err := newExtPart(ep)
		if err != nil {
			return nil, fmt.Errorf("join %s: onlineExternalParts[%d]: %w", c.name, i, err)
		}
		c.external = append(c.external, p)
	}
	return c, nil
}

// planPart is a join part with its GroupBy's current serving info.
type planPart struct {
	*confPart
	gb *servingGroupBy
	// leftKeys are the request keys feeding gb's key columns, in order.
	leftKeys []string
	err      error
}

// joinPlan is what one fetch of a join uses.
type joinPlan struct {
	conf   *joinConf
	parts  []planPart
	derive *deriveCache // nil without derivations
}

// plan resolves a join's parts against their serving infos.
func (f *Fetcher) plan(ctx context.Context, name string) (*joinPlan, error) {
	c, err := f.joinConf(ctx, name)
	if err != nil {
		return nil, err
	}
	p := &joinPlan{conf: c, parts: make([]planPart, len(c.parts))}
	for i := range c.parts {
		pp := &p.parts[i]
		pp.confPart = &c.parts[i]
		pp.gb, pp.err = f.servingGroupBy(ctx, pp.gbName)
		if pp.err != nil {
			continue
		}
		rightToLeft := map[string]string{}
		for l, r := range pp.leftToRight {
			rightToLeft[r] = l
		}
		for _, k := range pp.gb.keys {
			l, ok := rightToLeft[k]
			if !ok {
				l = k
			}
			pp.leftKeys = append(pp.leftKeys, l)
		}
	}
	if len(c.join.Derivations) > 0 {
		p.derive = c.derivations(p.signature(), p)
	}
	return p, nil
}

// signature identifies the serving infos a plan resolved, which what is
// compiled per plan (derivations, the logging schema) depends on.
func (p *joinPlan) signature() string {
	var sig strings.Builder
	for _, pp := range p.parts {
		fmt.Fprintf(&sig, "%p,", pp.gb)
	}
	return sig.String()
}

// derivations compiles the join's derivations once per set of serving
// infos (they change when a day's upload lands).
func (c *joinConf) derivations(sig string, p *joinPlan) *deriveCache {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.plans[sig]; ok {
		return d
	}
	if len(c.plans) > 16 {
		clear(c.plans) // old uploads' plans
	}
	var fields []arrow.Field
	seen := map[string]bool{}
	add := func(f arrow.Field) {
		if !seen[f.Name] {
			seen[f.Name] = true
			fields = append(fields, f)
		}
	}
	var base []string
	for _, pp := range p.parts {
		if pp.err != nil {
			continue
		}
		for i, k := range pp.leftKeys {
			add(arrow.Field{Name: k, Type: pp.gb.keyTypes[i], Nullable: true})
		}
	}
	for _, ep := range c.external {
		for i, k := range ep.leftKeys {
			add(arrow.Field{Name: k, Type: ep.keyTypes[i], Nullable: true})
		}
	}
	for _, pp := range p.parts {
		if pp.err != nil {
			continue
		}
		for _, col := range pp.gb.Columns {
			col.Name = pp.prefix + "_" + col.Name
			col.Nullable = true
			add(col)
			base = append(base, col.Name)
		}
	}
	for _, ep := range c.external {
		for _, col := range ep.fields {
			col.Name = ep.prefix + "_" + col.Name
			add(col)
			base = append(base, col.Name)
		}
	}
	add(arrow.Field{Name: api.TimeColumn, Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	add(arrow.Field{Name: api.PartitionColumn, Type: arrow.BinaryTypes.String, Nullable: true})
	d, err := newDeriver(c.name, c.join.Derivations, arrow.NewSchema(fields, nil), base, true)
	dc := &deriveCache{derive: d, err: err}
	c.plans[sig] = dc
	return dc
}

// Columns returns a join's value columns with their types, after
// derivations, as a fetch returns them now (the parts' current uploads).
func (f *Fetcher) Columns(ctx context.Context, name string) (keys, values []arrow.Field, err error) {
	p, err := f.plan(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	if keys, values, err = p.baseFields(true); err != nil {
		return nil, nil, err
	}
	if p.derive != nil {
		if p.derive.err != nil {
			return nil, nil, p.derive.err
		}
		values = p.derive.derive.columns
	}
	return keys, values, nil
}

// baseFields returns the request keys and the values a fetch returns before
// derivations. A part whose serving info failed is an error when strict,
// and is left out otherwise.
func (p *joinPlan) baseFields(strict bool) (keys, values []arrow.Field, err error) {
	seen := map[string]bool{}
	for _, pp := range p.parts {
		if pp.err != nil {
			if strict {
				return nil, nil, pp.err
			}
			continue
		}
		for i, k := range pp.leftKeys {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, arrow.Field{Name: k, Type: pp.gb.keyTypes[i], Nullable: true})
			}
		}
		for _, col := range pp.gb.Columns {
			col.Name = pp.prefix + "_" + col.Name
			values = append(values, col)
		}
	}
	for _, ep := range p.conf.external {
		for i, k := range ep.leftKeys {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, arrow.Field{Name: k, Type: ep.keyTypes[i], Nullable: true})
			}
		}
		for _, col := range ep.fields {
			col.Name = ep.prefix + "_" + col.Name
			values = append(values, col)
		}
	}
	return keys, values, nil
}

// FetchJoin answers join requests: every join part's features for the
// request's keys (mapped to each GroupBy's keys), external parts through
// their handlers, then the join's derivations.
func (f *Fetcher) FetchJoin(ctx context.Context, reqs []Request) []Response {
	start := f.now().UnixMilli() // the logged time of requests without AtMillis
	out := make([]Response, len(reqs))
	plans := make([]*joinPlan, len(reqs))
	byName := map[string]*joinPlan{}
	type slot struct{ req, part int }
	var lks []lookup
	var slots []slot
	for i, r := range reqs {
		out[i].Request = r
		p, ok := byName[r.Name]
		if !ok {
			var err error
			if p, err = f.plan(ctx, r.Name); err != nil {
				out[i].Err = err
				continue
			}
			byName[r.Name] = p
		}
		plans[i] = p
		vals := map[string]any{}
		out[i].Values = vals
		t := f.queryTime(r)
		for pi := range p.parts {
			pp := &p.parts[pi]
			if pp.err != nil {
				vals[pp.prefix+"_exception"] = pp.err.Error()
				continue
			}
			keyVals, missing := gather(r.Keys, pp.leftKeys)
			if len(missing) > 0 {
				vals[pp.prefix+"_exception"] = (&KeyMissingError{Keys: missing}).Error()
				continue
			}
			key, coerced, null, err := pp.gb.encodeKey(keyVals)
			switch {
			case err != nil:
				vals[pp.prefix+"_exception"] = err.Error()
				continue
			case null:
				continue
			}
			lks = append(lks, lookup{gb: pp.gb, key: key, keys: coerced, t: t})
			slots = append(slots, slot{i, pi})
		}
	}
	for j, res := range f.lookupAll(ctx, lks) {
		s := slots[j]
		pp := &plans[s.req].parts[s.part]
		vals := out[s.req].Values
		if res.err != nil {
			vals[pp.prefix+"_exception"] = res.err.Error()
			continue
		}
		if res.row != nil {
			for c, name := range pp.gb.names(pp.prefix) {
				vals[name] = res.row[c]
			}
		}
	}
	f.fetchExternal(ctx, reqs, plans, out)
	for i, p := range plans {
		if p == nil {
			continue
		}
		base := out[i].Values
		if p.derive != nil {
			out[i].Values = derive(p.derive, reqs[i], f.queryTime(reqs[i]), base)
		}
		f.logResponse(p, reqs[i], start, base, out[i].Values)
	}
	f.count("join", out)
	return out
}

// derive applies a join's derivations to one response's values. The
// derivations see the request keys, the values, ts and ds (of the request
// time); _exception entries pass through. A failure keeps the base values
// and adds derivation_fetch_exception (Chronon's rule).
func derive(dc *deriveCache, r Request, t int64, vals map[string]any) map[string]any {
	if dc.err != nil {
		vals[derivationException] = dc.err.Error()
		return vals
	}
	in := make(map[string]any, len(vals)+len(r.Keys)+2)
	for k, v := range r.Keys {
		in[k] = v
	}
	for k, v := range vals {
		in[k] = v
	}
	in[api.TimeColumn] = t
	in[api.PartitionColumn] = batch.DSOfMillis(t)
	rows, err := dc.derive.apply([]map[string]any{in})
	if err != nil {
		vals[derivationException] = err.Error()
		return vals
	}
	derived := rows[0]
	for k, v := range vals {
		if strings.HasSuffix(k, "_exception") {
			derived[k] = v
		}
	}
	return derived
}
