// SPDX-License-Identifier: Apache-2.0

package fetcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/online"
	"github.com/chronon-go/chronon/plugins/kv"
)

// servingGroupBy is a GroupBy compiled from its serving info: what a fetch
// needs to encode keys and decode and finalize batch values.
type servingGroupBy struct {
	info    *online.ServingInfo
	name    string
	dataset string
	// streamDataset is the _STREAMING dataset of a TEMPORAL GroupBy with
	// a streaming source ("" otherwise); mutations says it holds an entity
	// source's mutation rows rather than event tiles.
	streamDataset string
	// noStreamUntil (unix ms) skips streaming reads while the streaming
	// dataset is known not to exist (no job has run yet): a fetch then
	// needs no KV call at all when its batch value is cached.
	noStreamUntil atomic.Int64
	mutations     bool
	valueTypes    []arrow.DataType // of the event values (mutation rows)
	keys          []string
	keyTypes      []arrow.DataType
	// temporal GroupBys store IRs (core/agg BatchValue); the others their
	// finalized values (core/online rows).
	temporal bool
	gb       *backfill.GroupBy
	outTypes []arrow.DataType
	// derive applies the GroupBy's derivations (nil without).
	derive *deriver
	// Columns are the value columns a fetch returns, in order.
	Columns []arrow.Field

	mu       sync.Mutex
	prefixed map[string][]string // column names by join part prefix
}

// names returns the column names with a join part's prefix, computed once.
func (s *servingGroupBy) names(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.prefixed[prefix]; ok {
		return n
	}
	if s.prefixed == nil {
		s.prefixed = map[string][]string{}
	}
	n := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		n[i] = prefix + "_" + c.Name
	}
	s.prefixed[prefix] = n
	return n
}

// servingGroupBy returns the compiled serving info of a GroupBy by name.
func (f *Fetcher) servingGroupBy(ctx context.Context, name string) (*servingGroupBy, error) {
	name = DefinitionName(name)
	return f.groupBys.get(ctx, name, func(ctx context.Context) (*servingGroupBy, error) {
		dataset := (&api.MetaData{Name: name}).BatchDataset()
		value, err := f.latest(ctx, dataset, api.ServingInfoKey)
		switch {
		case errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("%w: group_by %s has no batch upload (dataset %s)", ErrNotFound, name, dataset)
		case err != nil:
			return nil, fmt.Errorf("group_by %s: read serving info: %w", name, err)
		}
		info, err := online.ParseServingInfo(value)
		if err != nil {
			return nil, fmt.Errorf("group_by %s: %w", name, err)
		}
		return compileServing(info)
	})
}

func compileServing(info *online.ServingInfo) (*servingGroupBy, error) {
	g := info.GroupBy
	name := g.MetaData.GetName()
	tail := info.WindowTail
	if tail == "" {
		tail = "exact"
	}
	mode, err := agg.ParseTailMode(tail)
	if err != nil {
		return nil, fmt.Errorf("group_by %s: serving info: %w", name, err)
	}
	gb, err := backfill.CompileGroupBy(g, info.Selected, mode)
	if err != nil {
		return nil, fmt.Errorf("group_by %s: serving info: %w", name, err)
	}
	s := &servingGroupBy{
		info:     info,
		name:     name,
		dataset:  g.MetaData.BatchDataset(),
		keys:     g.KeyColumns,
		temporal: g.InferredAccuracy() == api.Temporal && g.Aggregations != nil,
		gb:       gb,
		Columns:  gb.Output,
	}
	if i := backfill.StreamingSource(g); s.temporal && i >= 0 {
		s.streamDataset = g.MetaData.StreamingDataset()
		s.mutations = g.Sources[i].Entities != nil
		for _, f := range gb.Values {
			s.valueTypes = append(s.valueTypes, f.Type)
		}
	}
	var keyFields []arrow.Field
	for _, k := range g.KeyColumns {
		f := info.Selected.Field(info.Selected.FieldIndices(k)[0])
		s.keyTypes = append(s.keyTypes, f.Type)
		keyFields = append(keyFields, f)
	}
	for _, f := range gb.Output {
		s.outTypes = append(s.outTypes, f.Type)
	}
	if len(g.Derivations) > 0 {
		var base []string
		for _, f := range gb.Output {
			base = append(base, f.Name)
		}
		fields := append(append(keyFields, gb.Output...), arrow.Field{Name: api.PartitionColumn, Type: arrow.BinaryTypes.String, Nullable: true})
		if s.derive, err = newDeriver(name, g.Derivations, arrow.NewSchema(fields, nil), base, false); err != nil {
			return nil, err
		}
		s.Columns = s.derive.columns
	}
	return s, nil
}

