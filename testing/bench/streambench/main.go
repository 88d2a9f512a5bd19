// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/config"
	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
	"github.com/chronon-go/chronon/runners/pubsubdev"
	"github.com/chronon-go/chronon/runners/stream"
	"github.com/chronon-go/chronon/testing/bench/benchkit"
)

// maxFreshnessP99 is the requirement: publish -> visible-in-fetch p99.
const maxFreshnessP99 = time.Second

// fetchesPerProbe bounds the prober's fetches: at most this many keys a
// second per probe a second (without a backlog a probe takes 2 or 3).
const fetchesPerProbe = 4

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	_, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "streambench:", err)
		os.Exit(1)
	}
}

// benchConfig is what the flags set.
type benchConfig struct {
	Rate            int
	Duration        time.Duration
	Warmup          time.Duration
	Keys            int
	ProbeRate       int
	Poll            time.Duration
	Streams         int
	MaxBatch        int
	FlushEvery      time.Duration
	Drain           time.Duration
	Baseline        bool
	TileFill        float64
	Seed            uint64
	Dir             string
	CPUProfile      string
	DefaultsApplied string // what --quick set, for the header
}

// report is what a run measured.
type report struct {
	// The prefill: events per key folded into the tiles starting at
	// PrefillTile, before the job started.
	PrefillPerKey int
	PrefillTile   int64
	PrefillTime   time.Duration
	// The streaming phase.
	Load        string  // load average when it began
	CPU         float64 // CPUs this process used on average, from its first publish to the end of the drain
	Pub         pubStats
	PublishRate float64 // measured events per second of publish calls
	Fold        foldStats
	FoldRate    float64       // events folded per second while the measured events were published
	AllFolded   bool          // every accepted event was folded before the drain timeout
	FoldedAfter time.Duration // from the last publish call to the last fold, when AllFolded
	Freshness   dist          // the probes, unseen ones counted with the time waited
	Unseen      int           // probes not seen before the drain timeout
	Probe       probeStats
	// The baseline phase: Delivery is from each measured event's publish
	// call to the plain subscriber's callback.
	BaseLoad           string
	BaseCPU            float64
	BasePub            pubStats
	BasePublishRate    float64
	Delivery           dist
	Undelivered        int
	BadKeys            int // keys whose final fetch disagrees with what was published
	BadExample         string
	Met                bool    // Freshness.P99 <= maxFreshnessP99, every probe seen
	RatioP99, RatioP50 float64 // freshness over delivery
}

func run(ctx context.Context, args []string, w, errw io.Writer) (*report, error) {
	fs := flag.NewFlagSet("streambench", flag.ContinueOnError)
	var c benchConfig
	fs.IntVar(&c.Rate, "rate", 5000, "events published per second (open loop)")
	fs.DurationVar(&c.Duration, "duration", 20*time.Second, "how long the measured events are published")
	fs.DurationVar(&c.Warmup, "warmup", 2*time.Second, "events published at --rate before the measured ones (no probes; not in the numbers)")
	fs.IntVar(&c.Keys, "keys", 1000, "keys (users) the events are spread over uniformly")
	fs.IntVar(&c.ProbeRate, "probe-rate", 200, "measured events per second whose freshness is measured (the probes)")
	fs.DurationVar(&c.Poll, "poll", 5*time.Millisecond, "pause between the prober's fetch rounds (a probe is fetched again only after the job wrote a batch)")
	fs.IntVar(&c.Streams, "pull-streams", 100, "streaming pulls of each subscriber, the streaming job's (chronon stream --pull-streams, default 4) and the baseline's: pstest hands each about one message per 10ms")
	fs.IntVar(&c.MaxBatch, "max-batch", 0, "the streaming job's MaxBatch (0: its default, as chronon stream runs it)")
	fs.DurationVar(&c.FlushEvery, "flush-every", 0, "the streaming job's FlushEvery (0: its default, as chronon stream runs it)")
	fs.DurationVar(&c.Drain, "drain-timeout", 30*time.Second, "after the last publish, how long to wait for the probes to be seen and every event to be folded")
	fs.Float64Var(&c.TileFill, "tile-fill", 0.5, "before the job starts, fold into each key's current 5-minute tile this fraction of the events it gets in 5 minutes at --rate (0.5: the average over a tile's span; the tiles keep every event's message id, so writing and reading them costs more as they fill)")
	fs.BoolVar(&c.Baseline, "baseline", true, "measure the baseline first: the same schedule to a topic of its own, read by a plain subscriber")
	fs.Uint64Var(&c.Seed, "seed", 1, "random seed (keys, values, batch data)")
	fs.StringVar(&c.Dir, "dir", "", "directory for the KV store (default a temporary directory, removed after)")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of the load (publishing to drained) to this file")
	quick := fs.Bool("quick", false, "a smoke run: --rate 500 --duration 3s --warmup 500ms --keys 200 (unless set)")
	fs.SetOutput(w)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *quick {
		var err error
		if c.DefaultsApplied, err = benchkit.ApplyDefaults(fs, [][2]string{{"rate", "500"}, {"duration", "3s"}, {"warmup", "500ms"}, {"keys", "200"}}); err != nil {
			return nil, err
		}
	}
	switch {
	case c.Rate <= 0:
		return nil, errors.New("--rate must be positive")
	case c.Duration <= 0:
		return nil, errors.New("--duration must be positive")
	case c.Warmup < 0 || c.Drain < 0 || c.Poll < 0 || c.FlushEvery < 0 || c.MaxBatch < 0:
		return nil, errors.New("--warmup, --drain-timeout, --poll, --flush-every and --max-batch must not be negative")
	case c.Keys < 2:
		return nil, errors.New("--keys must be at least 2")
	case c.ProbeRate < 0:
		return nil, errors.New("--probe-rate must not be negative")
	case c.TileFill < 0 || c.TileFill > 1:
		return nil, errors.New("--tile-fill must be in [0, 1]")
	case c.Streams < 1:
		return nil, errors.New("--pull-streams must be at least 1")
	}
	return bench(ctx, c, w, errw)
}

