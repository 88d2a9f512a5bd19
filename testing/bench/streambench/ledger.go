// SPDX-License-Identifier: Apache-2.0

package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chronon-go/chronon/testing/bench/benchkit"
)

// schedule is the publisher's open-loop, constant-rate schedule: event seq
// (from 0) is due seq/rate after publishing began, whatever happened to the
// events before it. The first warm events are the warm-up; the n events
// in all are published over (warm + measured)/rate.
type schedule struct {
	rate int // events per second
	warm int // events of the warm-up
	n    int // events in all
}

func newSchedule(rate int, warmup, d time.Duration) schedule {
	warm := int(math.Round(float64(rate) * warmup.Seconds()))
	return schedule{rate: rate, warm: warm, n: warm + int(math.Round(float64(rate)*d.Seconds()))}
}

// due returns when event seq is due, after publishing began.
func (s schedule) due(seq int) time.Duration {
	r := int64(s.rate)
	return time.Duration(int64(seq)/r*int64(time.Second) + int64(seq)%r*int64(time.Second)/r)
}

// measured tells whether event seq is after the warm-up.
func (s schedule) measured(seq int) bool { return seq >= s.warm }

// probeEvery is how often a measured event is a probe: every probeEvery-th
// (at least 1) gives about probeRate probes per second at rate.
func probeEvery(rate, probeRate int) int {
	if probeRate <= 0 {
		return 0
	}
	return max(1, int(math.Round(float64(rate)/float64(probeRate))))
}

// ledger is what the publisher, the prober and the baseline subscriber
// know of the events. Times are nanoseconds since the ledger's origin (on
// the monotonic clock), 0 for not yet.
type ledger struct {
	origin time.Time
	sched  schedule
	// pubAt is each event's publish call (seq order); written by the
	// publisher before the call, read after the publisher finished or for
	// the probes it handed over.
	pubAt []int64
	// recvAt is each event's first delivery to the baseline subscriber.
	recvAt []atomic.Int64
	// busy marks the keys with a probe in flight: the publisher publishes
	// no other event of such a key, so the probe's event is the last one
	// of its key and a fetch that counts every event published for the key
	// sees it (see doc.go).
	busy      []atomic.Bool
	inFlight  atomic.Int64 // probes handed to the prober and not resolved
	delivered atomic.Int64 // events the baseline subscriber received

	// published and sum count each key's events and their x (publisher
	// only until it finished).
	published []int64
	sum       []int64
}

func newLedger(origin time.Time, s schedule, keys int) *ledger {
	return &ledger{
		origin:    origin,
		sched:     s,
		pubAt:     make([]int64, s.n),
		recvAt:    make([]atomic.Int64, s.n),
		busy:      make([]atomic.Bool, keys),
		published: make([]int64, keys),
		sum:       make([]int64, keys),
	}
}

// now is the time since the origin; never 0.
func (l *ledger) now() int64 { return max(int64(time.Since(l.origin)), 1) }

// pickKey returns a uniformly random key without a probe in flight, or -1
// when every key has one (the caller bounds the probes in flight below the
// number of keys, so that does not happen).
func (l *ledger) pickKey(rng *rand.Rand) int {
	n := len(l.busy)
	for range 32 {
		if k := rng.IntN(n); !l.busy[k].Load() {
			return k
		}
	}
	start := rng.IntN(n)
	for i := range n {
		if k := (start + i) % n; !l.busy[k].Load() {
			return k
		}
	}
	return -1
}

// received notes the baseline subscriber's delivery of event seq; only the
// first delivery counts. It ignores sequence numbers out of range.
func (l *ledger) received(seq int) {
	if seq >= 0 && seq < len(l.recvAt) && l.recvAt[seq].CompareAndSwap(0, l.now()) {
		l.delivered.Add(1)
	}
}

// probe is one event whose freshness is measured.
type probe struct {
	seq  int
	key  int
	want int64 // the key's unbounded count once the event is visible
	at   int64 // its publish call, as in ledger.pubAt
}

// probeResult is a probe's outcome: seen after freshness, or given up on
// (unseen) after waiting that long.
type probeResult struct {
	probe
	freshness time.Duration
	unseen    bool
}

// dist is the distribution of a set of durations.
type dist struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

// distOf sorts ds in place and summarizes it.
func distOf(ds []time.Duration) dist {
	slices.Sort(ds)
	d := dist{N: len(ds), P50: benchkit.Percentile(ds, 0.50), P90: benchkit.Percentile(ds, 0.90), P99: benchkit.Percentile(ds, 0.99)}
	if len(ds) > 0 {
		d.Max = ds[len(ds)-1]
	}
	return d
}

// delivery returns the delivery latencies of the measured events
// (publish call to first delivery) and how many measured events were
// never delivered.
func (l *ledger) delivery() (d dist, undelivered int) {
	var ds []time.Duration
	for seq := l.sched.warm; seq < l.sched.n; seq++ {
		pub, recv := l.pubAt[seq], l.recvAt[seq].Load()
		switch {
		case pub == 0:
			// not published (stopped early)
		case recv == 0:
			undelivered++
		default:
			ds = append(ds, time.Duration(recv-pub))
		}
	}
	return distOf(ds), undelivered
}

// folding is the streaming job's progress, from its OnBatch callback.
type folding struct {
	gen     atomic.Int64 // batches so far
	mu      sync.Mutex
	batches []foldedBatch
	total   int
}

type foldedBatch struct {
	at                          int64 // since the ledger's origin
	events, dups, filtered, bad int
	tiles                       int
}

func (f *folding) add(at int64, events, dups, filtered, bad, tiles int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, foldedBatch{at: at, events: events, dups: dups, filtered: filtered, bad: bad, tiles: tiles})
	f.total += events
	f.gen.Add(1)
}

// folded is how many events were folded so far.
func (f *folding) folded() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// foldStats sums the batches.
type foldStats struct {
	Events, Duplicates, Filtered, Malformed, Tiles, Batches int
	// InWindow is the events folded by batches that ended in the window
	// given to stats, InWindowBatches those batches.
	InWindow, InWindowBatches int
	// Last is when the last batch that folded events ended (since the
	// ledger's origin).
	Last int64
}

// stats sums every batch, and those that ended in [from, to).
func (f *folding) stats(from, to int64) foldStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s foldStats
	for _, b := range f.batches {
		s.Events += b.events
		s.Duplicates += b.dups
		s.Filtered += b.filtered
		s.Malformed += b.bad
		s.Tiles += b.tiles
		s.Batches++
		if b.at >= from && b.at < to {
			s.InWindow += b.events
			s.InWindowBatches++
		}
		if b.events > 0 {
			s.Last = max(s.Last, b.at)
		}
	}
	return s
}