// encodeKey coerces key values (aligned with s.keys) to the key columns'
// types and encodes them as the upload did. null reports a null key value:
// such requests are not sent to the KV store (Chronon's rule).
func (s *servingGroupBy) encodeKey(vals []any) (key []byte, coerced []any, null bool, err error) {
	coerced = make([]any, len(vals))
	for i, v := range vals {
		if v == nil {
			return nil, nil, true, nil
		}
		if coerced[i], err = online.CoerceKey(v, s.keyTypes[i]); err != nil {
			return nil, nil, false, fmt.Errorf("key %s: %w", s.keys[i], err)
		}
	}
	key, err = online.AppendKey(nil, coerced)
	if err != nil {
		return nil, nil, false, fmt.Errorf("group_by %s: %w", s.name, err)
	}
	return key, coerced, false, nil
}

// lookup is one GroupBy value to fetch: a key at a time.
type lookup struct {
	gb   *servingGroupBy
	key  []byte
	keys []any // coerced key values, for derivations
	t    int64
}

// lookupResult is a lookup's values (aligned with gb.Columns), nil
// without data, or its error.
type lookupResult struct {
	row []any
	err error
}

// batchEntry is a decoded batch value of one key.
type batchEntry struct {
	batchEnd int64 // the serving info's batch end it was read under
	found    bool
	bv       *agg.BatchValue
	row      []any
}

