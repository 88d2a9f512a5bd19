// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/chronon-go/chronon/core/online"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
)

func TestScheduleDue(t *testing.T) {
	s := newSchedule(3, 2*time.Second)
	if s.n != 6 {
		t.Fatalf("n = %d, want 6", s.n)
	}
	for k, want := range []time.Duration{0, 333333333, 666666666, time.Second, time.Second + 333333333} {
		if got := s.due(uint64(k)); got != want {
			t.Errorf("due(%d) = %v, want %v", k, got, want)
		}
	}
	// Pace: sleeps until due, stops after n.
	start := time.Now()
	if wait, stop := s.Pace(300*time.Millisecond, 1); stop || wait != 0 {
		t.Errorf("Pace(300ms, 1) = %v, %v", wait, stop)
	}
	if slept := time.Since(start); slept < 33*time.Millisecond || slept > 500*time.Millisecond {
		t.Errorf("Pace(300ms, 1) slept %v, want 33ms", slept)
	}
	start = time.Now()
	if wait, stop := s.Pace(500*time.Millisecond, 1); stop || wait != 0 || time.Since(start) > 10*time.Millisecond {
		t.Errorf("Pace late = %v, %v after %v: want no wait (send now)", wait, stop, time.Since(start))
	}
	if _, stop := s.Pace(2*time.Second, 6); !stop {
		t.Error("Pace after n hits does not stop")
	}
}

// TestTallyFromDueTime: latencies count from the due times, errors by kind.
func TestTallyFromDueTime(t *testing.T) {
	s := newSchedule(1000, time.Second) // due every 1ms
	began := time.Now()
	s.began = began
	tl := newTally(checkPing, 1, 0)
	tl.begin(s)
	ms := time.Millisecond
	for _, r := range []struct {
		seq       uint64
		lag, took time.Duration
		code      uint16
		err       string
	}{
		{0, 0, 1 * ms, 200, ""},
		{1, 0, 2 * ms, 200, ""},
		{2, 5 * ms, 1 * ms, 200, ""}, // sent 5ms late: 6ms
		{3, 4 * ms, 1 * ms, 500, "500 Internal Server Error"},
		{4, 0, 3 * ms, 0, "connection refused"},
	} {
		ts := began.Add(s.due(r.seq) + r.lag)
		tl.add(&vegeta.Result{Seq: r.seq, Timestamp: ts, Latency: r.took, Code: r.code, Error: r.err, Body: []byte("boom")})
	}
	tl.end()
	st := tl.stats("x")
	if st.Requests != 5 || st.Errors != 2 || st.Checked != 5 {
		t.Fatalf("requests %d errors %d checked %d", st.Requests, st.Errors, st.Checked)
	}
	if st.ErrorKinds["HTTP 500"] != 1 || st.ErrorKinds["no response"] != 1 || st.Examples["HTTP 500"] != "boom" || st.Examples["no response"] != "connection refused" {
		t.Errorf("error kinds %v, examples %q", st.ErrorKinds, st.Examples)
	}
	// Latencies from the due times: 1, 2, 6, 5, 3ms.
	if st.P50 != 3*ms || st.P99 != 6*ms || st.Max != 6*ms {
		t.Errorf("p50 %v p99 %v max %v, want 3ms 6ms 6ms", st.P50, st.P99, st.Max)
	}
	if st.ServiceP99 != 3*ms || st.LagP99 != 5*ms || st.LagMax != 5*ms {
		t.Errorf("service p99 %v, lag p99 %v max %v", st.ServiceP99, st.LagP99, st.LagMax)
	}
	// 3 successes from the first due time to the last end (3ms + 4ms + 1ms).
	if want := 3 / 0.008; st.Throughput < want*0.999 || st.Throughput > want*1.001 {
		t.Errorf("throughput %v, want %v", st.Throughput, want)
	}
}

