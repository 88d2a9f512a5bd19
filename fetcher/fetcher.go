// SPDX-License-Identifier: Apache-2.0

package fetcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/chronon-go/chronon/plugins/external"
	"github.com/chronon-go/chronon/plugins/kv"
)

// Request asks for the features of one entity: a join's or a GroupBy's
// name (team/name.v1 or team.name.v1), its key values by column, and the
// time to answer for (epoch ms; 0 means now).
type Request struct {
	Name     string
	Keys     map[string]any
	AtMillis int64
}

// Response answers one Request. Values maps feature names to values; a
// feature whose part failed is replaced by a "<prefix>_exception" entry
// holding the error, and features without data are omitted (Chronon's
// rules, SEMANTICS.md section 5). Err is set when nothing could be answered
// (an unknown join, a malformed key); Values is then nil.
type Response struct {
	Request Request
	Values  map[string]any
	Err     error
}

// ErrNotFound is returned (wrapped, in Response.Err) for a join or GroupBy
// that is not in the KV store. Use errors.Is.
var ErrNotFound = errors.New("not found")

// Options configure a Fetcher. The zero value works.
type Options struct {
	// Handlers are the external-source handlers by source name. The
	// contextual source is built in.
	Handlers map[string]external.Handler
	// Logger receives warnings (stale batch data, failed parts); nil
	// discards them.
	Logger *slog.Logger
	// Metrics, when set, counts requests, exceptions, stale fetches and KV
	// latency.
	Metrics *Metrics
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// MetadataTTL is how long join definitions and serving infos are
	// cached (they change when a definition or a day's upload lands);
	// default 10s.
	MetadataTTL time.Duration
	// BatchCacheSize is how many decoded batch values are cached (they
	// change once a day); default 100000, negative disables the cache.
	BatchCacheSize int
	// LogSink, when set, receives the fetch logs of joins whose
	// metaData.samplePercent > 0 (Chronon's per-key sampling, see
	// core/fetchlog). Logging never delays a response: records wait in a
	// buffer for a background writer; call Close to flush it.
	LogSink LogSink
	// LogBufferSize is how many log records may wait for the sink; when
	// the buffer is full new records are dropped and counted
	// (chronon_fetch_log_dropped_total). The default value is 10000.
	LogBufferSize int
	// LogBatchSize is how many records one sink write takes at most (a
	// warehouse sink writes a file per write). The default value is 1000.
	LogBatchSize int
	// LogFlushInterval is how long a record waits for a batch to fill
	// before it is written anyway. The default value is 5s.
	LogFlushInterval time.Duration
}

// Fetcher answers feature requests from the KV store. It is safe for
// concurrent use; create one per process and share it.
type Fetcher struct {
	store    kv.Store
	opts     Options
	log      *slog.Logger
	now      func() time.Time
	joins    *ttlCache[*joinConf]
	groupBys *ttlCache[*servingGroupBy]
	batches  *lru
	stale    staleLog
	logs     *logWriter // nil without a LogSink
}

// New returns a Fetcher reading store. The caller keeps ownership of store,
// of the handlers and of the log sink; with a LogSink, call Close at
// shutdown (before closing the sink) to flush the buffered logs.
func New(store kv.Store, opts Options) *Fetcher {
	if opts.MetadataTTL <= 0 {
		opts.MetadataTTL = 10 * time.Second
	}
	if opts.BatchCacheSize == 0 {
		opts.BatchCacheSize = 100000
	}
	f := &Fetcher{store: store, opts: opts, log: opts.Logger, now: opts.Now}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if f.now == nil {
		f.now = time.Now
	}
	f.joins = newTTLCache[*joinConf](opts.MetadataTTL, f.now)
	f.groupBys = newTTLCache[*servingGroupBy](opts.MetadataTTL, f.now)
	f.batches = newLRU(opts.BatchCacheSize)
	if opts.LogSink != nil {
		f.logs = newLogWriter(f, opts)
	}
	return f
}

// queryTime returns a request's answer time.
func (f *Fetcher) queryTime(r Request) int64 {
	if r.AtMillis > 0 {
		return r.AtMillis
	}
	return f.now().UnixMilli()
}

// DefinitionName turns a request name (team/name.v1, team.name.v1) into
// the definition's metaData.name (team.name.v1), as Chronon accepts both.
func DefinitionName(name string) string {
	name = strings.TrimSpace(name)
	if i := strings.IndexByte(name, '/'); i >= 0 && !strings.Contains(name[:i], ".") {
		return name[:i] + "." + name[i+1:]
	}
	return name
}

// KeyMissingError reports request keys a part needs but the request lacks.
type KeyMissingError struct {
	Keys []string
}

func (e *KeyMissingError) Error() string {
	return fmt.Sprintf("KeyMissingException: missing keys %s", strings.Join(e.Keys, ", "))
}

// multiGet calls the store and records the call's latency.
func (f *Fetcher) multiGet(ctx context.Context, reqs []kv.GetRequest) ([]kv.GetResult, error) {
	start := time.Now()
	res, err := f.store.MultiGet(ctx, reqs)
	if m := f.opts.Metrics; m != nil {
		m.kvLatency.Observe(time.Since(start).Seconds())
	}
	return res, err
}

func errorsIsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// latest reads a key's latest value; ErrNotFound when the key or its
// dataset does not exist.
func (f *Fetcher) latest(ctx context.Context, dataset, key string) ([]byte, error) {
	res, err := f.multiGet(ctx, []kv.GetRequest{{Dataset: dataset, Key: []byte(key)}})
	if err == nil {
		err = res[0].Err
	}
	switch {
	case errors.Is(err, kv.ErrNoDataset) || err == nil && len(res[0].Values) == 0:
		return nil, ErrNotFound
	case err != nil:
		return nil, err
	}
	return res[0].Values[len(res[0].Values)-1].Value, nil
}
