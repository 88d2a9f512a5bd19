// SPDX-License-Identifier: Apache-2.0

package stream

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
	core "github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/online"
	"github.com/chronon-go/chronon/plugins/kv"
)

// Message is one decoded source event: its id (unique per event; the
// Pub/Sub message id), the source table's column values and the partition
// it belongs to (the day of its publish time).
type Message struct {
	ID  string
	Row map[string]any
	DS  string
}

// Stats counts what Process did with a batch of messages.
type Stats struct {
	// Events were folded into tiles; Duplicates were already folded
	// (redeliveries); Filtered were dropped by the source's wheres, null
	// keys or a null ts.
	Events, Duplicates, Filtered int
	// Malformed messages did not fit the source table; Errors holds their
	// reasons by message id.
	Malformed int
	Errors    map[string]error
	// Tiles is how many tiles were written.
	Tiles int
}

// maxCachedTiles bounds the tiles kept in memory between batches; a tile
// not in memory is read back from the store.
const maxCachedTiles = 100000

// Processor folds a GroupBy's streaming events into its _STREAMING tiles.
// It is not safe for concurrent use: one Processor per consumer.
type Processor struct {
	st      *core.Streaming
	spec    *agg.Spec
	types   []arrow.DataType // of the event values (mutation rows)
	store   kv.Store
	dataset string
	tiles   map[string]tile // by key bytes + tile start
}

// tile is a stored streaming tile: events folded into IRs, or the mutation
// rows of an entity source.
type tile interface {
	add(p *Processor, e item) bool
	// entries returns what to write for the tile of ref: first (written,
	// and committed, before the rest) and then.
	entries(p *Processor, ref tileRef) (first, then []kv.Entry, err error)
	// load folds a value read back from the store at ts.
	load(p *Processor, ref tileRef, ts int64, value []byte) error
	// written says the entries are stored.
	written()
}

// item is one message's keyed event or mutation.
type item struct {
	ref tileRef
	ev  agg.Event
	mut agg.Mutation
	id  uint64
}

// eventTile is a span's events: its chunk (the new events) is written
// before its summary, which commits it (core/online StreamTile).
type eventTile struct{ online.StreamTile }

func (t *eventTile) add(p *Processor, e item) bool { return t.Add(p.spec, e.ev, e.id) }

func (t *eventTile) entries(p *Processor, ref tileRef) (first, then []kv.Entry, err error) {
	chunk := kv.Entry{Key: online.ChunkKey(ref.key, ref.start), TsMillis: online.ChunkTs(ref.start, t.Chunks), Value: online.AppendChunk(p.spec, nil, &t.Last)}
	summary := kv.Entry{Key: ref.key, TsMillis: ref.start, Value: t.AppendSummary(p.spec, nil)}
	return []kv.Entry{chunk}, []kv.Entry{summary}, nil
}

func (t *eventTile) written() { t.Written() }

func (t *eventTile) load(p *Processor, ref tileRef, ts int64, value []byte) error {
	c, err := online.DecodeChunk(p.spec, value)
	if err != nil {
		return err
	}
	t.LoadChunk(p.spec, int(ts-ref.start), c)
	return nil
}

type mutationTile struct{ online.MutationTile }

func (t *mutationTile) add(_ *Processor, e item) bool { return t.Add(e.mut, e.id) }

func (t *mutationTile) entries(p *Processor, ref tileRef) (first, then []kv.Entry, err error) {
	v, err := online.AppendMutationTile(nil, p.types, &t.MutationTile)
	if err != nil {
		return nil, nil, err
	}
	return nil, []kv.Entry{{Key: ref.key, TsMillis: ref.start, Value: v}}, nil
}

func (t *mutationTile) written() {}

func (t *mutationTile) load(p *Processor, ref tileRef, ts int64, value []byte) error {
	if ts != ref.start {
		return nil
	}
	mt, err := online.DecodeMutationTile(value, p.types)
	if err != nil {
		return err
	}
	t.MutationTile = *mt
	return nil
}

// newTile returns an empty tile of the processor's kind.
func (p *Processor) newTile() tile {
	if p.st.Mutations {
		return &mutationTile{}
	}
	return &eventTile{}
}

// storedAt is where a tile of ref is read back from: the chunks of an
// event span, the one entry of a mutation span.
func (p *Processor) storedAt(ref tileRef) kv.GetRequest {
	if p.st.Mutations {
		return kv.GetRequest{Dataset: p.dataset, Key: ref.key, AfterMillis: ref.start}
	}
	return kv.GetRequest{Dataset: p.dataset, Key: online.ChunkKey(ref.key, ref.start), AfterMillis: online.ChunkTs(ref.start, 1)}
}