func TestCheckFetch(t *testing.T) {
	ok := `{"results":[{"status":"Success","entityKeys":{"user_id":"7"},"features":{"quickstart_purchases_v1_purchase_price_sum_3d":12,"quickstart_returns_v1_refund_amt_last2":null}}]}`
	for _, tc := range []struct {
		name string
		code uint16
		body string
		err  string
		full bool
		want string // "" or the error kind
	}{
		{"success", 200, ok, "", true, ""},
		{"success, cheap", 200, ok, "", false, ""},
		{"spaces", 200, `{ "results": [ { "status": "Success", "features": {} } ] }`, "", true, ""},
		{"exception", 200, `{"results":[{"status":"Success","features":{"quickstart_returns_v1_exception":"boom"}}]}`, "", false, "feature *_exception"},
		{"exception, full", 200, `{"results":[{"status":"Success","features":{"x_exception" : "boom"}}]}`, "", true, "feature *_exception"},
		{"status", 200, `{"results":[{"status":"Error","features":{}}]}`, "", false, "no status Success"},
		{"500", 500, `internal error`, "500 Internal Server Error", false, "HTTP 500"},
		{"404", 404, "404 page not found\n", "404 Not Found", false, "HTTP 404"},
		{"no response", 0, "", "dial tcp: connection refused", false, "no response"},
		{"bad JSON", 200, `{"results":[{"status":"Success"`, "", true, "bad JSON"},
		{"bad JSON, cheap", 200, `{"results":[{"status":"Success"`, "", false, ""},
		{"two results", 200, `{"results":[{"status":"Success"},{"status":"Success"}]}`, "", true, "2 results, want 1"},
		{"Success elsewhere", 200, `{"results":[{"status":"Failure","features":{"x":"Success"}}]}`, "", true, "status Failure"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ex := checkFetch(&vegeta.Result{Code: tc.code, Body: []byte(tc.body), Error: tc.err}, tc.full)
			if got != tc.want || (got == "") != (ex == "") {
				t.Errorf("checkFetch = %q (%q), want %q", got, ex, tc.want)
			}
		})
	}
}

// fakeServer answers like chronon serve: /healthz, /ping and the fetch of
// quickstart/training_set.v2 for the given users. Every badEvery-th fetch
// (if > 0) fails, in turn with a 500, a *_exception feature and a status
// other than Success.
type fakeServer struct {
	users    map[string]bool
	badEvery int64

	fetches, bad, pings atomic.Int64
	mu                  sync.Mutex
	seen                map[string]int // fetches by user
	wrong               []string       // requests that were not what they should be
	turns               []string       // "ping" or "fetch", a new one when the other arrives
}

// arrived notes a request of kind in turns.
func (f *fakeServer) arrived(kind string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.turns) == 0 || f.turns[len(f.turns)-1] != kind {
		f.turns = append(f.turns, kind)
	}
}

