// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/testing/bench/benchkit"
)

// schedule is an open-loop, constant-rate vegeta.Pacer: request k (from
// 0) is due k/rate after the attack began, whatever happened to the
// requests before it, and there are n requests in all. A request that
// could not be sent on time (the generator fell behind, every worker was
// busy) is sent as soon as possible, and its latency still counts from
// its due time: see tally.add.
type schedule struct {
	rate uint64 // requests per second
	n    uint64 // requests in all

	mu    sync.Mutex
	began time.Time // when the attack began, by vegeta's clock
}

func newSchedule(rate int, d time.Duration) *schedule {
	return &schedule{rate: uint64(rate), n: uint64(math.Round(float64(rate) * d.Seconds()))}
}

// due returns when request k is due, after the attack began.
func (s *schedule) due(k uint64) time.Duration {
	return time.Duration(k/s.rate*uint64(time.Second) + k%s.rate*uint64(time.Second)/s.rate)
}

// Pace implements vegeta.Pacer.
func (s *schedule) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits == 0 {
		// vegeta calls Pace first just after it set its start time, with
		// the time elapsed since then: that gives the start time to within
		// a few tens of nanoseconds.
		s.mu.Lock()
		if s.began.IsZero() {
			s.began = time.Now().Add(-elapsed)
		}
		s.mu.Unlock()
	}
	if hits >= s.n {
		return 0, true
	}
	// Sleep here, precisely, rather than have vegeta time.Sleep: see
	// sleep_linux.go.
	if wait := s.due(hits) - elapsed; wait > 0 {
		sleep(wait)
	}
	return 0, false
}

// Rate implements vegeta.Pacer.
func (s *schedule) Rate(time.Duration) float64 { return float64(s.rate) }

// start returns when the attack began (zero before it began).
func (s *schedule) start() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.began
}

// checker judges one response: kind is "" if it is a success, else the
// kind of error it is (a short, stable string: errors are counted by kind),
// and example details it (the body, the error message). full asks for the
// thorough check, which may cost more than the request itself (parsing the
// body); it is asked for a sample of the responses only.
type checker func(r *vegeta.Result, full bool) (kind, example string)

// httpError is the error of a response that failed at the HTTP level (no
// response, or a status other than 200), or "".
func httpError(r *vegeta.Result) (kind, example string) {
	switch {
	case r.Code == 0:
		// No response: the error is vegeta's (connection refused, timeout).
		return "no response", r.Error
	case r.Code != http.StatusOK:
		return "HTTP " + strconv.Itoa(int(r.Code)), firstLine(r.Body, 120)
	case r.Error != "":
		return "body not read", r.Error
	}
	return "", ""
}

// checkPing accepts any 200 response.
func checkPing(r *vegeta.Result, _ bool) (string, string) { return httpError(r) }

// fetchResponse is the body of a join fetch.
type fetchResponse struct {
	Results []struct {
		Status     string          `json:"status"`
		EntityKeys map[string]any  `json:"entityKeys"`
		Features   map[string]any  `json:"features"`
		Error      json.RawMessage `json:"error,omitempty"`
	} `json:"results"`
}

// checkFetch accepts a 200 response with one result of status "Success"
// and no feature named *_exception (the fetcher's report of a GroupBy it
// could not fetch). Every body gets a cheap byte search for both; a full
// check parses the JSON.
func checkFetch(r *vegeta.Result, full bool) (string, string) {
	if kind, ex := httpError(r); kind != "" {
		return kind, ex
	}
	if bytes.Contains(r.Body, []byte(`_exception"`)) {
		return "feature *_exception", firstLine(r.Body, 200)
	}
	if !bytes.Contains(r.Body, []byte(`"Success"`)) {
		return "no status Success", firstLine(r.Body, 200)
	}
	if !full {
		return "", ""
	}
	var resp fetchResponse
	if err := json.Unmarshal(r.Body, &resp); err != nil {
		return "bad JSON", err.Error() + ": " + firstLine(r.Body, 200)
	}
	if len(resp.Results) != 1 {
		return fmt.Sprintf("%d results, want 1", len(resp.Results)), firstLine(r.Body, 200)
	}
	res := resp.Results[0]
	if res.Status != "Success" {
		return "status " + res.Status, firstLine(r.Body, 200)
	}
	for name := range res.Features {
		if strings.HasSuffix(name, "_exception") {
			return "feature *_exception", firstLine(r.Body, 200)
		}
	}
	return "", ""
}

