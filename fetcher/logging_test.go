// SPDX-License-Identifier: Apache-2.0

package fetcher_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/fetcher/fetchertest"
	"github.com/chronon-go/chronon/plugins/kv"
)

// memorySink keeps what it is given; with a gate it blocks every write
// until the gate closes, and with fail it fails them.
type memorySink struct {
	mu     sync.Mutex
	recs   []fetchlog.Record
	writes int
	gate   chan struct{}
	fail   error
}

func (s *memorySink) WriteLogs(ctx context.Context, recs []fetchlog.Record) error {
	if s.gate != nil {
		<-s.gate
	}
	if s.fail != nil {
		return s.fail
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, recs...)
	s.writes++
	return nil
}

func (s *memorySink) records() []fetchlog.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]fetchlog.Record(nil), s.recs...)
}

// loggedStore is the fixture with its join sampled at pct percent.
func loggedStore(t *testing.T, pct float64) (kv.Store, *api.Join) {
	t.Helper()
	store := newStore(t)
	j := fetchertest.Load(t, store.Store).Join // the fixture's join, to change
	j.MetaData.SamplePercent = pct
	fetchertest.PutJoin(t, store, j, 1)
	return store, j
}

// metricSum sums a counter family over its labels.
func metricSum(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// decodeLogs splits records into schemas (by hash, in publish order) and
// data records, and decodes each data record into its keys and values
// (non-null fields and extras), as the flattening job does.
func decodeLogs(t *testing.T, recs []fetchlog.Record) (hashes []string, keys, values []map[string]any, data []fetchlog.Record) {
	t.Helper()
	schemas := map[string]*fetchlog.Schema{}
	for _, r := range recs {
		if r.JoinName == fetchlog.SchemaPublishEvent {
			s, err := fetchlog.ParseSchema(string(r.ValueBytes))
			if err != nil || s.Hash() != string(r.KeyBytes) {
				t.Fatalf("schema event %q: %v", r.KeyBytes, err)
			}
			if schemas[s.Hash()] == nil {
				hashes = append(hashes, s.Hash())
			}
			schemas[s.Hash()] = s
			continue
		}
		s := schemas[r.SchemaHash]
		if s == nil {
			t.Fatalf("record of schema %s before its publish event", r.SchemaHash)
		}
		k, err := s.DecodeKeys(r.KeyBytes)
		if err != nil {
			t.Fatal(err)
		}
		v, extras, err := s.DecodeValues(r.ValueBytes)
		if err != nil {
			t.Fatal(err)
		}
		km, vm := map[string]any{}, map[string]any{}
		for i, f := range s.Keys {
			km[f.Name] = k[i]
		}
		for i, f := range s.Values {
			if v[i] != nil {
				vm[f.Name] = v[i]
			}
		}
		for n, x := range extras {
			vm[n] = "extra:" + x
		}
		keys, values, data = append(keys, km), append(values, vm), append(data, r)
	}
	return hashes, keys, values, data
}

// nonNull drops null values, as a log row holds them.
func nonNull(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if v != nil {
			out[k] = v
		}
	}
	return out
}