func newFakeServer(t *testing.T, users []string, badEvery int64) (*fakeServer, *httptest.Server) {
	f := &fakeServer{users: map[string]bool{}, badEvery: badEvery, seen: map[string]int{}}
	for _, u := range users {
		f.users[u] = true
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/healthz":
		io.WriteString(w, "ok")
	case r.Method == http.MethodGet && r.URL.Path == "/ping":
		f.pings.Add(1)
		f.arrived("ping")
		io.WriteString(w, "pong")
	case r.Method == http.MethodPost && r.RequestURI == fetchPath:
		var req []map[string]string
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &req); err != nil || len(req) != 1 || !f.users[req[0]["user_id"]] || r.Header.Get("Content-Type") != "application/json" {
			f.mu.Lock()
			f.wrong = append(f.wrong, string(body))
			f.mu.Unlock()
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		user := req[0]["user_id"]
		f.arrived("fetch")
		f.mu.Lock()
		f.seen[user]++
		f.mu.Unlock()
		n := f.fetches.Add(1)
		status, features := "Success", `{"quickstart_purchases_v1_purchase_price_sum_3d":42,"quickstart_returns_v1_refund_amt_last2":[1,2]}`
		if f.badEvery > 0 && n%f.badEvery == 0 {
			f.bad.Add(1)
			switch n / f.badEvery % 3 {
			case 0:
				http.Error(w, "boom", http.StatusInternalServerError)
				return
			case 1:
				features = `{"quickstart_returns_v1_exception":"kv: timeout"}`
			case 2:
				status = "Error"
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"results":[{"status":%q,"entityKeys":{"user_id":%q},"features":%s}]}`, status, user, features)
	default:
		f.mu.Lock()
		f.wrong = append(f.wrong, r.Method+" "+r.RequestURI)
		f.mu.Unlock()
		http.NotFound(w, r)
	}
}

var testOpts = attackOptions{Workers: 2, MaxWorkers: 64, Timeout: 5 * time.Second, CheckEvery: 1}

// attackOne attacks one target for d.
func attackOne(name string, tr vegeta.Targeter, check checker, client *http.Client, rate int, d time.Duration, o attackOptions) stats {
	return attack(context.Background(), []*target{{name: name, tr: tr, check: check, client: client}}, rate, d, o)[0]
}

// TestAttackHTTP runs both HTTP attacks against a fake server: every
// request arrives as it should, users are drawn from all of them, and the
// errors counted are the ones the server made.
func TestAttackHTTP(t *testing.T) {
	users := []string{"0", "1", "2", "42", "99"}
	f, srv := newFakeServer(t, users, 7)
	ping := attackOne("ping", pingTargeter(srv.URL), checkPing, newClient(testOpts), 800, time.Second/2, testOpts)
	if ping.Requests != 400 || ping.Errors != 0 || f.pings.Load() != 400 {
		t.Errorf("ping: %d requests, %d errors, %d served", ping.Requests, ping.Errors, f.pings.Load())
	}
	for _, every := range []int{1, 10} {
		f.fetches.Store(0)
		f.bad.Store(0)
		o := testOpts
		o.CheckEvery = every
		fetch := attackOne("fetch", fetchTargeter(srv.URL, fetchPath, users), checkFetch, newClient(o), 800, time.Second/2, o)
		if fetch.Requests != 400 || f.fetches.Load() != 400 {
			t.Errorf("fetch: %d requests, %d served", fetch.Requests, f.fetches.Load())
		}
		if bad := int(f.bad.Load()); fetch.Errors != bad || bad != 400/7 {
			t.Errorf("fetch: %d errors counted, %d made (%v)", fetch.Errors, bad, fetch.ErrorKinds)
		}
		if len(fetch.ErrorKinds) != 3 {
			t.Errorf("error kinds %v, want 3", fetch.ErrorKinds)
		}
		if want := (400 + every - 1) / every; fetch.Checked != want {
			t.Errorf("checked %d, want %d", fetch.Checked, want)
		}
		if fetch.P50 <= 0 || fetch.P50 > fetch.P99 || fetch.P99 > fetch.P999 || fetch.P999 > fetch.Max {
			t.Errorf("percentiles out of order: %+v", fetch)
		}
		// At most 343 successes over the 0.5s the requests are due in
		// (less on a busy machine: the attack takes longer).
		if fetch.Throughput <= 0 || fetch.Throughput > 700 {
			t.Errorf("throughput %v/s, want at most %v", fetch.Throughput, 2*(400-400/7))
		}
	}
	if len(f.wrong) > 0 {
		t.Errorf("wrong requests: %q", f.wrong)
	}
	if len(f.seen) != len(users) {
		t.Errorf("users fetched %v, want all of %v", f.seen, users)
	}
}

// TestTurns: the targets take turns of o.Slice, each attacked for the whole
// duration.
func TestTurns(t *testing.T) {
	users := []string{"a", "b"}
	f, srv := newFakeServer(t, users, 0)
	o := testOpts
	o.Slice = 100 * time.Millisecond
	st := attack(context.Background(), []*target{
		{name: "ping", tr: pingTargeter(srv.URL), check: checkPing, client: newClient(o)},
		{name: "fetch", tr: fetchTargeter(srv.URL, fetchPath, users), check: checkFetch, client: newClient(o)},
	}, 500, 250*time.Millisecond, o)
	// Turns of 100ms, 100ms and 50ms: 50, 50 and 25 requests.
	for _, s := range st {
		if s.Requests != 125 || s.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors", s.Name, s.Requests, s.Errors)
		}
	}
	if want := "ping fetch ping fetch ping fetch"; strings.Join(f.turns, " ") != want {
		t.Errorf("requests arrived in turns %q, want %q", f.turns, want)
	}
}

// TestCoordinatedOmission: a 100ms stall of the server delays the requests
// due during it, and their latencies from the due times show it, whereas
// vegeta's own latencies (from the sends) see one slow request.
func TestCoordinatedOmission(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 100 {
			time.Sleep(100 * time.Millisecond)
		}
		io.WriteString(w, "pong")
	}))
	defer srv.Close()
	// One worker: like one connection, a stall holds up every request.
	o := attackOptions{Workers: 1, MaxWorkers: 1, Timeout: 5 * time.Second, CheckEvery: 1}
	st := attackOne("ping", pingTargeter(srv.URL), checkPing, newClient(o), 1000, time.Second, o)
	if st.Requests != 1000 || st.Errors != 0 {
		t.Fatalf("%d requests, %d errors", st.Requests, st.Errors)
	}
	// About 100 requests were due during the stall: over 1% of them.
	if st.Max < 100*time.Millisecond || st.P99 < 50*time.Millisecond || st.LagMax < 90*time.Millisecond {
		t.Errorf("p99 %v, max %v, send lag max %v: the stall does not show", st.P99, st.Max, st.LagMax)
	}
	if st.ServiceP99 >= st.P99 {
		t.Errorf("p99 from the sends %v >= p99 from the due times %v", st.ServiceP99, st.P99)
	}
}

// kvFixture writes a KV store with dataset ds holding a value for each of
// users in dir/.chronon/kv.db.
func kvFixture(t *testing.T, dir, ds string, users []string) {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(dir, ".chronon", "kv.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	if err := store.CreateDataset(ctx, ds); err != nil {
		t.Fatal(err)
	}
	var es []kv.Entry
	for _, u := range users {
		key, err := online.AppendKey(nil, []any{u})
		if err != nil {
			t.Fatal(err)
		}
		es = append(es, kv.Entry{Key: key, Value: []byte("value of " + u), TsMillis: 1_700_000_000_000})
	}
	if err := store.BulkLoad(ctx, ds, es); err != nil {
		t.Fatal(err)
	}
}

func TestKVAttack(t *testing.T) {
	dir := t.TempDir()
	kvFixture(t, dir, "D_BATCH", []string{"1", "2"})
	store, err := sqlite.Open(filepath.Join(dir, ".chronon", "kv.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var keys [][]byte
	for _, u := range []string{"1", "2", "3"} {
		k, _ := online.AppendKey(nil, []any{u})
		keys = append(keys, k)
	}
	for _, tc := range []struct {
		dataset string
		errors  bool
	}{{"D_BATCH", false}, {"MISSING", true}} {
		client := &http.Client{Transport: &kvTransport{store: store, dataset: tc.dataset}}
		var found int
		st := attackOne("kv", kvTargeter(keys), kvChecker(&found), client, 600, time.Second/2, testOpts)
		if st.Requests != 300 {
			t.Errorf("%s: %d requests", tc.dataset, st.Requests)
		}
		if tc.errors {
			if st.Errors != 300 || found != 0 || len(st.ErrorKinds) != 1 {
				t.Errorf("%s: %d errors %v, %d found", tc.dataset, st.Errors, st.ErrorKinds, found)
			}
			if ex := st.Examples["HTTP 500"]; !strings.Contains(ex, "does not exist") {
				t.Errorf("%s: errors %v, e.g. %q", tc.dataset, st.ErrorKinds, ex)
			}
			continue
		}
		// Two of the three users have a value.
		if st.Errors != 0 || found < 150 || found > 250 {
			t.Errorf("%s: %d errors %v, %d of 300 found", tc.dataset, st.Errors, st.ErrorKinds, found)
		}
	}
}

// TestRunAgainstURL runs the whole program but the setup against a fake
// server (--url) and a fake quickstart directory (--dir).
func TestRunAgainstURL(t *testing.T) {
	dir := t.TempDir()
	users := []string{"0", "1", "2", "3"}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	csv := "ds,user_id,account_created_ds,email_verified\n2023-11-29,0,2023-01-01,1\n2023-11-29,1,2023-01-01,0\n2023-11-29,2,2023-01-01,1\n2023-11-29,3,2023-01-01,1\n2023-11-28,3,2023-01-01,1\n"
	if err := os.WriteFile(filepath.Join(dir, "data", "users.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	kvFixture(t, dir, "QUICKSTART_PURCHASES_V1_BATCH", users[:3])
	_, srv := newFakeServer(t, users, 0)
	var out bytes.Buffer
	r, err := run(context.Background(), []string{"--dir", dir, "--url", srv.URL + "/", "--quick", "--duration", "500ms", "--warmup", "100ms"}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []stats{r.Ping, r.Fetch, r.KV} {
		if s.Requests != 100 || s.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors %v", s.Name, s.Requests, s.Errors, s.ErrorKinds)
		}
	}
	if !r.ErrorsMet || r.Ratio <= 0 || r.KVFound == 0 || r.KVFound == 100 {
		t.Errorf("report %+v", r)
	}
	for _, want := range []string{
		"at 200 req/s for 500ms per target (--quick: --rate 200): GET /ping, POST /v1/features/join/quickstart%2Ftraining_set.v2 (random users) and a bare KV read, one after the other; after 100ms of warm-up each",
		"server ready:",
		"status Success, 2 features (2 not null)",
		"GET /ping: 100 0",
		"fetch quickstart/training_set.v2: 100 0",
		"bare KV read (1-key MultiGet): 100 0",
		"ratio fetch/ping p99:",
		"(ping 0, fetch 0; required 0: required met)",
		"10 of 100 parsed (every 10-th)",
	} {
		// Runs of spaces folded: the columns are padded.
		if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestRunFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--rate", "0"},
		{"--duration", "-1s"},
		{"--url", "http://127.0.0.1:1"},
		{"--workers", "10", "--max-workers", "5"},
		{"--end-date", "yesterday"},
		{"extra"},
	} {
		if _, err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("run %q succeeded", args)
		}
	}
}

func TestReadUsers(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "data"), 0o755)
	os.WriteFile(filepath.Join(dir, "data", "users.csv"), []byte("ds,user_id\nd,b\nd,a\ne,b\n"), 0o644)
	users, err := readUsers(dir)
	if err != nil || strings.Join(users, ",") != "b,a" {
		t.Errorf("users %q, err %v", users, err)
	}
}

func TestWaitHealthy(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" || calls.Add(1) < 3 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	if err := waitHealthy(ctx, srv.URL, nil, 5*time.Second); err != nil || calls.Load() != 3 {
		t.Errorf("waitHealthy: %v after %d calls", err, calls.Load())
	}
	srv.Close()
	if err := waitHealthy(ctx, srv.URL, nil, 300*time.Millisecond); err == nil {
		t.Error("waitHealthy of a closed server succeeded")
	}
}
