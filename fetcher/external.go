// SPDX-License-Identifier: Apache-2.0

package fetcher

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/online"
	"github.com/chronon-go/chronon/plugins/external"
)

// extPart is a join's external part: which handler answers it and how the
// request's keys reach the source's keys.
type extPart struct {
	source string
	prefix string // ext_[prefix_]name
	// leftKeys[i] is the request key feeding the source's key extKeys[i].
	leftKeys, extKeys []string
	keyTypes          []arrow.DataType
	fields            []arrow.Field // the source's value schema
	contextual        bool
}

func newExtPart(ep *api.ExternalPart) (*extPart, error) {
	if ep == nil || ep.Source == nil || ep.Source.MetaData == nil {
		return nil, fmt.Errorf("no source")
	}
	p := &extPart{source: ep.Source.MetaData.GetName(), prefix: ep.FullName()}
	p.contextual = p.source == external.Contextual
	keys, err := online.StructFields(ep.Source.KeySchema)
	if err != nil {
		return nil, fmt.Errorf("source %s keySchema: %w", p.source, err)
	}
	if ep.Source.ValueSchema != nil {
		if p.fields, err = online.StructFields(ep.Source.ValueSchema); err != nil {
			return nil, fmt.Errorf("source %s valueSchema: %w", p.source, err)
		}
	}
	extToLeft := map[string]string{}
	for l, e := range ep.KeyMapping {
		extToLeft[e] = l
	}
	for _, k := range keys {
		l, ok := extToLeft[k.Name]
		if !ok {
			l = k.Name
		}
		p.leftKeys = append(p.leftKeys, l)
		p.extKeys = append(p.extKeys, k.Name)
		p.keyTypes = append(p.keyTypes, k.Type)
	}
	return p, nil
}

// handler returns the handler of a source.
func (f *Fetcher) handler(source string) (external.Handler, error) {
	if h, ok := f.opts.Handlers[source]; ok {
		return h, nil
	}
	if source == external.Contextual {
		return external.ContextualHandler{}, nil
	}
	return nil, fmt.Errorf("no handler for external source %s (name it under external_sources in chronon.yaml)", source)
}

// fetchExternal answers the external parts of join responses: one handler
// call per source with the distinct key maps of all requests and parts.
func (f *Fetcher) fetchExternal(ctx context.Context, reqs []Request, plans []*joinPlan, out []Response) {
	type target struct {
		resp int
		part *extPart
	}
	type pending struct {
		req     external.Request
		targets []target
	}
	bySource := map[string][]*pending{}
	index := map[string]*pending{} // source + key map -> pending
	for i, p := range plans {
		if p == nil {
			continue
		}
		for _, ep := range p.conf.external {
			keys := make(map[string]any, len(ep.extKeys))
			var missing []string
			for k, l := range ep.leftKeys {
				v, ok := reqs[i].Keys[l]
				switch {
				case !ok && !ep.contextual:
					missing = append(missing, l)
				case v != nil:
					// Lossless conversion to the declared key type; the
					// handler sees the value as sent when it does not fit.
					if c, err := online.CoerceKey(v, ep.keyTypes[k]); err == nil {
						v = c
					}
				}
				keys[ep.extKeys[k]] = v
			}
			if len(missing) > 0 {
				out[i].Values[ep.prefix+"_exception"] = (&KeyMissingError{Keys: missing}).Error()
				continue
			}
			sig, err := json.Marshal(keys)
			if err != nil {
				out[i].Values[ep.prefix+"_exception"] = fmt.Sprintf("external source %s: keys: %v", ep.source, err)
				continue
			}
			id := ep.source + "\x00" + string(sig)
			pd, ok := index[id]
			if !ok {
				pd = &pending{req: external.Request{Keys: keys}}
				index[id] = pd
				bySource[ep.source] = append(bySource[ep.source], pd)
			}
			pd.targets = append(pd.targets, target{i, ep})
		}
	}
	for source, pds := range bySource {
		fail := func(err error) {
			for _, pd := range pds {
				for _, t := range pd.targets {
					out[t.resp].Values[t.part.prefix+"_exception"] = err.Error()
				}
			}
		}
		h, err := f.handler(source)
		if err != nil {
			fail(err)
			continue
		}
		calls := make([]external.Request, len(pds))
		for i, pd := range pds {
			calls[i] = pd.req
		}
		res, err := h.Fetch(ctx, calls)
		if err == nil && len(res) != len(calls) {
			err = fmt.Errorf("handler answered %d of %d requests", len(res), len(calls))
		}
		if err != nil {
			fail(fmt.Errorf("external source %s: %w", source, err))
			continue
		}
		for i, pd := range pds {
			for _, t := range pd.targets {
				vals := out[t.resp].Values
				if res[i].Err != nil {
					vals[t.part.prefix+"_exception"] = fmt.Sprintf("external source %s: %v", source, res[i].Err)
					continue
				}
				for _, fld := range t.part.fields {
					if v, ok := res[i].Values[fld.Name]; ok {
						vals[t.part.prefix+"_"+fld.Name] = coerceValue(v, fld.Type)
					}
				}
				if len(t.part.fields) == 0 {
					for k, v := range res[i].Values {
						vals[t.part.prefix+"_"+k] = v
					}
				}
			}
		}
	}
}

// coerceValue converts a handler's scalar value to the declared type when
// that loses nothing (a JSON 5.0 for a long field); other values pass.
func coerceValue(v any, t arrow.DataType) any {
	switch t.ID() {
	case arrow.STRING, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.FLOAT32, arrow.FLOAT64, arrow.BOOL:
		if c, err := online.CoerceKey(v, t); err == nil {
			return c
		}
	}
	return v
}