// bench sets everything up in this process, runs the load and prints the
// report. Only a failure to set up is an error: missing the target is
// printed.
func bench(ctx context.Context, c benchConfig, w, errw io.Writer) (r *report, err error) {
	quick := ""
	if c.DefaultsApplied != "" {
		quick = " (--quick: " + c.DefaultsApplied + ")"
	}
	every := probeEvery(c.Rate, c.ProbeRate)
	probeRate := probeRateOf(c)
	fmt.Fprintf(w, "streambench: publish -> visible-in-fetch freshness at %d events/s for %s over %d keys%s, after %s of warm-up; %.0f probes/s, fetched every %s; in one process: pstest, streaming job, fetcher\n",
		c.Rate, c.Duration, c.Keys, quick, c.Warmup, probeRate, c.Poll)
	fmt.Fprintf(w, "machine: %d CPUs, load average %s (the publisher, pstest, the streaming job, SQLite, the prober and the baseline subscriber share them)\n", runtime.NumCPU(), loadAverage())

	dir := c.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "streambench-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	kvPath := filepath.Join(dir, "kv.db")
	setupStart := time.Now()

	emu, err := pubsubdev.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer emu.Close()
	connect := func() (*pubsub.Client, error) {
		return pubsubdev.Connect(ctx, config.PubSub{Project: "local", Emulator: emu.Host()})
	}
	// One client (gRPC connection) per role, as separate processes would
	// have: the publishing application, chronon stream, the baseline.
	pubClient, err := connect()
	if err != nil {
		return nil, err
	}
	defer pubClient.Close()
	jobClient, err := connect()
	if err != nil {
		return nil, err
	}
	defer jobClient.Close()
	baseClient, err := connect()
	if err != nil {
		return nil, err
	}
	defer baseClient.Close()

	// The KV store, opened twice as chronon stream and chronon serve would
	// open it: the job writes tiles through one handle, the fetcher reads
	// through the other (SQLite in WAL mode).
	g := benchGroupBy()
	rng := rand.New(rand.NewPCG(c.Seed, 0x57be))
	upStore, err := sqlite.Open(kvPath, nil)
	if err != nil {
		return nil, err
	}
	bases, batchEnd, err := uploadBatch(ctx, upStore, g, c.Keys, rng)
	if cerr := upStore.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("upload the batch values: %w", err)
	}
	jobStore, err := sqlite.Open(kvPath, nil)
	if err != nil {
		return nil, err
	}
	defer jobStore.Close()
	fetchStore, err := sqlite.Open(kvPath, nil)
	if err != nil {
		return nil, err
	}
	defer fetchStore.Close()

	origin := time.Now()
	sched := newSchedule(c.Rate, c.Warmup, c.Duration)
	l := newLedger(origin, sched, c.Keys)  // the streaming phase
	bl := newLedger(origin, sched, c.Keys) // the baseline phase
	r = &report{}

	// The current tiles, as full as they are on average at this rate.
	perKey := int(math.Round(c.TileFill * float64(c.Rate) * float64(agg.TileMillis) / 1000 / float64(c.Keys)))
	if perKey > 0 {
		start := time.Now()
		if r.PrefillTile, err = prefill(ctx, jobStore, g, l, perKey, rng); err != nil {
			return nil, fmt.Errorf("prefill the tiles: %w", err)
		}
		r.PrefillPerKey, r.PrefillTime = perKey, time.Since(start)
	}

	// The baseline's plain subscriber, on its own topic.
	var baseDone chan error
	baseCtx, stopBase := context.WithCancel(ctx)
	defer stopBase()
	if c.Baseline {
		if err := createBaselineSubscription(ctx, baseClient); err != nil {
			return nil, err
		}
		sub := baseClient.Subscriber(baselineSub)
		sub.ReceiveSettings.NumGoroutines = c.Streams
		// As the streaming job's subscriber.
		sub.ReceiveSettings.MaxOutstandingMessages = 1000
		sub.ReceiveSettings.MaxDurationPerAckExtension = 10 * time.Second
		baseDone = make(chan error, 1)
		go func() {
			baseDone <- sub.Receive(baseCtx, func(_ context.Context, m *pubsub.Message) {
				if seq, err := strconv.Atoi(m.Attributes["seq"]); err == nil {
					bl.received(seq)
				}
				m.Ack()
			})
		}()
	}

	// The streaming job: what chronon stream --pull-streams N runs.
	var fold folding
	jobCtx, stopJob := context.WithCancel(ctx)
	defer stopJob()
	jobDone := make(chan error, 1)
	go func() {
		jobDone <- stream.Run(jobCtx, g, stream.Options{
			Client: jobClient, Table: table, WindowTail: windowTail, Store: jobStore,
			Log:      slog.New(slog.NewTextHandler(errw, &slog.HandlerOptions{Level: slog.LevelWarn})),
			MaxBatch: c.MaxBatch, FlushEvery: c.FlushEvery, PullStreams: c.Streams,
			OnBatch: func(s stream.Stats) {
				fold.add(l.now(), s.Events, s.Duplicates, s.Filtered, s.Malformed, s.Tiles)
			},
		})
	}()
	if err := waitSubscription(ctx, jobClient, jobDone, 30*time.Second); err != nil {
		return nil, err
	}

	// The fetcher, as chronon serve runs it; one fetch first, as a server
	// that has been up for a while has its metadata cached.
	f := fetcher.New(fetchStore, fetcher.Options{})
	sample := f.FetchGroupBy(ctx, []fetcher.Request{{Name: groupByName, Keys: map[string]any{"user": userName(0)}}})[0]
	if sample.Err != nil {
		return nil, fmt.Errorf("fetch %s: %w", groupByName, sample.Err)
	}
	if n, _ := asInt(sample.Values[colCount]); n != bases[0]+l.published[0] {
		return nil, fmt.Errorf("fetch %s for %s before streaming: %s = %v, want %d (batch) + %d (prefill)", groupByName, userName(0), colCount, sample.Values[colCount], bases[0], l.published[0])
	}
	fmt.Fprintf(w, "%-38s %6.2fs  GroupBy %s (TEMPORAL: %s, %s, %s), batch values of %d keys (batch day %s), SQLite KV in %s; pstest on %s; subscribers with %d streaming pulls each\n",
		"setup:", (time.Since(setupStart) - r.PrefillTime).Seconds(), groupByName, colCount1h, colSum1h, colCount, c.Keys,
		batch.DSOfMillis(batchEnd-1), dir, emu.Host(), c.Streams)
	if perKey > 0 {
		fmt.Fprintf(w, "%-38s %6.2fs  %d events per key (%d in all: --tile-fill %.2f of the events a key's 5-minute tile gets at %d/s) folded into the tiles starting %s UTC\n",
			"prefill:", r.PrefillTime.Seconds(), perKey, perKey*c.Keys, c.TileFill, c.Rate, time.UnixMilli(r.PrefillTile).UTC().Format("15:04"))
	}

	if c.CPUProfile != "" {
		pf, err := os.Create(c.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}

	// Phase 1: the streaming job's topic, with the probes.
	r.Load = loadAverage()
	cpu0, t0 := cpuTime(), time.Now()
	probes := make(chan probe, c.Keys)
	maxInFlight := int64(c.Keys / 2)
	probed := make(chan probeStats, 1)
	go func() { probed <- prober(ctx, f, l, probes, fold.gen.Load, c.Poll, c.Drain, fetchesPerProbe*probeRate) }()
	pub := pubClient.Publisher(topicID)
	ps := publisher(ctx, pub, l, bases, every, maxInFlight, probes, rng)
	pub.Stop()
	pr := <-probed
	// Wait for the rest to be folded.
	accepted := ps.Published - ps.Errors
	for deadline := time.Now().Add(c.Drain); ctx.Err() == nil && time.Now().Before(deadline) && fold.folded() < accepted; {
		time.Sleep(10 * time.Millisecond)
	}
	r.CPU = float64(cpuTime()-cpu0) / float64(time.Since(t0))
	r.Pub, r.Probe = ps, pr
	r.PublishRate = ps.rate()
	r.Fold = fold.stats(ps.First, ps.Last+1)
	r.AllFolded = r.Fold.Events >= accepted
	if r.AllFolded {
		r.FoldedAfter = time.Duration(max(r.Fold.Last-ps.Last, 0))
	}
	if span := time.Duration(ps.Last - ps.First); span > 0 {
		r.FoldRate = float64(r.Fold.InWindow) / span.Seconds()
	}
	fresh := make([]time.Duration, len(pr.Results))
	for i, p := range pr.Results {
		fresh[i] = p.freshness
		if p.unseen {
			r.Unseen++
		}
	}
	r.Freshness = distOf(fresh)
	r.Met = r.Freshness.N > 0 && r.Unseen == 0 && r.Freshness.P99 <= maxFreshnessP99
	if ctx.Err() == nil {
		if r.BadKeys, r.BadExample, err = checkKeys(ctx, f, l, bases); err != nil {
			return nil, err
		}
	}

	// Phase 2, the baseline: the same schedule to the baseline topic; the
	// streaming job idles.
	if c.Baseline && ctx.Err() == nil {
		r.BaseLoad = loadAverage()
		cpu0, t0 := cpuTime(), time.Now()
		pub := pubClient.Publisher(baselineTopic)
		none := make(chan probe)
		r.BasePub = publisher(ctx, pub, bl, bases, 0, 0, none, rng)
		pub.Stop()
		accepted := r.BasePub.Published - r.BasePub.Errors
		for deadline := time.Now().Add(c.Drain); ctx.Err() == nil && time.Now().Before(deadline) && int(bl.delivered.Load()) < accepted; {
			time.Sleep(10 * time.Millisecond)
		}
		r.BaseCPU = float64(cpuTime()-cpu0) / float64(time.Since(t0))
		r.Delivery, r.Undelivered = bl.delivery()
		r.BasePublishRate = r.BasePub.rate()
		r.RatioP99 = ratio(r.Freshness.P99, r.Delivery.P99)
		r.RatioP50 = ratio(r.Freshness.P50, r.Delivery.P50)
	}

	stopJob()
	if err := <-jobDone; err != nil && ctx.Err() == nil {
		fmt.Fprintf(w, "the streaming job stopped with an error: %v\n", err)
	}
	stopBase()
	if baseDone != nil {
		<-baseDone
	}
	printReport(w, c, r)
	return r, ctx.Err()
}