func TestLoggingRecordsResponses(t *testing.T) {
	store, _ := loggedStore(t, 100)
	sink := &memorySink{}
	now := time.UnixMilli(B + 2*hour)
	f := fetcher.New(store, fetcher.Options{LogSink: sink, Now: func() time.Time { return now }})
	reqs := []fetcher.Request{
		{Name: "t/checkout", Keys: map[string]any{"buyer": "u1", "request_id": "r1"}, AtMillis: B + hour},
		{Name: "t.checkout", Keys: map[string]any{"request_id": "r3"}, AtMillis: B + hour},
		{Name: "t/checkout", Keys: map[string]any{"buyer": "u1", "request_id": "r4", "unused": 1.0}}, // now
	}
	res := f.FetchJoin(context.Background(), reqs)
	if len(sink.records()) != 0 {
		t.Error("records written before a batch filled or the interval passed")
	}
	if err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := sink.records()
	hashes, keys, values, data := decodeLogs(t, recs)
	if len(hashes) != 1 || recs[0].JoinName != fetchlog.SchemaPublishEvent || len(data) != len(reqs) {
		t.Fatalf("want one schema event then %d records, got %d records, schemas %v", len(reqs), len(recs), hashes)
	}
	for i, r := range data {
		wantTs := reqs[i].AtMillis
		if wantTs == 0 {
			wantTs = now.UnixMilli()
		}
		if r.JoinName != "t/checkout" || r.TsMillis != wantTs || r.SchemaHash != hashes[0] {
			t.Errorf("record %d: name %q ts %d hash %q", i, r.JoinName, r.TsMillis, r.SchemaHash)
		}
		wantKeys := map[string]any{"buyer": reqs[i].Keys["buyer"], "request_id": reqs[i].Keys["request_id"]}
		if !reflect.DeepEqual(keys[i], wantKeys) {
			t.Errorf("record %d keys %v, want %v", i, keys[i], wantKeys)
		}
		// The derivations keep every base column ("*"), so the logged
		// values (base ++ derived) are the response's, exceptions included.
		if want := nonNull(res[i].Values); !reflect.DeepEqual(values[i], want) {
			t.Errorf("record %d values\n got %v\nwant %v", i, values[i], want)
		}
	}
	if v := values[1]["p_t_purchases_exception"]; v != "KeyMissingException: missing keys buyer" {
		t.Errorf("the exception is not logged: %v", values[1])
	}
	// After Close fetches are served, not logged.
	if r := f.FetchJoin(context.Background(), reqs[:1]); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	if err := f.Close(context.Background()); err != nil || len(sink.records()) != len(recs) {
		t.Errorf("a fetch after Close was logged (or Close failed: %v)", err)
	}
}

func TestLoggingBaseValuesWithoutStar(t *testing.T) {
	// Derivations without "*" replace the response's columns; the log
	// still holds the base values too (Chronon's logFullValues).
	store, j := loggedStore(t, 100)
	j.Derivations = []*api.Derivation{{Name: "double_sum", Expression: "2 * p_t_purchases_price_sum_1d"}}
	fetchertest.PutJoin(t, store, j, 2)
	sink := &memorySink{}
	f := fetcher.New(store, fetcher.Options{LogSink: sink})
	res := f.FetchJoin(context.Background(), []fetcher.Request{{Name: "t/checkout", Keys: map[string]any{"buyer": "u1", "request_id": "r1"}, AtMillis: B + hour}})
	if err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res[0].Values, map[string]any{"double_sum": int64(10)}) {
		t.Fatalf("response %v", res[0].Values)
	}
	_, _, values, _ := decodeLogs(t, sink.records())
	want := map[string]any{"double_sum": int64(10), "p_t_purchases_price_sum_1d": int64(5), "p_t_purchases_price_count": int64(2), "ext_contextual_request_id": "r1"}
	if len(values) != 1 || !reflect.DeepEqual(values[0], want) {
		t.Errorf("logged %v, want %v", values, want)
	}
}

func TestLoggingSamplesByKey(t *testing.T) {
	store, _ := loggedStore(t, 30)
	sink := &memorySink{}
	f := fetcher.New(store, fetcher.Options{LogSink: sink})
	var reqs []fetcher.Request
	for i := range 300 {
		reqs = append(reqs, fetcher.Request{Name: "t/checkout", Keys: map[string]any{"buyer": fmt.Sprint("b", i), "request_id": "r"}, AtMillis: B + hour})
	}
	f.FetchJoin(context.Background(), reqs)
	f.FetchJoin(context.Background(), reqs) // the same keys again: the same choice
	if err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs := sink.records()
	s, err := fetchlog.ParseSchema(string(recs[0].ValueBytes))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range reqs {
		kb, err := s.EncodeKeys(r.Keys)
		if err != nil {
			t.Fatal(err)
		}
		if fetchlog.Sampled(kb, 30) {
			want = append(want, r.Keys["buyer"].(string))
		}
	}
	want = append(want, want...)
	_, keys, _, _ := decodeLogs(t, recs)
	var got []string
	for _, k := range keys {
		got = append(got, k["buyer"].(string))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("logged buyers %v, want %v", got, want)
	}
	if n := len(want) / 2; n < 60 || n > 120 {
		t.Errorf("%d of 300 keys logged at 30%%", n)
	}
}