// firstLine returns b's first line, at most n bytes of it.
func firstLine(b []byte, n int) string {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// tally accounts for the results of a target's attacks (one per slice).
type tally struct {
	check      checker
	checkEvery int       // full check of every checkEvery-th response (1: all)
	sched      *schedule // of the current attack

	latency []time.Duration // from the request's due time to the end of its response
	service []time.Duration // vegeta's own: from the actual send to the end of the response
	lag     []time.Duration // from the due time to the actual send
	errors  int
	kinds   map[string]int    // errors by kind
	example map[string]string // the first error of each kind
	checked int               // responses checked fully
	span    time.Duration     // the attacks' times, from their first due times to their last responses
	last    time.Time         // the end of the current attack's last response
}

func newTally(check checker, checkEvery int, capacity int) *tally {
	return &tally{
		check:      check,
		checkEvery: max(checkEvery, 1),
		latency:    make([]time.Duration, 0, capacity),
		service:    make([]time.Duration, 0, capacity),
		lag:        make([]time.Duration, 0, capacity),
		kinds:      map[string]int{},
		example:    map[string]string{},
	}
}

// begin starts accounting for an attack on schedule s.
func (t *tally) begin(s *schedule) {
	t.sched, t.last = s, time.Time{}
}

// end ends the attack begun last.
func (t *tally) end() {
	if began := t.sched.start(); !began.IsZero() && t.last.After(began) {
		t.span += t.last.Sub(began)
	}
}

// add accounts for one result. Its latency counts from the time its
// request was due, not from the time it was sent: when the server (or the
// generator) stalls, the requests that queue up behind the stall see it in
// their latencies, as real clients arriving at a constant rate would.
// (Measured from the send, a stall would delay the requests' sends instead
// and hide in the gap: coordinated omission.) vegeta numbers requests in
// the order they are sent, and request k cannot be sent before it is due.
func (t *tally) add(r *vegeta.Result) {
	due := t.sched.start().Add(t.sched.due(r.Seq))
	end := r.Timestamp.Add(r.Latency)
	if end.After(t.last) {
		t.last = end
	}
	t.latency = append(t.latency, max(end.Sub(due), 0))
	t.service = append(t.service, r.Latency)
	t.lag = append(t.lag, max(r.Timestamp.Sub(due), 0))
	full := r.Seq%uint64(t.checkEvery) == 0
	if full {
		t.checked++
	}
	if kind, ex := t.check(r, full); kind != "" {
		t.errors++
		if t.kinds[kind]++; t.kinds[kind] == 1 {
			t.example[kind] = ex
		}
	}
}

// stats are an attack's numbers.
type stats struct {
	Name     string
	Requests int
	Errors   int
	Checked  int // responses checked fully
	// Latency from the requests' due times.
	P50, P99, P999, Max time.Duration
	// ServiceP99 is the p99 of vegeta's own latencies, from the actual
	// sends: lower than P99 when requests could not be sent on time.
	ServiceP99 time.Duration
	// LagP99 and LagMax are how late requests were sent: the load
	// generator falling behind (or every worker busy).
	LagP99, LagMax time.Duration
	// Throughput is successful responses per second, over the attacks'
	// times from their first due times to their last responses.
	Throughput float64
	ErrorKinds map[string]int
	// Examples details the first error of each kind.
	Examples map[string]string
}

func (t *tally) stats(name string) stats {
	s := stats{Name: name, Requests: len(t.latency), Errors: t.errors, Checked: t.checked, ErrorKinds: t.kinds, Examples: t.example}
	lat := slices.Clone(t.latency)
	slices.Sort(lat)
	s.P50, s.P99, s.P999 = benchkit.Percentile(lat, 0.50), benchkit.Percentile(lat, 0.99), benchkit.Percentile(lat, 0.999)
	if len(lat) > 0 {
		s.Max = lat[len(lat)-1]
	}
	svc := slices.Clone(t.service)
	slices.Sort(svc)
	s.ServiceP99 = benchkit.Percentile(svc, 0.99)
	lag := slices.Clone(t.lag)
	slices.Sort(lag)
	s.LagP99 = benchkit.Percentile(lag, 0.99)
	if len(lag) > 0 {
		s.LagMax = lag[len(lag)-1]
	}
	if t.span > 0 {
		s.Throughput = float64(s.Requests-s.Errors) / t.span.Seconds()
	}
	return s
}

// attackOptions configure the attacks.
type attackOptions struct {
	// Workers start; more are started while all are busy, up to
	// MaxWorkers.
	Workers, MaxWorkers uint64
	Timeout             time.Duration
	CheckEvery          int
	// Slice is how long a target is attacked before the next target's
	// turn: the targets take turns until each was attacked for the whole
	// duration, so that all see the same machine (other load on it comes
	// and goes). 0 or at least the duration: one attack after the other.
	Slice time.Duration
}

// target is something attacked: an HTTP route, or the KV store.
type target struct {
	name   string
	tr     vegeta.Targeter
	check  checker
	client *http.Client // kept from slice to slice: its keep-alive connections stay open
}

// newClient returns the HTTP client of a target: keep-alive connections,
// as many kept idle as there may be workers.
func newClient(o attackOptions) *http.Client {
	return &http.Client{
		Timeout: o.Timeout,
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: int(min(o.MaxWorkers, 10_000)),
			IdleConnTimeout:     time.Minute,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// attack attacks each target at rate requests per second for d, in turns
// of o.Slice, and accounts for every response. A done ctx stops it early.
func attack(ctx context.Context, targets []*target, rate int, d time.Duration, o attackOptions) []stats {
	slice := o.Slice
	if slice <= 0 || slice > d {
		slice = d
	}
	tallies := make([]*tally, len(targets))
	for i, tg := range targets {
		tallies[i] = newTally(tg.check, o.CheckEvery, int(float64(rate)*d.Seconds())+rate)
	}
	for left := d; left > 0 && ctx.Err() == nil; left -= slice {
		for i, tg := range targets {
			attackOnce(ctx, tg, tallies[i], rate, min(slice, left), o)
		}
	}
	out := make([]stats, len(targets))
	for i, tg := range targets {
		out[i] = tallies[i].stats(tg.name)
	}
	return out
}

// attackOnce runs one open-loop attack of a target, rate requests per
// second for d, with vegeta's Attacker.
func attackOnce(ctx context.Context, tg *target, t *tally, rate int, d time.Duration, o attackOptions) {
	a := vegeta.NewAttacker(vegeta.Workers(o.Workers), vegeta.MaxWorkers(o.MaxWorkers), vegeta.Client(tg.client))
	s := newSchedule(rate, d)
	t.begin(s)
	defer t.end()
	stop := context.AfterFunc(ctx, func() { a.Stop() })
	defer stop()
	for r := range a.Attack(tg.tr, s, 0, tg.name) {
		t.add(r)
		r.Body = nil
	}
}

// pingTargeter sends GET base/ping.
func pingTargeter(base string) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		t.Method, t.URL = http.MethodGet, base+"/ping"
		return nil
	}
}

// fetchPath is the fetch route of the join served; the join's name is one
// path segment, its slash escaped.
const fetchPath = "/v1/features/join/quickstart%2Ftraining_set.v2"

// unloggedFetchPath fetches v2_unlogged, v2 without fetch logging (v2
// logs every fetch to the warehouse sink, chronon serve's default).
const unloggedFetchPath = "/v1/features/join/quickstart%2Ftraining_set.v2_unlogged"

// fetchBody is the request body fetching user's features.
func fetchBody(user string) []byte {
	b, _ := json.Marshal([]map[string]string{{"user_id": user}})
	return b
}

// fetchTargeter fetches, from the fetch route path, the features of a
// user picked uniformly from users for each request.
func fetchTargeter(base, path string, users []string) vegeta.Targeter {
	bodies := make([][]byte, len(users))
	for i, u := range users {
		bodies[i] = fetchBody(u)
	}
	header := http.Header{"Content-Type": []string{"application/json"}}
	url := base + path
	return func(t *vegeta.Target) error {
		t.Method, t.URL, t.Header = http.MethodPost, url, header
		t.Body = bodies[rand.IntN(len(bodies))]
		return nil
	}
}

// kvTransport answers a request with one MultiGet of one key (the request
// body) in dataset: the bare KV read, with vegeta's generator and
// accounting but no HTTP, JSON or fetcher. Its responses are 200 with body
// "1" (the key has a value) or "0", or 500 with the error.
type kvTransport struct {
	store   kv.Store
	dataset string
}

func (t *kvTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var key []byte
	if req.Body != nil {
		var err error
		key, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	status, body := http.StatusOK, "0"
	res, err := t.store.MultiGet(req.Context(), []kv.GetRequest{{Dataset: t.dataset, Key: key}})
	switch {
	case err != nil:
		status, body = http.StatusInternalServerError, err.Error()
	case res[0].Err != nil:
		status, body = http.StatusInternalServerError, res[0].Err.Error()
	case len(res[0].Values) > 0:
		body = "1"
	}
	return &http.Response{
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// kvTargeter reads the key of a user picked uniformly from keys for each
// request (through kvTransport).
func kvTargeter(keys [][]byte) vegeta.Targeter {
	return func(t *vegeta.Target) error {
		t.Method, t.URL = http.MethodPost, "http://kv.invalid/multiget"
		t.Body = keys[rand.IntN(len(keys))]
		return nil
	}
}

// kvChecker accepts 200 responses and counts those that found a value.
func kvChecker(found *int) checker {
	return func(r *vegeta.Result, _ bool) (string, string) {
		if kind, ex := httpError(r); kind != "" {
			return kind, ex
		}
		if string(r.Body) == "1" {
			*found++
		}
		return "", ""
	}
}
