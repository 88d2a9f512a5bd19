// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/online"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
	"github.com/chronon-go/chronon/testing/bench/benchkit"
)

// maxRatio is the requirement: fetch p99 at most this many times the ping
// p99.
const maxRatio = 1.5

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := run(ctx, os.Args[1:], os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fetchbench:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	Chronon, Src    string
	Dir, URL        string
	EndDate         string
	Keep            bool
	Rate            int
	Duration        time.Duration
	Warmup          time.Duration
	Slice           time.Duration
	Ready           time.Duration
	Workers         uint64
	MaxWorkers      uint64
	Timeout         time.Duration
	CheckEvery      int
	KVDataset       string
	DefaultsApplied string // what --quick set, for the header
}

// report is what a run measured.
type report struct {
	Ping, Fetch, KV stats
	Unlogged        stats   // fetches of v2 without logging
	KVFound         int     // KV reads that found a value
	Ratio           float64 // fetch p99 / ping p99
	LogRatio        float64 // fetch p99 (logged) / unlogged fetch p99
	RatioMet        bool    // Ratio <= maxRatio
	ErrorsMet       bool    // no ping or fetch errors
}

// maxLogRatio is issue 9's bound on what fetch logging costs: p99 at most
// 10% more.
const maxLogRatio = 1.10

func run(ctx context.Context, args []string, w io.Writer) (*report, error) {
	fs := flag.NewFlagSet("fetchbench", flag.ContinueOnError)
	var c config
	fs.StringVar(&c.Chronon, "chronon", envOr("CHRONON", "bin/chronon"), "chronon binary (default $CHRONON, else bin/chronon)")
	fs.StringVar(&c.Src, "src", os.Getenv("CHRONON_SRC"), "chronon-go source tree, for examples/quickstart (default $CHRONON_SRC, else the module root above the working directory)")
	fs.StringVar(&c.Dir, "dir", "", "quickstart directory already set up (data/, .chronon/): skip the setup")
	fs.StringVar(&c.URL, "url", "", "attack this running server (e.g. http://127.0.0.1:8080) instead of starting chronon serve; needs --dir, the directory it serves")
	fs.StringVar(&c.EndDate, "end-date", time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly), "last day of the generated data, uploaded to the KV store (default yesterday, UTC)")
	fs.BoolVar(&c.Keep, "keep", false, "keep the temporary quickstart directory (and the server's log)")
	fs.IntVar(&c.Rate, "rate", 2000, "requests per second of each attack")
	fs.DurationVar(&c.Duration, "duration", 30*time.Second, "duration of each attack")
	fs.DurationVar(&c.Warmup, "warmup", 3*time.Second, "warm-up of each target at --rate before the measured attacks")
	fs.DurationVar(&c.Slice, "slice", time.Second, "the targets take turns of this long until each was attacked for --duration (0: one whole attack after the other)")
	fs.DurationVar(&c.Ready, "ready-timeout", time.Minute, "how long to wait for /healthz to answer 200")
	fs.Uint64Var(&c.Workers, "workers", 8, "vegeta workers started (each sends one request at a time on its own keep-alive connection)")
	fs.Uint64Var(&c.MaxWorkers, "max-workers", 256, "vegeta workers at most (more are started while all are busy; when all are busy the sends fall behind, and the latencies from the due times show it)")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "request timeout")
	fs.IntVar(&c.CheckEvery, "check-every", 10, "parse every N-th fetch response's JSON (every response gets a cheap byte check)")
	fs.StringVar(&c.KVDataset, "kv-dataset", (&api.MetaData{Name: "quickstart.purchases.v1"}).BatchDataset(), "KV dataset of the bare KV read")
	quick := fs.Bool("quick", false, "a smoke run: --rate 200 --duration 3s --warmup 1s (unless set)")
	fs.SetOutput(w)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *quick {
		var err error
		if c.DefaultsApplied, err = benchkit.ApplyDefaults(fs, [][2]string{{"rate", "200"}, {"duration", "3s"}, {"warmup", "1s"}}); err != nil {
			return nil, err
		}
	}
	switch {
	case c.Rate <= 0:
		return nil, errors.New("--rate must be positive")
	case c.Duration <= 0:
		return nil, errors.New("--duration must be positive")
	case c.Slice < 0 || c.Warmup < 0:
		return nil, errors.New("--slice and --warmup must not be negative")
	case c.Workers == 0 || c.MaxWorkers < c.Workers:
		return nil, errors.New("need 0 < --workers <= --max-workers")
	case c.URL != "" && c.Dir == "":
		return nil, errors.New("--url needs --dir, the quickstart directory the server serves (users and KV baseline)")
	}
	if _, err := time.Parse(time.DateOnly, c.EndDate); err != nil {
		return nil, fmt.Errorf("--end-date: %w", err)
	}
	return bench(ctx, c, w)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// bench sets up the quickstart, starts the server and runs the attacks.