func TestLoggingDropsWhenFull(t *testing.T) {
	store, _ := loggedStore(t, 100)
	sink := &memorySink{gate: make(chan struct{})}
	reg := prometheus.NewRegistry()
	f := fetcher.New(store, fetcher.Options{LogSink: sink, Metrics: fetcher.NewMetrics(reg),
		LogBufferSize: 3, LogBatchSize: 1, LogFlushInterval: time.Hour})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			f.FetchJoin(context.Background(), []fetcher.Request{{Name: "t/checkout", Keys: map[string]any{"buyer": "u1", "request_id": fmt.Sprint(i)}, AtMillis: B + hour}})
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("serving waited for a blocked log sink")
	}
	dropped := metricSum(t, reg, "chronon_fetch_log_dropped_total")
	// At most the buffer (3) plus one batch in the blocked write are kept.
	if dropped < 21-4 {
		t.Errorf("dropped %v of 21 records (20 + the schema event), want at least 17", dropped)
	}
	close(sink.gate)
	if err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	written := metricSum(t, reg, "chronon_fetch_log_written_total")
	if written+dropped != 21 || int(written) != len(sink.records()) {
		t.Errorf("written %v + dropped %v != 21 (sink has %d)", written, dropped, len(sink.records()))
	}
}

func TestLoggingSchemaPublishedOncePerHash(t *testing.T) {
	store, j := loggedStore(t, 100)
	sink := &memorySink{}
	var now atomic.Int64
	now.Store(B + hour)
	f := fetcher.New(store, fetcher.Options{LogSink: sink, LogBatchSize: 7, MetadataTTL: time.Minute,
		Now: func() time.Time { return time.UnixMilli(now.Load()) }})
	fetch := func(n int) {
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.FetchJoin(context.Background(), []fetcher.Request{{Name: "t/checkout", Keys: map[string]any{"buyer": "u1", "request_id": fmt.Sprint(i)}}})
			}()
		}
		wg.Wait()
	}
	events := func() (n int) {
		for _, r := range sink.records() {
			if r.JoinName == fetchlog.SchemaPublishEvent {
				n++
			}
		}
		return n
	}
	fetch(1)
	fetch(40)
	if err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := events(); n != 1 {
		t.Errorf("%d schema events for one schema, want 1", n)
	}

	// A new definition (another derivation) is another schema; a new day
	// publishes the schema again.
	sink = &memorySink{}
	f = fetcher.New(store, fetcher.Options{LogSink: sink, MetadataTTL: time.Minute,
		Now: func() time.Time { return time.UnixMilli(now.Load()) }})
	fetch(1)
	j.Derivations = append(j.Derivations, &api.Derivation{Name: "triple_sum", Expression: "3 * p_t_purchases_price_sum_1d"})
	fetchertest.PutJoin(t, store, j, 2)
	now.Add(2 * time.Minute.Milliseconds()) // past the metadata TTL
	fetch(5)
	now.Add(fetchertest.Day)
	fetch(5)
	if err := f.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	hashes, _, _, data := decodeLogs(t, sink.records())
	if len(hashes) != 2 || events() != 3 || len(data) != 11 {
		t.Errorf("schemas %v, %d events, %d records; want 2 schemas, 3 events (the second again on the next day), 11 records", hashes, events(), len(data))
	}
	if data[0].SchemaHash != hashes[0] || data[10].SchemaHash != hashes[1] {
		t.Errorf("records are not under their schemas")
	}
}

func TestLoggingSinkFailure(t *testing.T) {
	store, _ := loggedStore(t, 100)
	reg := prometheus.NewRegistry()
	f := fetcher.New(store, fetcher.Options{LogSink: &memorySink{fail: errors.New("disk full")}, Metrics: fetcher.NewMetrics(reg)})
	res := f.FetchJoin(context.Background(), []fetcher.Request{{Name: "t/checkout", Keys: map[string]any{"buyer": "u1"}, AtMillis: B + hour}})
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	if err := f.Close(context.Background()); !errors.Is(err, fetcher.ErrLogFlush) {
		t.Errorf("Close = %v, want ErrLogFlush", err)
	}
	if n := metricSum(t, reg, "chronon_fetch_log_errors_total"); n != 2 {
		t.Errorf("%v records counted as failed, want 2 (the schema event and the record)", n)
	}
}

func TestLoggingOff(t *testing.T) {
	store, _ := loggedStore(t, 0)
	sink := &memorySink{}
	f := fetcher.New(store, fetcher.Options{LogSink: sink})
	f.FetchJoin(context.Background(), []fetcher.Request{{Name: "t/checkout", Keys: map[string]any{"buyer": "u1"}, AtMillis: B + hour}})
	if err := f.Close(context.Background()); err != nil || len(sink.records()) != 0 {
		t.Errorf("samplePercent 0 logged %d records (%v)", len(sink.records()), err)
	}
}
