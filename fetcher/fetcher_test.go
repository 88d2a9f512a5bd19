// SPDX-License-Identifier: Apache-2.0

package fetcher_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/fetcher/fetchertest"
	"github.com/chronon-go/chronon/plugins/external"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
)

const (
	B    = fetchertest.BatchEnd
	hour = fetchertest.Hour
	day  = fetchertest.Day
)

// countingStore counts MultiGet calls and fails those reading failDataset.
type countingStore struct {
	kv.Store
	gets        atomic.Int64
	failDataset string
}

func (s *countingStore) MultiGet(ctx context.Context, reqs []kv.GetRequest) ([]kv.GetResult, error) {
	s.gets.Add(1)
	for _, r := range reqs {
		if r.Dataset == s.failDataset {
			return nil, errors.New("store unreachable")
		}
	}
	return s.Store.MultiGet(ctx, reqs)
}

func newStore(t *testing.T) *countingStore {
	t.Helper()
	s, err := sqlite.Open(t.TempDir()+"/kv.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	fetchertest.Load(t, s)
	return &countingStore{Store: s}
}

func TestDefinitionName(t *testing.T) {
	for in, want := range map[string]string{
		"quickstart/training_set.v2": "quickstart.training_set.v2",
		"quickstart.training_set.v2": "quickstart.training_set.v2",
		" team/a/b.v1 ":              "team.a/b.v1",
		"team.sub/name.v1":           "team.sub/name.v1",
	} {
		if got := fetcher.DefinitionName(in); got != want {
			t.Errorf("DefinitionName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFetchGroupBy(t *testing.T) {
	store := newStore(t)
	reg := prometheus.NewRegistry()
	m := fetcher.NewMetrics(reg)
	f := fetcher.New(store, fetcher.Options{Metrics: m})
	u1 := map[string]any{"user": "u1"}
	cases := []struct {
		name string
		req  fetcher.Request
		want map[string]any // nil: want an error
		err  string
	}{
		{"inside both windows", fetcher.Request{Name: "t/purchases", Keys: u1, AtMillis: B + hour},
			map[string]any{"price_sum_1d": int64(5), "price_count": int64(2)}, ""},
		{"dotted name, at the batch end", fetcher.Request{Name: "t.purchases", Keys: u1, AtMillis: B},
			map[string]any{"price_sum_1d": int64(5), "price_count": int64(2)}, ""},
		{"the 5 left the 1-day window", fetcher.Request{Name: "t/purchases", Keys: u1, AtMillis: B + 23*hour},
			map[string]any{"price_sum_1d": nil, "price_count": int64(2)}, ""},
		// Past the exact range still answers (windows shorter than the
		// serving buffer stay exact: their events are all in the band).
		{"stale, still answered", fetcher.Request{Name: "t/purchases", Keys: u1, AtMillis: B + 3*day},
			map[string]any{"price_sum_1d": nil, "price_count": int64(2)}, ""},
		{"a key of an older upload only", fetcher.Request{Name: "t/purchases", Keys: map[string]any{"user": "u2"}, AtMillis: B + hour},
			map[string]any{}, ""},
		{"an unknown key", fetcher.Request{Name: "t/purchases", Keys: map[string]any{"user": "zz"}, AtMillis: B + hour},
			map[string]any{}, ""},
		{"a null key is not looked up", fetcher.Request{Name: "t/purchases", Keys: map[string]any{"user": nil}, AtMillis: B + hour},
			map[string]any{}, ""},
		{"before the batch end: nothing", fetcher.Request{Name: "t/purchases", Keys: u1, AtMillis: B - 1},
			map[string]any{}, ""},
		{"a missing key", fetcher.Request{Name: "t/purchases", Keys: map[string]any{"buyer": "u1"}}, nil, "KeyMissingException: missing keys user"},
		{"an unknown group-by", fetcher.Request{Name: "t/nope", Keys: u1}, nil, "not found: group_by t.nope has no batch upload"},
		{"a key that is not a string", fetcher.Request{Name: "t/purchases", Keys: map[string]any{"user": []any{1}}}, nil, "key user: cannot use"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := f.FetchGroupBy(context.Background(), []fetcher.Request{tc.req})[0]
			if tc.err != "" {
				if res.Err == nil || !strings.Contains(res.Err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", res.Err, tc.err)
				}
				return
			}
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if len(res.Values) != len(tc.want) {
				t.Fatalf("values %v, want %v", res.Values, tc.want)
			}
			for k, v := range tc.want {
				if got, ok := res.Values[k]; !ok || got != v {
					t.Errorf("%s = %#v, want %#v (all: %v)", k, got, v, res.Values)
				}
			}
		})
	}
	if got := testutil.ToFloat64(m.StaleCounter(fetchertest.GroupBy)); got != 1 {
		t.Errorf("stale fetches counted %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.BeforeBatchCounter(fetchertest.GroupBy)); got != 1 {
		t.Errorf("before-batch fetches counted %v, want 1", got)
	}
}

func TestFetchJoin(t *testing.T) {
	store := newStore(t)
	f := fetcher.New(store, fetcher.Options{})
	reqs := []fetcher.Request{
		{Name: "t/checkout", Keys: map[string]any{"buyer": "u1", "request_id": "r1"}, AtMillis: B + hour},
		{Name: "t/checkout", Keys: map[string]any{"buyer": nil, "request_id": "r2"}, AtMillis: B + hour},
		{Name: "t/checkout", Keys: map[string]any{"request_id": "r3"}, AtMillis: B + hour},
		{Name: "t/checkout", Keys: map[string]any{"buyer": "u1"}, AtMillis: B + 23*hour},
		{Name: "t/nope", Keys: map[string]any{"buyer": "u1"}},
	}
	res := f.FetchJoin(context.Background(), reqs)
	want := []map[string]any{
		{"p_t_purchases_price_sum_1d": int64(5), "p_t_purchases_price_count": int64(2), "ext_contextual_request_id": "r1", "double_sum": int64(10)},
		// A null key skips the part; the derivation rebuilds its columns as null.
		{"p_t_purchases_price_sum_1d": nil, "p_t_purchases_price_count": nil, "ext_contextual_request_id": "r2", "double_sum": nil},
		{"p_t_purchases_price_sum_1d": nil, "p_t_purchases_price_count": nil, "ext_contextual_request_id": "r3", "double_sum": nil,
			"p_t_purchases_exception": "KeyMissingException: missing keys buyer"},
		// The contextual source makes a missing key null, not an exception.
		{"p_t_purchases_price_sum_1d": nil, "p_t_purchases_price_count": int64(2), "ext_contextual_request_id": nil, "double_sum": nil},
	}
	for i, w := range want {
		if res[i].Err != nil {
			t.Fatalf("request %d: %v", i, res[i].Err)
		}
		if len(res[i].Values) != len(w) {
			t.Errorf("request %d: values %v, want %v", i, res[i].Values, w)
			continue
		}
		for k, v := range w {
			if got, ok := res[i].Values[k]; !ok || got != v {
				t.Errorf("request %d: %s = %#v, want %#v", i, k, got, v)
			}
		}
	}
	if !errors.Is(res[4].Err, fetcher.ErrNotFound) {
		t.Errorf("unknown join: err %v, want ErrNotFound", res[4].Err)
	}
}

func TestFailuresBecomeExceptions(t *testing.T) {
	store := newStore(t)
	f := fetcher.New(store, fetcher.Options{BatchCacheSize: -1})
	// Load the definitions, then make the batch dataset unreachable.
	keys := map[string]any{"buyer": "u1", "request_id": "r1"}
	if r := f.FetchJoin(context.Background(), []fetcher.Request{{Name: "t/checkout", Keys: keys, AtMillis: B + hour}}); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	store.failDataset = (&api.MetaData{Name: fetchertest.GroupBy}).BatchDataset()
	res := f.FetchJoin(context.Background(), []fetcher.Request{{Name: "t/checkout", Keys: keys, AtMillis: B + hour}})[0]
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	if e, _ := res.Values["p_t_purchases_exception"].(string); !strings.Contains(e, "store unreachable") {
		t.Errorf("p_t_purchases_exception = %q, want the store's error (values %v)", e, res.Values)
	}
	if res.Values["ext_contextual_request_id"] != "r1" {
		t.Errorf("the external part must still answer: %v", res.Values)
	}
}

func TestBatchValuesCached(t *testing.T) {
	store := newStore(t)
	f := fetcher.New(store, fetcher.Options{})
	req := []fetcher.Request{{Name: "t/purchases", Keys: map[string]any{"user": "u1"}, AtMillis: B + hour}}
	f.FetchGroupBy(context.Background(), req) // serving info + value
	before := store.gets.Load()
	for range 5 {
		if r := f.FetchGroupBy(context.Background(), req); r[0].Values["price_count"] != int64(2) {
			t.Fatalf("values %v", r[0].Values)
		}
	}
	if n := store.gets.Load() - before; n != 0 {
		t.Errorf("%d KV reads for cached values, want 0", n)
	}
}

// countingHandler answers every request with its key doubled, or fails.
type countingHandler struct {
	calls, reqs atomic.Int64
	fail        bool
}

func (h *countingHandler) Fetch(_ context.Context, reqs []external.Request) ([]external.Result, error) {
	h.calls.Add(1)
	h.reqs.Add(int64(len(reqs)))
	if h.fail {
		return nil, errors.New("service down")
	}
	out := make([]external.Result, len(reqs))
	for i, r := range reqs {
		if r.Keys["id"] == "bad" {
			out[i].Err = errors.New("no such id")
			continue
		}
		out[i].Values = map[string]any{"score": float64(2)}
	}
	return out, nil
}

func (h *countingHandler) Close() error { return nil }

func TestExternalPartsDeduplicated(t *testing.T) {
	store := newStore(t)
	fx := fetchertest.Load(t, store.Store)
	keySchema := &api.TDataType{Kind: api.StructKind, Params: []*api.DataField{{Name: "id", DataType: &api.TDataType{Kind: api.StringKind}}}}
	valSchema := &api.TDataType{Kind: api.StructKind, Params: []*api.DataField{{Name: "score", DataType: &api.TDataType{Kind: api.LongKind}}}}
	src := &api.ExternalSource{MetaData: &api.MetaData{Name: "svc"}, KeySchema: keySchema, ValueSchema: valSchema}
	j := fx.Join
	j.MetaData.Name = "t.ext"
	j.Derivations = nil
	j.OnlineExternalParts = []*api.ExternalPart{
		{Source: src, KeyMapping: map[string]string{"buyer": "id"}},
		{Source: src, KeyMapping: map[string]string{"buyer": "id"}, Prefix: api.Ptr("again")},
	}
	def, err := api.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.MultiPut(context.Background(), api.MetadataDataset, []kv.Entry{{Key: []byte(api.MetadataKey(api.KindJoin, "t.ext")), Value: def, TsMillis: B}}); err != nil {
		t.Fatal(err)
	}
	h := &countingHandler{}
	f := fetcher.New(store, fetcher.Options{Handlers: map[string]external.Handler{"svc": h}})
	reqs := []fetcher.Request{
		{Name: "t/ext", Keys: map[string]any{"buyer": "u1"}, AtMillis: B + hour},
		{Name: "t/ext", Keys: map[string]any{"buyer": "u1"}, AtMillis: B + hour},
		{Name: "t/ext", Keys: map[string]any{"buyer": "bad"}, AtMillis: B + hour},
		{Name: "t/ext", Keys: map[string]any{}, AtMillis: B + hour},
	}
	res := f.FetchJoin(context.Background(), reqs)
	if h.calls.Load() != 1 || h.reqs.Load() != 2 {
		t.Errorf("handler called %d times with %d requests, want once with 2 distinct key maps", h.calls.Load(), h.reqs.Load())
	}
	for i := 0; i < 2; i++ {
		if res[i].Values["ext_svc_score"] != int64(2) || res[i].Values["ext_again_svc_score"] != int64(2) {
			t.Errorf("request %d: %v", i, res[i].Values)
		}
	}
	if e, _ := res[2].Values["ext_svc_exception"].(string); !strings.Contains(e, "no such id") {
		t.Errorf("per-request failure: %v", res[2].Values)
	}
	if e, _ := res[3].Values["ext_svc_exception"].(string); !strings.Contains(e, "KeyMissingException") {
		t.Errorf("missing key: %v", res[3].Values)
	}
	h.fail = true
	res = f.FetchJoin(context.Background(), reqs[:1])
	if e, _ := res[0].Values["ext_again_svc_exception"].(string); !strings.Contains(e, "service down") {
		t.Errorf("handler failure: %v", res[0].Values)
	}
	if res[0].Values["p_t_purchases_price_count"] != int64(2) {
		t.Errorf("the join part must still answer: %v", res[0].Values)
	}
	f = fetcher.New(store, fetcher.Options{})
	res = f.FetchJoin(context.Background(), reqs[:1])
	if e, _ := res[0].Values["ext_svc_exception"].(string); !strings.Contains(e, "no handler for external source svc") {
		t.Errorf("no handler: %v", res[0].Values)
	}
}

// TestFetchMergesStreamingTiles: batch value and streaming tiles merge
// exactly at both window ends; a redelivered message counts once; a key
// without batch data is answered from its tiles.
func TestFetchMergesStreamingTiles(t *testing.T) {
	store := newStore(t)
	fetchertest.LoadStreaming(t, store)
	f := fetcher.New(store, fetcher.Options{})
	const minute = 60 * 1000
	cases := []struct {
		user       string
		at         int64
		sum, count any
	}{
		{"u1", B + 15*minute, int64(5), int64(3)},
		{"u1", B + 25*minute, int64(13), int64(4)},
		{"u1", B + 65*minute, int64(12), int64(4)},
		{"u1", B + 10*minute, int64(1), int64(2)}, // the event at +10m is not before +10m
		{"u9", B + 20*minute, int64(3), int64(1)},
		{"u9", B + 71*minute, nil, int64(1)},
	}
	for _, tc := range cases {
		res := f.FetchGroupBy(context.Background(), []fetcher.Request{{Name: "t/clicks", Keys: map[string]any{"user": tc.user}, AtMillis: tc.at}})[0]
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if res.Values["x_sum_1h"] != tc.sum || res.Values["x_count"] != tc.count {
			t.Errorf("%s at batch end + %dm: %v, want sum %v, count %v", tc.user, (tc.at-B)/minute, res.Values, tc.sum, tc.count)
		}
	}
}