// Only a failure to set up is an error: missing the targets is printed.
func bench(ctx context.Context, c config, w io.Writer) (*report, error) {
	quick := ""
	if c.DefaultsApplied != "" {
		quick = " (--quick: " + c.DefaultsApplied + ")"
	}
	turns := "one after the other"
	if c.Slice > 0 && c.Slice < c.Duration {
		turns = fmt.Sprintf("taking turns of %s", c.Slice)
	}
	fmt.Fprintf(w, "fetchbench: open-loop load on loopback at %d req/s for %s per target%s: GET /ping, POST %s (random users) and a bare KV read, %s; after %s of warm-up each\n",
		c.Rate, c.Duration, quick, fetchPath, turns, c.Warmup)
	fmt.Fprintf(w, "machine: %d CPUs, load average %s (the load generator, the server and the KV store share them)\n", runtime.NumCPU(), loadAverage())

	dir := c.Dir
	if dir == "" {
		chronon, err := binary(c.Chronon)
		if err != nil {
			return nil, err
		}
		c.Chronon = chronon
		src, err := srcRoot(c.Src)
		if err != nil {
			return nil, err
		}
		if dir, err = os.MkdirTemp("", "fetchbench-"); err != nil {
			return nil, err
		}
		if c.Keep {
			fmt.Fprintf(w, "quickstart directory kept in %s\n", dir)
		} else {
			defer os.RemoveAll(dir)
		}
		start := time.Now()
		if err := setupQuickstart(ctx, c.Chronon, src, dir, c.EndDate); err != nil {
			return nil, fmt.Errorf("set up the quickstart: %w", err)
		}
		fmt.Fprintf(w, "%-34s %8.1fs  generate (last day %s), import, compile, upload purchases.v1 and returns.v1, metadata-upload\n", "setup:", time.Since(start).Seconds(), c.EndDate)
	} else if c.URL == "" {
		chronon, err := binary(c.Chronon)
		if err != nil {
			return nil, err
		}
		c.Chronon = chronon
	}
	users, err := readUsers(dir)
	if err != nil {
		return nil, err
	}

	base := strings.TrimRight(c.URL, "/")
	var srv *server
	if base == "" {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		if srv, err = startServer(c.Chronon, dir, addr, filepath.Join(dir, "serve.log")); err != nil {
			return nil, fmt.Errorf("start chronon serve: %w", err)
		}
		defer srv.stop()
		base = "http://" + addr
	}
	start := time.Now()
	if err := waitHealthy(ctx, base, srv, c.Ready); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "%-34s %8.1fs  %s, %d users\n", "server ready:", time.Since(start).Seconds(), base, len(users))
	fmt.Fprintf(w, "%-34s %s\n", "a fetch:", sampleFetch(ctx, base, users[0]))

	store, err := sqlite.Open(filepath.Join(dir, ".chronon", "kv.db"), nil)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	keys := make([][]byte, len(users))
	for i, u := range users {
		if keys[i], err = online.AppendKey(nil, []any{u}); err != nil {
			return nil, err
		}
	}

	o := attackOptions{Workers: c.Workers, MaxWorkers: c.MaxWorkers, Timeout: c.Timeout, CheckEvery: c.CheckEvery, Slice: c.Slice}
	var found int
	targets := []*target{
		{name: "ping", tr: pingTargeter(base), check: checkPing, client: newClient(o)},
		{name: "fetch", tr: fetchTargeter(base, fetchPath, users), check: checkFetch, client: newClient(o)},
		{name: "kv", tr: kvTargeter(keys), check: kvChecker(&found), client: &http.Client{
			Transport: &kvTransport{store: store, dataset: c.KVDataset}, Timeout: c.Timeout}},
		{name: "fetch_unlogged", tr: fetchTargeter(base, unloggedFetchPath, users), check: checkFetch, client: newClient(o)},
	}
	if c.Warmup > 0 {
		st := attack(ctx, targets, c.Rate, c.Warmup, o)
		fmt.Fprintf(w, "%-34s %8.1fs  each target; errors: ping %d, fetch %d, KV read %d\n", "warm-up:", c.Warmup.Seconds(), st[0].Errors, st[1].Errors, st[2].Errors)
		if st[3].Errors > 0 {
			fmt.Fprintf(w, "%-34s %d errors fetching the unlogged join\n", "warm-up:", st[3].Errors)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	found = 0
	st := attack(ctx, targets, c.Rate, c.Duration, o)
	ping, fetch := st[0], st[1]
	r := &report{Ping: ping, Fetch: fetch, KV: st[2], Unlogged: st[3], KVFound: found}
	r.Ratio = ratio(fetch.P99, ping.P99)
	r.LogRatio = ratio(fetch.P99, r.Unlogged.P99)
	r.RatioMet = r.Ratio <= maxRatio
	r.ErrorsMet = ping.Errors == 0 && fetch.Errors == 0 && ping.Requests > 0 && fetch.Requests > 0
	printReport(w, c, r)
	if srv != nil && srv.exited() {
		fmt.Fprintf(w, "chronon serve exited during the run (%v); the end of its output:\n%s\n", srv.err, srv.logTail(30))
	}
	return r, ctx.Err()
}

// sampleFetch fetches one user's features and describes the answer.
func sampleFetch(ctx context.Context, base, user string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+fetchPath, strings.NewReader(string(fetchBody(user))))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err.Error()
	}
	desc := fmt.Sprintf("user_id %s: %s, %d bytes", user, resp.Status, len(body))
	var fr fetchResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &fr) != nil || len(fr.Results) != 1 {
		return desc + ": " + firstLine(body, 200)
	}
	res := fr.Results[0]
	notNull := 0
	for _, v := range res.Features {
		if v != nil {
			notNull++
		}
	}
	return fmt.Sprintf("%s, status %s, %d features (%d not null)", desc, res.Status, len(res.Features), notNull)
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond)) }