// probeRateOf is the probes per second of c: a whole fraction of the rate.
func probeRateOf(c benchConfig) float64 {
	if every := probeEvery(c.Rate, c.ProbeRate); every > 0 {
		return float64(c.Rate) / float64(every)
	}
	return 0
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func (d dist) String() string {
	return fmt.Sprintf("%7d %10s %10s %10s %10s", d.N, ms(d.P50), ms(d.P90), ms(d.P99), ms(d.Max))
}

func printReport(w io.Writer, c benchConfig, r *report) {
	ps := r.Pub
	fmt.Fprintf(w, "phase 1, streaming (load average %s, %.2f CPUs used by this process): %d events to %s at %.1f/s (after %d of warm-up), %d not accepted%s; publish call lag p99 %s, max %s\n",
		r.Load, r.CPU, ps.Measured, topicID, r.PublishRate, ps.Published-ps.Measured, ps.Errors, firstError(ps.FirstError), ms(ps.Lag.P99), ms(ps.Lag.Max))
	if first, last := agg.TileStart(ps.FirstTs), agg.TileStart(ps.LastTs); first != last {
		fmt.Fprintf(w, "    the measured events crossed a 5-minute tile boundary at %s UTC: the events after it went to new tiles\n", time.UnixMilli(last).UTC().Format("15:04:05"))
	} else if r.PrefillPerKey > 0 && first != r.PrefillTile {
		fmt.Fprintf(w, "    the prefilled tiles ended before the measured events began: these went to new tiles\n")
	}
	if c.Baseline && r.BasePub.Published > 0 {
		bp := r.BasePub
		fmt.Fprintf(w, "phase 2, baseline (load average %s, %.2f CPUs used by this process): %d events to %s at %.1f/s (after %d of warm-up), %d not accepted%s; publish call lag p99 %s, max %s; %d never delivered\n",
			r.BaseLoad, r.BaseCPU, bp.Measured, baselineTopic, r.BasePublishRate, bp.Published-bp.Measured, bp.Errors, firstError(bp.FirstError), ms(bp.Lag.P99), ms(bp.Lag.Max), r.Undelivered)
	}
	fo := r.Fold
	folded := "NOT all folded within the drain timeout"
	if r.AllFolded {
		folded = fmt.Sprintf("all folded %s after the last publish", ms(r.FoldedAfter))
	}
	avg := 0.0
	if fo.InWindowBatches > 0 {
		avg = float64(fo.InWindow) / float64(fo.InWindowBatches)
	}
	fmt.Fprintf(w, "%-38s %.1f events/s while publishing (%d batches of %.1f events); in all %d events, %d duplicates, %d malformed, %d tile writes; %s\n",
		"folded by the streaming job:", r.FoldRate, fo.InWindowBatches, avg, fo.Events, fo.Duplicates, fo.Malformed, fo.Tiles, folded)
	fmt.Fprintf(w, "%-38s %7s %10s %10s %10s %10s\n", "", "n", "p50", "p90", "p99", "max")
	fmt.Fprintf(w, "%-38s %s\n", "freshness: publish -> seen by a fetch", r.Freshness)
	if c.Baseline {
		fmt.Fprintf(w, "%-38s %s\n", "baseline: publish -> plain subscriber", r.Delivery)
	}
	fmt.Fprintf(w, "%-38s %s\n", "prober round (one FetchGroupBy call)", r.Probe.Rounds)
	fmt.Fprintf(w, "%-38s %d (%d skipped: %d keys had probes in flight), %d not seen within %s; %d fetches (%d rounds put some off: at most %d/s), %d errors%s, %d overcounts\n",
		"probes:", ps.Probes, ps.SkippedProbe, c.Keys/2, r.Unseen, c.Drain, r.Probe.Fetches, r.Probe.Throttled, int(fetchesPerProbe*probeRateOf(c)), r.Probe.FetchErrors, firstError(r.Probe.FirstError), r.Probe.Overcounts)
	check := "every key's fetch equals its batch plus what was published"
	if r.BadKeys > 0 {
		check = fmt.Sprintf("%d keys DISAGREE, e.g. %s", r.BadKeys, r.BadExample)
	}
	fmt.Fprintf(w, "%-38s %s (%s, %s, %s)\n", "final fetch of all keys:", check, colCount, colCount1h, colSum1h)

	verdict := "required NOT MET"
	if r.Met {
		verdict = "required met"
	}
	note := ""
	if r.Unseen > 0 || ps.SkippedProbe > 0 {
		note = "; probes were unseen or skipped: the backlog is worse than these numbers"
	}
	fmt.Fprintf(w, "%-38s %s  (required <= %s: %s%s)\n", "freshness p99:", ms(r.Freshness.P99), maxFreshnessP99, verdict, note)
	if c.Baseline {
		fmt.Fprintf(w, "%-38s %.2fx  (p50 %.2fx: what folding into tiles, the KV write and the fetch add to Pub/Sub delivery)\n",
			"ratio freshness/delivery p99:", r.RatioP99, r.RatioP50)
	}
}

func firstError(s string) string {
	if s == "" {
		return ""
	}
	return " (first: " + s + ")"
}

// loadAverage returns the 1-minute load average, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