// lookupAll fetches every lookup with one KV call: the batch values not
// in the cache and, for GroupBys with a streaming source, the streaming
// tiles after the batch end (never cached: they change all the time) with
// the chunks of the spans a window tail may cut. A span cut otherwise (by
// the head, or a tail the guess missed) costs a second call.
func (f *Fetcher) lookupAll(ctx context.Context, lks []lookup) []lookupResult {
	out := make([]lookupResult, len(lks))
	entries := make([]*batchEntry, len(lks))
	streams := make([]streamed, len(lks))
	var rb requestBatch
	for i, lk := range lks {
		ck := "b\x00" + lk.gb.dataset + "\x00" + string(lk.key)
		if e, ok := f.batches.get(ck); ok && e.batchEnd == lk.gb.info.BatchEnd {
			entries[i] = e
		} else {
			rb.ask(ck, kv.GetRequest{Dataset: lk.gb.dataset, Key: lk.key}, i)
		}
		if lk.gb.streamDataset != "" && f.now().UnixMilli() >= lk.gb.noStreamUntil.Load() {
			// AfterMillis 0 would mean "latest only": ask from 1 at least.
			after := max(lk.gb.info.BatchEnd, 1)
			rb.ask("s\x00"+lk.gb.streamDataset+"\x00"+string(lk.key), kv.GetRequest{Dataset: lk.gb.streamDataset, Key: lk.key, AfterMillis: after}, i)
			if !lk.gb.mutations {
				for _, span := range lk.gb.gb.Spec.TailSpans(lk.gb.info.BatchEnd, lk.t) {
					rb.askChunks(lk, span, i)
				}
			}
		}
	}
	fail := func(waiting []int, err error) {
		for _, i := range waiting {
			if out[i].err == nil {
				out[i].err = err
			}
		}
	}
	f.runBatch(ctx, &rb, func(pr pendingReq, waiting []int, vals []kv.Entry, rerr error) {
		gb := lks[waiting[0]].gb
		switch {
		case pr.kind != 'b' && errors.Is(rerr, kv.ErrNoDataset):
			// No streaming job has written yet; look again later.
			gb.noStreamUntil.Store(f.now().Add(f.opts.MetadataTTL).UnixMilli())
		case rerr != nil:
			fail(waiting, fmt.Errorf("group_by %s: kv read: %w", gb.name, rerr))
		case pr.kind == 'c':
			for _, i := range waiting {
				streams[i].addChunks(pr.span, vals)
			}
		case pr.kind == 's':
			sd, derr := gb.decodeStreamed(vals)
			if derr != nil {
				fail(waiting, derr)
				return
			}
			for _, i := range waiting {
				// Each lookup gets its own tiles: attachFine sets their fine
				// sub-tiles by what that lookup read.
				streams[i].tiles, streams[i].spans, streams[i].chunks, streams[i].muts = slices.Clone(sd.tiles), sd.spans, sd.chunks, sd.muts
			}
		default:
			e, derr := gb.decode(vals)
			if derr != nil {
				fail(waiting, derr)
				return
			}
			f.batches.put(pr.ck, e)
			for _, i := range waiting {
				entries[i] = e
			}
		}
	})
	// Spans a window edge cuts need their fine sub-tiles: from the chunks
	// read along, or read now.
	var more requestBatch
	for i, lk := range lks {
		if out[i].err != nil || len(streams[i].tiles) == 0 {
			continue
		}
		for _, ti := range lk.gb.gb.Spec.CutTiles(lk.gb.info.BatchEnd, streams[i].tiles, lk.t) {
			if span := streams[i].spans[ti]; !streams[i].hasChunks(span) {
				more.askChunks(lk, span, i)
			}
		}
	}
	f.runBatch(ctx, &more, func(pr pendingReq, waiting []int, vals []kv.Entry, rerr error) {
		if rerr != nil {
			fail(waiting, fmt.Errorf("group_by %s: kv read: %w", lks[waiting[0]].gb.name, rerr))
			return
		}
		for _, i := range waiting {
			streams[i].addChunks(pr.span, vals)
		}
	})
	for i, e := range entries {
		if e == nil || out[i].err != nil {
			continue
		}
		if err := streams[i].attachFine(lks[i].gb); err != nil {
			out[i].err = err
			continue
		}
		out[i].row, out[i].err = f.finalize(lks[i], e, streams[i])
	}
	return out
}

// requestBatch collects the KV requests of a fetch, each asked once
// however many lookups wait for it.
type requestBatch struct {
	reqs    []kv.GetRequest
	pend    []pendingReq
	waiting map[string][]int // by pendingReq.ck: the lookups waiting
}

// pendingReq says what a request in a requestBatch is for: kind 'b' a
// batch value, 's' streaming tiles, 'c' the chunks of the span at span.
type pendingReq struct {
	ck   string
	kind byte
	span int64
}

func (rb *requestBatch) ask(ck string, req kv.GetRequest, i int) {
	rb.add(pendingReq{ck: ck, kind: ck[0]}, req, i)
}

func (rb *requestBatch) add(pr pendingReq, req kv.GetRequest, i int) {
	if rb.waiting == nil {
		rb.waiting = map[string][]int{}
	}
	if _, ok := rb.waiting[pr.ck]; !ok {
		rb.reqs = append(rb.reqs, req)
		rb.pend = append(rb.pend, pr)
	}
	rb.waiting[pr.ck] = append(rb.waiting[pr.ck], i)
}

// askChunks asks for the chunks of lk's streaming span at span.
func (rb *requestBatch) askChunks(lk lookup, span int64, i int) {
	key := online.ChunkKey(lk.key, span)
	ck := "c\x00" + lk.gb.streamDataset + "\x00" + string(key)
	rb.add(pendingReq{ck: ck, kind: 'c', span: span},
		kv.GetRequest{Dataset: lk.gb.streamDataset, Key: key, AfterMillis: online.ChunkTs(span, 1)}, i)
}