func printReport(w io.Writer, c config, r *report) {
	fmt.Fprintf(w, "%-34s %8s %7s %10s %10s %10s %10s %10s %12s\n",
		"latency from each due send time:", "requests", "errors", "p50", "p99", "p999", "max", "ok/s", "send lag p99")
	for _, s := range []struct {
		label string
		s     stats
	}{
		{"GET /ping:", r.Ping},
		{"fetch quickstart/training_set.v2:", r.Fetch},
		{"bare KV read (1-key MultiGet):", r.KV},
		{"fetch v2_unlogged (no logging):", r.Unlogged},
	} {
		fmt.Fprintf(w, "%-34s %8d %7d %10s %10s %10s %10s %10.1f %12s\n",
			s.label, s.s.Requests, s.s.Errors, ms(s.s.P50), ms(s.s.P99), ms(s.s.P999), ms(s.s.Max), s.s.Throughput, ms(s.s.LagP99))
		printErrorKinds(w, s.s)
	}
	fmt.Fprintf(w, "%-34s ping %s, fetch %s, KV read %s (vegeta's own latency, from the actual send)\n",
		"p99 from the actual send:", ms(r.Ping.ServiceP99), ms(r.Fetch.ServiceP99), ms(r.KV.ServiceP99))
	fmt.Fprintf(w, "%-34s ping %s, fetch %s, KV read %s (a due request not sent yet: the generator or every worker busy)\n",
		"send lag max:", ms(r.Ping.LagMax), ms(r.Fetch.LagMax), ms(r.KV.LagMax))
	fmt.Fprintf(w, "%-34s %d of %d parsed (every %d-th); all byte-checked for \"Success\" and *_exception; %d of %d KV reads found a value (%s)\n",
		"fetch responses checked:", r.Fetch.Checked, r.Fetch.Requests, max(c.CheckEvery, 1), r.KVFound, r.KV.Requests, c.KVDataset)

	verdict := func(ok bool) string {
		if ok {
			return "required met"
		}
		return "required NOT MET"
	}
	fmt.Fprintf(w, "%-34s %8.2fx  (required <= %.1f: %s)\n", "ratio fetch/ping p99:", r.Ratio, maxRatio, verdict(r.RatioMet))
	fmt.Fprintf(w, "%-34s %8d   (ping %d, fetch %d; required 0: %s)\n", "errors:", r.Ping.Errors+r.Fetch.Errors, r.Ping.Errors, r.Fetch.Errors, verdict(r.ErrorsMet))
	fmt.Fprintf(w, "%-34s %8.2fx  (fetch/KV read p50 %.2fx: what the server adds to a bare KV read)\n", "ratio fetch/KV read p99:", ratio(r.Fetch.P99, r.KV.P99), ratio(r.Fetch.P50, r.KV.P50))
	fmt.Fprintf(w, "%-34s %8.2fx  (p50 %.2fx: HTTP on loopback over a bare KV read)\n", "ratio ping/KV read p99:", ratio(r.Ping.P99, r.KV.P99), ratio(r.Ping.P50, r.KV.P50))
	fmt.Fprintf(w, "%-34s %8.2fx  (p50 %.2fx; v2, samplePercent 100, warehouse sink, vs v2_unlogged; issue 9 asks <= %.2f; %d errors)\n",
		"ratio logged/unlogged fetch p99:", r.LogRatio, ratio(r.Fetch.P50, r.Unlogged.P50), maxLogRatio, r.Unlogged.Errors)
}

// printErrorKinds prints an attack's most frequent kinds of error.
func printErrorKinds(w io.Writer, s stats) {
	kinds := make([]string, 0, len(s.ErrorKinds))
	for k := range s.ErrorKinds {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int {
		if d := s.ErrorKinds[b] - s.ErrorKinds[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	for i, k := range kinds {
		if i == 5 {
			fmt.Fprintf(w, "    ... %d more kinds of error\n", len(kinds)-i)
			break
		}
		fmt.Fprintf(w, "    %d x %s, e.g. %s\n", s.ErrorKinds[k], k, s.Examples[k])
	}
}

// loadAverage returns the 1-minute load average, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
