// SPDX-License-Identifier: Apache-2.0

package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/fetcher/fetchertest"
	"github.com/chronon-go/chronon/fetcher/server"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
)

const atHour = fetchertest.BatchEnd + fetchertest.Hour

func newServer(t testing.TB, store kv.Store, opts server.Options) *httptest.Server {
	t.Helper()
	if store == nil {
		s, err := sqlite.Open(t.TempDir()+"/kv.db", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fetchertest.Load(t, s)
		store = s
	}
	reg, m := server.Metrics()
	opts.Registry = reg
	// The fixture's values are served exactly an hour after its batch end.
	f := fetcher.New(store, fetcher.Options{Metrics: m, Now: func() time.Time { return time.UnixMilli(atHour) }})
	ts := httptest.NewServer(server.New(f, opts).Handler())
	t.Cleanup(ts.Close)
	return ts
}

type response struct {
	Results []server.Result `json:"results"`
	Errors  []string        `json:"errors"`
}

func do(t testing.TB, method, url, body string, header map[string]string) (int, response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r response
	_ = json.Unmarshal(raw, &r)
	return res.StatusCode, r, string(raw)
}

func TestRoutes(t *testing.T) {
	ts := newServer(t, nil, server.Options{MaxKeys: 3, MaxBodyBytes: 200})
	for _, name := range []string{"t%2Fcheckout", "t/checkout", "t.checkout"} {
		code, r, raw := do(t, "POST", ts.URL+"/v1/features/join/"+name, `[{"buyer": "u1", "request_id": 7}, {"buyer": "zz"}]`, nil)
		if code != 200 || len(r.Results) != 2 {
			t.Fatalf("%s: %d %s", name, code, raw)
		}
		got := r.Results[0]
		if got.Status != "Success" || got.Features["p_t_purchases_price_sum_1d"] != float64(5) || got.Features["double_sum"] != float64(10) ||
			got.Features["ext_contextual_request_id"] != "7" || got.EntityKeys["buyer"] != "u1" {
			t.Errorf("%s: result %+v", name, got)
		}
	}
	code, r, raw := do(t, "POST", ts.URL+"/v1/features/groupby/t%2Fpurchases", `[{"user": "u1"}]`, nil)
	if code != 200 || r.Results[0].Features["price_count"] != float64(2) {
		t.Errorf("groupby: %d %s", code, raw)
	}
	code, r, raw = do(t, "POST", ts.URL+"/v1/features/join/t%2Fnope", `[{"buyer": "u1"}]`, nil)
	if code != 200 || r.Results[0].Status != "Failure" || !strings.Contains(r.Results[0].Error, "not found") {
		t.Errorf("unknown join: %d %s", code, raw)
	}
	for _, tc := range []struct {
		body string
		code int
		msg  string
	}{
		{`{"buyer": "u1"}`, 400, "JSON array of key objects"},
		{`[{"buyer": "u1"}] [`, 400, "extra data"},
		{`[null]`, 400, "key object 0 is null"},
		{`[{}, {}, {}, {}]`, 400, "too many keys: 4 key objects in one request, the limit is 3"},
		{`[{"buyer": "` + strings.Repeat("x", 300) + `"}]`, 413, "larger than 200 bytes"},
	} {
		code, r, raw := do(t, "POST", ts.URL+"/v1/features/join/t%2Fcheckout", tc.body, nil)
		if code != tc.code || len(r.Errors) != 1 || !strings.Contains(r.Errors[0], tc.msg) {
			t.Errorf("body %.40q: %d %s, want %d with %q", tc.body, code, raw, tc.code, tc.msg)
		}
	}
	code, _, raw = do(t, "GET", ts.URL+"/v1/join/t%2Fcheckout/schema", "", nil)
	if code != 200 || !strings.Contains(raw, `"joinName":"t.checkout"`) || !strings.Contains(raw, `{"name":"buyer","type":"utf8","nullable":true}`) ||
		!strings.Contains(raw, `{"name":"double_sum","type":"int64","nullable":true}`) {
		t.Errorf("schema: %d %s", code, raw)
	}
	for path, want := range map[string]string{
		"/ping":    "pong",
		"/healthz": `"ok"`,
		"/config":  "",
		"/metrics": `chronon_fetch_requests_total{kind="join",name="t.checkout"} 6`,
	} {
		code, _, raw := do(t, "GET", ts.URL+path, "", nil)
		if code != 200 || !strings.Contains(raw, want) {
			t.Errorf("%s: %d %.300s", path, code, raw)
		}
	}
}

func TestAuth(t *testing.T) {
	ts := newServer(t, nil, server.Options{Token: "s3cret"})
	url := ts.URL + "/v1/features/join/t%2Fcheckout"
	for _, h := range []map[string]string{nil, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}} {
		if code, r, raw := do(t, "POST", url, `[{"buyer": "u1"}]`, h); code != 401 || len(r.Errors) != 1 {
			t.Errorf("header %v: %d %s, want 401", h, code, raw)
		}
	}
	if code, _, raw := do(t, "POST", url, `[{"buyer": "u1"}]`, map[string]string{"Authorization": "Bearer s3cret"}); code != 200 {
		t.Errorf("with the token: %d %s", code, raw)
	}
	if code, _, _ := do(t, "GET", ts.URL+"/ping", "", nil); code != 200 {
		t.Errorf("/ping needs no token, got %d", code)
	}
	if code, _, _ := do(t, "GET", ts.URL+"/metrics", "", nil); code != 401 {
		t.Errorf("/metrics without the token: %d, want 401", code)
	}
}

