// SPDX-License-Identifier: Apache-2.0

package fetcher

import (
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the fetcher's Prometheus metrics. Register them once per
// registry with NewMetrics.
type Metrics struct {
	requests    *prometheus.CounterVec
	exceptions  *prometheus.CounterVec
	stale       *prometheus.CounterVec
	beforeBatch *prometheus.CounterVec
	kvLatency   prometheus.Histogram
	// Fetch logging, by join (team/name.v1) or SCHEMA_PUBLISH_EVENT.
	logsWritten, logsDropped, logsFailed *prometheus.CounterVec
}

// NewMetrics creates the fetcher's metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chronon_fetch_requests_total",
			Help: "Feature requests answered, by kind (join, group_by) and name.",
		}, []string{"kind", "name"}),
		exceptions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chronon_fetch_exceptions_total",
			Help: "Requests that failed whole or returned at least one _exception entry, by kind and name.",
		}, []string{"kind", "name"}),
		stale: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chronon_fetch_stale_total",
			Help: "GroupBy fetches later than the batch value's exact range (batch end + 2 days): upload a newer day.",
		}, []string{"group_by"}),
		beforeBatch: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chronon_fetch_before_batch_total",
			Help: "GroupBy fetches for a time before the batch end, answered without that GroupBy's values.",
		}, []string{"group_by"}),
		kvLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "chronon_kv_multiget_seconds",
			Help:    "Latency of KV store MultiGet calls.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 16),
		}),
		logsWritten: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chronon_fetch_log_written_total",
			Help: "Fetch log records (and schema-publish events) written to the log sink, by join.",
		}, []string{"join"}),
		logsDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chronon_fetch_log_dropped_total",
			Help: "Fetch log records dropped because the log buffer was full (the sink is slower than the sampled traffic) or the fetcher closed, by join.",
		}, []string{"join"}),
		logsFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chronon_fetch_log_errors_total",
			Help: "Fetch log records lost to an error, by join and stage (schema, encode_key, encode_value, sink).",
		}, []string{"join", "stage"}),
	}
	reg.MustRegister(m.requests, m.exceptions, m.stale, m.beforeBatch, m.kvLatency, m.logsWritten, m.logsDropped, m.logsFailed)
	return m
}

// counterVec is a counter by join; nil when metrics are off.
type counterVec interface {
	WithLabelValues(lvs ...string) prometheus.Counter
}

// logWritten, logDropped and logErrors return the fetch-log counters by
// join, or nil on a nil *Metrics.
func (m *Metrics) logWritten() counterVec {
	if m == nil {
		return nil
	}
	return m.logsWritten
}

func (m *Metrics) logDropped() counterVec {
	if m == nil {
		return nil
	}
	return m.logsDropped
}

func (m *Metrics) logErrors(stage string) counterVec {
	if m == nil {
		return nil
	}
	return m.logsFailed.MustCurryWith(prometheus.Labels{"stage": stage})
}

// count records answered requests and those with exceptions.
func (f *Fetcher) count(kind string, rs []Response) {
	m := f.opts.Metrics
	if m == nil {
		return
	}
	for _, r := range rs {
		name := DefinitionName(r.Request.Name)
		if r.Err != nil && errorsIsNotFound(r.Err) || !utf8.ValidString(name) {
			// Unknown names would grow the label set without bound.
			name = "unknown"
		}
		m.requests.WithLabelValues(kind, name).Inc()
		if r.Err != nil || hasException(r.Values) {
			m.exceptions.WithLabelValues(kind, name).Inc()
		}
	}
}

// hasException reports whether a response carries an _exception entry.
func hasException(vals map[string]any) bool {
	for k := range vals {
		if strings.HasSuffix(k, "_exception") {
			return true
		}
	}
	return false
}

// StaleCounter is the counter of stale fetches of a GroupBy.
func (m *Metrics) StaleCounter(groupBy string) prometheus.Counter {
	return m.stale.WithLabelValues(groupBy)
}

// BeforeBatchCounter is the counter of fetches of a GroupBy for a time
// before its batch end.
func (m *Metrics) BeforeBatchCounter(groupBy string) prometheus.Counter {
	return m.beforeBatch.WithLabelValues(groupBy)
}