// runBatch sends a batch's requests in one KV call and hands each answer,
// or the error of the call or the request, to handle.
func (f *Fetcher) runBatch(ctx context.Context, rb *requestBatch, handle func(pr pendingReq, waiting []int, vals []kv.Entry, err error)) {
	if len(rb.reqs) == 0 {
		return
	}
	res, err := f.multiGet(ctx, rb.reqs)
	for ri, pr := range rb.pend {
		rerr := err
		var vals []kv.Entry
		if rerr == nil {
			rerr, vals = res[ri].Err, res[ri].Values
		}
		handle(pr, rb.waiting[pr.ck], vals, rerr)
	}
}

// streamed is a key's streaming data after the batch end: event tiles
// (span summaries, and the chunks read of some spans), or an entity
// source's mutation rows.
type streamed struct {
	tiles  []agg.Tile
	spans  []int64 // the span start of each tile
	chunks []int   // the chunk count of each tile
	read   map[int64][]online.ChunkEntry
	muts   []agg.Mutation
}

func (d streamed) empty() bool { return len(d.tiles) == 0 && len(d.muts) == 0 }

func (d *streamed) hasChunks(span int64) bool {
	_, ok := d.read[span]
	return ok
}

func (d *streamed) addChunks(span int64, vals []kv.Entry) {
	if d.read == nil {
		d.read = map[int64][]online.ChunkEntry{}
	}
	cs := make([]online.ChunkEntry, len(vals))
	for i, v := range vals {
		cs[i] = online.ChunkEntry{TsMillis: v.TsMillis, Value: v.Value}
	}
	d.read[span] = cs
}

// attachFine gives the tiles whose chunks were read their fine sub-tiles.
func (d *streamed) attachFine(gb *servingGroupBy) error {
	for ti, span := range d.spans {
		cs, ok := d.read[span]
		if !ok {
			continue
		}
		fine, err := online.FineOf(gb.gb.Spec, span, d.chunks[ti], cs)
		if err != nil {
			return fmt.Errorf("group_by %s: streaming span at %d: %w", gb.name, span, err)
		}
		d.tiles[ti].Fine = fine
	}
	return nil
}

// decodeStreamed decodes a key's streaming span summaries (or mutation
// tiles).
func (s *servingGroupBy) decodeStreamed(vals []kv.Entry) (streamed, error) {
	var out streamed
	for _, v := range vals {
		if s.mutations {
			mt, err := online.DecodeMutationTile(v.Value, s.valueTypes)
			if err != nil {
				return streamed{}, fmt.Errorf("group_by %s: decode mutation tile at %d: %w", s.name, v.TsMillis, err)
			}
			out.muts = append(out.muts, mt.Muts...)
			continue
		}
		tl, chunks, err := online.DecodeSummary(s.gb.Spec, v.Value)
		if err != nil {
			return streamed{}, fmt.Errorf("group_by %s: decode streaming tile at %d: %w", s.name, v.TsMillis, err)
		}
		out.tiles = append(out.tiles, tl)
		out.spans = append(out.spans, v.TsMillis)
		out.chunks = append(out.chunks, chunks)
	}
	return out, nil
}

// decode decodes a key's latest batch value. A value older than the
// serving info's batch end belongs to an earlier upload that the latest
// one no longer has: it is missing (Chronon's rule).
func (s *servingGroupBy) decode(vals []kv.Entry) (*batchEntry, error) {
	e := &batchEntry{batchEnd: s.info.BatchEnd}
	if len(vals) == 0 {
		return e, nil
	}
	latest := vals[len(vals)-1]
	if latest.TsMillis < s.info.BatchEnd {
		return e, nil
	}
	e.found = true
	var err error
	if s.temporal {
		e.bv, err = s.gb.Spec.DecodeBatchValue(latest.Value)
	} else {
		e.row, err = online.DecodeRow(latest.Value, s.outTypes)
	}
	if err != nil {
		return nil, fmt.Errorf("group_by %s: decode batch value: %w", s.name, err)
	}
	return e, nil
}

