// SPDX-License-Identifier: Apache-2.0

package fetcher

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/fetchlog"
)

// LogSink stores sampled fetch logs (fetcher/logsink has the warehouse and
// Pub/Sub sinks). The fetcher calls WriteLogs from one goroutine at a
// time, with records in the order they were logged; a schema-publish event
// comes before the first record of its hash. The records belong to the
// sink for the call only. An error loses the batch (it is counted in
// chronon_fetch_log_errors_total and logged); retrying is the sink's job.
type LogSink interface {
	WriteLogs(ctx context.Context, recs []fetchlog.Record) error
}

// Logging defaults (Options fields).
const (
	defaultLogBuffer   = 10000
	defaultLogBatch    = 1000
	defaultLogInterval = 5 * time.Second
	// logWriteTimeout bounds one WriteLogs call, so a hung sink cannot
	// hold Close forever.
	logWriteTimeout = time.Minute
)

// ErrLogFlush is returned by Close when buffered log records could not all
// be written. Use errors.Is.
var ErrLogFlush = errors.New("fetcher: flush fetch logs")

// logWriter takes log records from serving goroutines without ever
// blocking them and writes them to the sink in batches from its own
// goroutine.
type logWriter struct {
	sink     LogSink
	metrics  *Metrics
	f        *Fetcher
	batch    int
	interval time.Duration

	// mu orders enqueues before Close: enqueue holds it shared, Close
	// exclusively, so no record is sent after the final drain.
	mu     sync.RWMutex
	closed bool
	ch     chan fetchlog.Record
	stop   chan struct{}
	done   chan struct{}
	failed bool // a write failed (read after done)

	// published holds, per schema hash, the UTC day (epoch days) of the
	// last record its publish event was queued with: an event is queued
	// again when a record of another day comes, so log partitions mostly
	// carry the schemas of their records (flattening reads every
	// partition's events anyway).
	published sync.Map
}

func newLogWriter(f *Fetcher, o Options) *logWriter {
	l := &logWriter{sink: o.LogSink, metrics: o.Metrics, f: f, batch: o.LogBatchSize, interval: o.LogFlushInterval}
	size := o.LogBufferSize
	if size <= 0 {
		size = defaultLogBuffer
	}
	if l.batch <= 0 {
		l.batch = defaultLogBatch
	}
	if l.interval <= 0 {
		l.interval = defaultLogInterval
	}
	l.ch = make(chan fetchlog.Record, size)
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	go l.run()
	return l
}

// enqueue hands records to the writer, all or none: when the buffer
// cannot take them all (it is full, or the fetcher is closed) they are
// dropped and counted. It never blocks.
func (l *logWriter) enqueue(recs ...fetchlog.Record) bool {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed || cap(l.ch)-len(l.ch) < len(recs) {
		l.count(recs, l.metrics.logDropped())
		return false
	}
	for i, r := range recs {
		select {
		case l.ch <- r:
		default:
			// Another goroutine filled the buffer meanwhile.
			l.count(recs[i:], l.metrics.logDropped())
			return i > 0
		}
	}
	return true
}

func (l *logWriter) count(recs []fetchlog.Record, c counterVec) {
	if c == nil {
		return
	}
	for _, r := range recs {
		c.WithLabelValues(r.JoinName).Inc()
	}
}

func (l *logWriter) run() {
	defer close(l.done)
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	buf := make([]fetchlog.Record, 0, l.batch)
	flush := func() {
		if len(buf) > 0 {
			l.write(buf)
			buf = buf[:0]
		}
	}
	for {
		select {
		case r := <-l.ch:
			if buf = append(buf, r); len(buf) >= l.batch {
				flush()
			}
		case <-tick.C:
			flush()
		case <-l.stop:
			// Close holds no more enqueues: drain what is buffered.
			for {
				select {
				case r := <-l.ch:
					if buf = append(buf, r); len(buf) >= l.batch {
						flush()
					}
				default:
					flush()
					return
				}
			}
		}
	}
}

func (l *logWriter) write(recs []fetchlog.Record) {
	ctx, cancel := context.WithTimeout(context.Background(), logWriteTimeout)
	defer cancel()
	if err := l.sink.WriteLogs(ctx, recs); err != nil {
		l.failed = true
		l.count(recs, l.metrics.logErrors("sink"))
		l.f.log.Error("fetch log write failed: records lost", "records", len(recs), "err", err)
		return
	}
	l.count(recs, l.metrics.logWritten())
}