// NewProcessor compiles g's streaming source over the source table's data
// schema and prepares its _STREAMING dataset in store.
func NewProcessor(ctx context.Context, g *api.GroupBy, table *arrow.Schema, windowTail string, store kv.Store) (*Processor, error) {
	st, err := core.CompileStreaming(g, table, windowTail)
	if err != nil {
		return nil, err
	}
	p := &Processor{st: st, spec: st.GroupBy.Spec, store: store, dataset: g.MetaData.StreamingDataset(), tiles: map[string]tile{}}
	for _, f := range st.GroupBy.Values {
		p.types = append(p.types, f.Type)
	}
	if err := store.CreateDataset(ctx, p.dataset); err != nil {
		return nil, fmt.Errorf("%s: create %s: %w", g.MetaData.GetName(), p.dataset, err)
	}
	return p, nil
}

type tileRef struct {
	key   []byte
	start int64
}

// Process folds a batch of messages into tiles and writes the tiles that
// changed. When it returns nil, every message's effect is stored, and the
// messages may be acknowledged; on an error none should be (redelivery is
// harmless: folded messages are recognized).
func (p *Processor) Process(ctx context.Context, msgs []Message) (Stats, error) {
	var stats Stats
	var evs []item
	for _, m := range msgs {
		var (
			key []byte
			it  item
			ok  bool
			err error
		)
		if p.st.Mutations {
			// Mutation tiles span mutation time: a fetch applies the
			// mutations made before it.
			key, it.mut, ok, err = p.st.Mutation(m.Row, m.DS)
			it.ref.start = agg.TileStart(it.mut.MutationTs)
		} else {
			key, it.ev, ok, err = p.st.Event(m.Row, m.DS)
			it.ref.start = agg.TileStart(it.ev.Ts)
		}
		switch {
		case err != nil:
			stats.Malformed++
			if stats.Errors == nil {
				stats.Errors = map[string]error{}
			}
			stats.Errors[m.ID] = err
		case !ok:
			stats.Filtered++
		default:
			it.ref.key, it.id = key, online.MessageID(m.ID)
			evs = append(evs, it)
		}
	}
	var refs []tileRef
	seen := map[string]bool{}
	for _, e := range evs {
		if id := tileID(e.ref); !seen[id] {
			seen[id] = true
			refs = append(refs, e.ref)
		}
	}
	stored, err := p.load(ctx, refs)
	if err != nil {
		return stats, err
	}
	changed := map[string]tileRef{}
	for _, r := range stored {
		changed[tileID(r)] = r
	}
	for _, e := range evs {
		id := tileID(e.ref)
		if p.tiles[id].add(p, e) {
			stats.Events++
			changed[id] = e.ref
		} else {
			stats.Duplicates++
		}
	}
	if len(changed) == 0 {
		return stats, nil
	}
	var first, then []kv.Entry
	for id, ref := range changed {
		f, t, err := p.tiles[id].entries(p, ref)
		if err != nil {
			return stats, fmt.Errorf("encode tile of %s: %w", p.dataset, err)
		}
		first, then = append(first, f...), append(then, t...)
	}
	for _, entries := range [][]kv.Entry{first, then} {
		if len(entries) == 0 {
			continue
		}
		if err := p.store.MultiPut(ctx, p.dataset, entries); err != nil {
			// The cached tiles are ahead of the store now: forget them, so a
			// retry reads what was really written.
			for id := range changed {
				delete(p.tiles, id)
			}
			return stats, fmt.Errorf("write %d tiles to %s: %w", len(entries), p.dataset, err)
		}
	}
	for id := range changed {
		p.tiles[id].written()
	}
	stats.Tiles = len(changed)
	return stats, nil
}

// tileID identifies a tile in the cache: key bytes, then the start. It is
// computed per event, so it avoids fmt.
func tileID(r tileRef) string {
	return string(binary.BigEndian.AppendUint64(append([]byte(nil), r.key...), uint64(r.start)))
}

// load makes sure every referenced tile is in memory: cached, read back
// from the store (a restarted job), or new. It returns the tiles it read
// back: their summaries are rewritten, as a crash may have come between a
// chunk's write and its summary's.
func (p *Processor) load(ctx context.Context, refs []tileRef) ([]tileRef, error) {
	if len(p.tiles)+len(refs) > maxCachedTiles {
		clear(p.tiles) // the store has them all
	}
	var reqs []kv.GetRequest
	var missing []tileRef
	for _, r := range refs {
		if _, ok := p.tiles[tileID(r)]; !ok {
			reqs = append(reqs, p.storedAt(r))
			missing = append(missing, r)
		}
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	res, err := p.store.MultiGet(ctx, reqs)
	if err != nil {
		return nil, fmt.Errorf("read tiles from %s: %w", p.dataset, err)
	}
	var stored []tileRef
	for i, r := range missing {
		if res[i].Err != nil {
			return nil, fmt.Errorf("read tiles from %s: %w", p.dataset, res[i].Err)
		}
		t := p.newTile()
		for _, v := range res[i].Values {
			if err := t.load(p, r, v.TsMillis, v.Value); err != nil {
				return nil, fmt.Errorf("tile at %d in %s: %w", v.TsMillis, p.dataset, err)
			}
		}
		if len(res[i].Values) > 0 {
			stored = append(stored, r)
		}
		p.tiles[tileID(r)] = t
	}
	return stored, nil
}