// finalize computes a lookup's values (aligned with gb.Columns; nil
// without data) from its key's batch value and streaming tiles.
func (f *Fetcher) finalize(lk lookup, e *batchEntry, sd streamed) ([]any, error) {
	if !e.found && sd.empty() {
		return nil, nil
	}
	row := e.row
	if lk.gb.temporal {
		var err error
		bv := e.bv
		if !e.found {
			bv = nil // streaming data only
		}
		if lk.gb.mutations {
			row, err = lk.gb.gb.Spec.FetchMutations(bv, sd.muts, lk.t)
		} else {
			row, err = lk.gb.gb.Spec.Fetch(bv, sd.tiles, lk.t)
		}
		if errors.Is(err, agg.ErrBeforeBatch) {
			// Chronon answers nothing for a time before the batch end and
			// counts it.
			if m := f.opts.Metrics; m != nil {
				m.beforeBatch.WithLabelValues(lk.gb.name).Inc()
			}
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("group_by %s: %w", lk.gb.name, err)
		}
		if bv != nil && bv.Stale(lk.t) {
			f.stale.note(f, lk.gb, lk.t)
		}
	}
	if lk.gb.derive == nil {
		return row, nil
	}
	in := make(map[string]any, len(row)+len(lk.keys)+1)
	for i, c := range lk.gb.gb.Output {
		in[c.Name] = row[i]
	}
	for i, k := range lk.gb.keys {
		in[k] = lk.keys[i]
	}
	in[api.PartitionColumn] = batch.DSOfMillis(lk.t)
	out, err := lk.gb.derive.apply([]map[string]any{in})
	if err != nil {
		return nil, fmt.Errorf("group_by %s: derivations: %w", lk.gb.name, err)
	}
	derived := make([]any, len(lk.gb.Columns))
	for i, c := range lk.gb.Columns {
		derived[i] = out[0][c.Name]
	}
	return derived, nil
}

// staleLog logs a stale fetch once per GroupBy and batch end; every one
// is counted.
type staleLog struct {
	mu   sync.Mutex
	seen map[string]int64
}

func (s *staleLog) note(f *Fetcher, gb *servingGroupBy, t int64) {
	if m := f.opts.Metrics; m != nil {
		m.stale.WithLabelValues(gb.name).Inc()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]int64{}
	}
	if s.seen[gb.name] == gb.info.BatchEnd {
		return
	}
	s.seen[gb.name] = gb.info.BatchEnd
	f.log.Warn("fetch after the batch value's exact range: short windows may still count events that left them; upload a newer day",
		"group_by", gb.name, "batch_ds", gb.info.BatchDS, "at_millis", t)
}

// FetchGroupBy answers GroupBy requests: each GroupBy's value columns for
// a key, as of the request time.
func (f *Fetcher) FetchGroupBy(ctx context.Context, reqs []Request) []Response {
	out := make([]Response, len(reqs))
	var lks []lookup
	var idx []int
	for i, r := range reqs {
		out[i].Request = r
		gb, err := f.servingGroupBy(ctx, r.Name)
		if err != nil {
			out[i].Err = err
			continue
		}
		vals, missing := gather(r.Keys, gb.keys)
		if len(missing) > 0 {
			out[i].Err = &KeyMissingError{Keys: missing}
			continue
		}
		key, coerced, null, err := gb.encodeKey(vals)
		switch {
		case err != nil:
			out[i].Err = err
			continue
		case null:
			out[i].Values = map[string]any{}
			continue
		}
		lks = append(lks, lookup{gb: gb, key: key, keys: coerced, t: f.queryTime(r)})
		idx = append(idx, i)
	}
	for j, res := range f.lookupAll(ctx, lks) {
		i := idx[j]
		if res.err != nil {
			out[i].Err = res.err
			continue
		}
		vals := make(map[string]any, len(res.row))
		if res.row != nil {
			for c, col := range lks[j].gb.Columns {
				vals[col.Name] = res.row[c]
			}
		}
		out[i].Values = vals
	}
	f.count("group_by", out)
	return out
}

// gather picks names' values from a request's keys; missing lists the
// names the request lacks (a present null is not missing).
func gather(keys map[string]any, names []string) (vals []any, missing []string) {
	vals = make([]any, len(names))
	for i, n := range names {
		v, ok := keys[n]
		if !ok {
			missing = append(missing, n)
			continue
		}
		vals[i] = v
	}
	return vals, missing
}