// slowStore answers the metadata and serving info, then hangs on batch
// values until the request's context ends.
type slowStore struct{ kv.Store }

func (s slowStore) MultiGet(ctx context.Context, reqs []kv.GetRequest) ([]kv.GetResult, error) {
	if string(reqs[0].Key) != "group_by_serving_info" && !strings.HasPrefix(string(reqs[0].Key), "joins/") {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return s.Store.MultiGet(ctx, reqs)
}

func TestSlowStoreYieldsExceptions(t *testing.T) {
	st, err := sqlite.Open(t.TempDir()+"/kv.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fetchertest.Load(t, st)
	ts := newServer(t, slowStore{st}, server.Options{Timeout: 100 * time.Millisecond})
	start := time.Now()
	code, r, raw := do(t, "POST", ts.URL+"/v1/features/join/t%2Fcheckout", `[{"buyer": "u1", "request_id": "r"}]`, nil)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("request took %v with a 100ms timeout", el)
	}
	if code != 200 || r.Results[0].Status != "Success" || !strings.Contains(r.Results[0].Features["p_t_purchases_exception"].(string), "deadline exceeded") ||
		r.Results[0].Features["ext_contextual_request_id"] != "r" {
		t.Errorf("%d %s", code, raw)
	}
}

// FuzzFeatures: any body gets 200 or a 4xx with a message, never a panic
// or a 5xx.
func FuzzFeatures(f *testing.F) {
	for _, s := range []string{`[{"buyer": "u1"}]`, `[{"buyer": 5}]`, `[{"buyer": null, "request_id": [1]}]`, `[]`, `[{}]`, `{`, `[1]`, `[{"buyer": 1e400}]`, `[{"buyer": {"a": 1}}]`} {
		f.Add(s, "t%2Fcheckout")
	}
	f.Add(`[{"user": "u1"}]`, "%zz")
	ts := newServer(f, nil, server.Options{MaxKeys: 10, MaxBodyBytes: 1000})
	f.Fuzz(func(t *testing.T, body, name string) {
		if strings.IndexFunc(name, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return // net/http itself refuses such a request line
		}
		for _, route := range []string{"/v1/features/join/", "/v1/features/groupby/"} {
			req, err := http.NewRequest("POST", ts.URL+route+name, strings.NewReader(body))
			if err != nil {
				return // not a URL
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			var r response
			dec := json.NewDecoder(strings.NewReader(string(raw)))
			dec.UseNumber()
			if err := dec.Decode(&r); err != nil && res.StatusCode != 404 {
				t.Fatalf("%d: body is not JSON: %s", res.StatusCode, raw)
			}
			switch {
			case res.StatusCode == 200:
			case res.StatusCode >= 400 && res.StatusCode < 500:
				if res.StatusCode != 404 && (len(r.Errors) == 0 || r.Errors[0] == "") {
					t.Fatalf("%d without a message: %s", res.StatusCode, raw)
				}
			default:
				t.Fatalf("status %d: %s", res.StatusCode, raw)
			}
		}
	})
}

// BenchmarkJoinRequest measures one join request through the handler,
// without the network.
func BenchmarkJoinRequest(b *testing.B) {
	st, err := sqlite.Open(b.TempDir()+"/kv.db", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	fetchertest.Load(b, st)
	reg, m := server.Metrics()
	f := fetcher.New(st, fetcher.Options{Metrics: m, Now: func() time.Time { return time.UnixMilli(atHour) }})
	h := server.New(f, server.Options{Registry: reg}).Handler()
	body := `[{"buyer": "u1", "request_id": "r1"}]`
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/features/join/t%2Fcheckout", strings.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}