// close stops enqueues, writes what is buffered and waits for it (or ctx).
func (l *logWriter) close(ctx context.Context) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	select {
	case <-l.done:
	case <-ctx.Done():
		return fmt.Errorf("%w: %d records still buffered: %w", ErrLogFlush, len(l.ch), ctx.Err())
	}
	if l.failed {
		return fmt.Errorf("%w: a sink write failed (see the log and chronon_fetch_log_errors_total)", ErrLogFlush)
	}
	return nil
}

// Close writes the fetch logs still buffered to the log sink and stops
// logging; it waits until they are written or ctx ends. Later fetches are
// served but not logged. Call it once serving has stopped (a graceful
// shutdown) so that nothing buffered is lost. It does nothing without a
// LogSink, and is safe to call more than once.
func (f *Fetcher) Close(ctx context.Context) error {
	if f.logs == nil {
		return nil
	}
	return f.logs.close(ctx)
}

// logSchema is a join's logging schema under one set of serving infos.
type logSchema struct {
	schema *fetchlog.Schema
	err    error
}

// logSchema returns the plan's logging schema, built once per set of
// serving infos: the request keys, and the values a fetch returns before
// and after derivations (Chronon's logFullValues: base ++ derived, derived
// types winning), then every _exception entry the join can produce.
func (c *joinConf) logSchema(p *joinPlan) *logSchema {
	sig := p.signature()
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.logSchemas[sig]; ok {
		return s
	}
	if c.logSchemas == nil || len(c.logSchemas) > 16 {
		c.logSchemas = map[string]*logSchema{} // old uploads' schemas
	}
	keys, base, _ := p.baseFields(false)
	var values []arrow.Field
	at := map[string]int{}
	add := func(f arrow.Field) {
		f.Nullable = true
		if i, ok := at[f.Name]; ok {
			values[i] = f
			return
		}
		at[f.Name] = len(values)
		values = append(values, f)
	}
	for _, f := range base {
		add(f)
	}
	if p.derive != nil && p.derive.err == nil {
		for _, f := range p.derive.derive.columns {
			add(f)
		}
	}
	str := arrow.BinaryTypes.String
	for _, pp := range c.parts {
		add(arrow.Field{Name: pp.prefix + "_exception", Type: str})
	}
	for _, ep := range c.external {
		add(arrow.Field{Name: ep.prefix + "_exception", Type: str})
	}
	if p.derive != nil {
		add(arrow.Field{Name: derivationException, Type: str})
	}
	s, err := fetchlog.NewSchema(api.NameToFilePath(c.name), keys, values)
	ls := &logSchema{schema: s, err: err}
	c.logSchemas[sig] = ls
	return ls
}

// logResponse logs one join response when the join samples it: the
// request's keys and its base values ++ derived values, under the join's
// logging schema (published first if this process has not yet today). The
// encoding runs here, so the record shares no memory with the response the
// caller gets; the write happens on the log writer's goroutine.
func (f *Fetcher) logResponse(p *joinPlan, r Request, start int64, base, derived map[string]any) {
	pct := p.conf.join.MetaData.SamplePercent
	if f.logs == nil || pct <= 0 {
		return
	}
	name := api.NameToFilePath(p.conf.name)
	fail := func(stage string, err error) {
		if c := f.opts.Metrics.logErrors(stage); c != nil {
			c.WithLabelValues(name).Inc()
		}
		f.log.Warn("fetch log: record not logged", "join", p.conf.name, "stage", stage, "err", err)
	}
	ls := p.conf.logSchema(p)
	if ls.err != nil {
		fail("schema", ls.err)
		return
	}
	s := ls.schema
	keyBytes, err := s.EncodeKeys(r.Keys)
	if err != nil {
		fail("encode_key", err)
		return
	}
	if !fetchlog.Sampled(keyBytes, pct) {
		return
	}
	vals := base
	if p.derive != nil {
		vals = make(map[string]any, len(base)+len(derived))
		maps.Copy(vals, base)
		maps.Copy(vals, derived)
	}
	valueBytes, err := s.EncodeValues(vals)
	if err != nil {
		fail("encode_value", err)
		return
	}
	ts := r.AtMillis
	if ts <= 0 {
		ts = start
	}
	rec := fetchlog.Record{KeyBytes: keyBytes, ValueBytes: valueBytes, JoinName: name, TsMillis: ts, SchemaHash: s.Hash()}
	// The event takes the record's time, so it lands in the partition of
	// the records that need it.
	day := ts / batch.DayMillis
	if last, ok := f.logs.published.Load(s.Hash()); ok && last.(int64) == day {
		f.logs.enqueue(rec)
		return
	}
	if f.logs.enqueue(fetchlog.NewSchemaPublishEvent(s, ts), rec) {
		f.logs.published.Store(s.Hash(), day)
	}
}
