// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
	"github.com/chronon-go/chronon/runners/stream"
	"github.com/chronon-go/chronon/testing/bench/benchkit"
)

// TestQuickEndToEnd runs `streambench --quick` for real: pstest, the
// streaming job and the fetcher in this process, some 10 seconds. It is
// opt-in, so that make test stays fast:
//
//	CHRONON_STREAMBENCH=1 go test -run TestQuickEndToEnd -v ./testing/bench/streambench
func TestQuickEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("not in -short mode: runs the streaming benchmark for some 10s")
	}
	if os.Getenv("CHRONON_STREAMBENCH") != "1" {
		t.Skip("CHRONON_STREAMBENCH=1 is not set: it runs the streaming benchmark (--quick) for some 10s")
	}
	var out, errs bytes.Buffer
	r, err := run(context.Background(), []string{"--quick"}, &out, &errs)
	t.Log("\n" + out.String() + errs.String())
	if err != nil {
		t.Fatal(err)
	}
	// The freshness target is not checked here (a smoke run on a shared
	// machine); the accounting and the correctness of every answer are.
	const events = 1500 // 500/s for 3s
	if r.Pub.Measured != events || r.Pub.Errors != 0 || r.BasePub.Measured != events || r.BasePub.Errors != 0 {
		t.Errorf("published %d (%d errors), baseline %d (%d errors), want %d each", r.Pub.Measured, r.Pub.Errors, r.BasePub.Measured, r.BasePub.Errors, events)
	}
	if !r.AllFolded || r.Fold.Events != r.Pub.Published || r.Fold.Duplicates != 0 || r.Fold.Malformed != 0 {
		t.Errorf("folding %+v, all folded %v, want %d events", r.Fold, r.AllFolded, r.Pub.Published)
	}
	if r.Freshness.N == 0 || r.Freshness.N != r.Pub.Probes || r.Unseen != 0 || r.Probe.Overcounts != 0 || r.Probe.FetchErrors != 0 {
		t.Errorf("freshness %+v of %d probes, %d unseen, %d overcounts, %d fetch errors", r.Freshness, r.Pub.Probes, r.Unseen, r.Probe.Overcounts, r.Probe.FetchErrors)
	}
	if r.Delivery.N != events || r.Undelivered != 0 {
		t.Errorf("baseline delivered %d, %d undelivered, want %d", r.Delivery.N, r.Undelivered, events)
	}
	if r.BadKeys != 0 {
		t.Errorf("final check: %d keys disagree, e.g. %s", r.BadKeys, r.BadExample)
	}
	for _, want := range []string{"freshness p99:", "ratio freshness/delivery p99:", "every key's fetch equals its batch plus what was published"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestRunFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--rate", "0"},
		{"--duration", "0s"},
		{"--keys", "1"},
		{"--pull-streams", "0"},
		{"--poll", "-1ms"},
		{"--probe-rate", "-1"},
		{"--tile-fill", "1.5"},
		{"extra"},
	} {
		if _, err := run(context.Background(), args, io.Discard, io.Discard); err == nil {
			t.Errorf("run %q succeeded", args)
		}
	}
}

func TestSchedule(t *testing.T) {
	s := newSchedule(5000, 2*time.Second, 20*time.Second)
	if s.warm != 10000 || s.n != 110000 {
		t.Fatalf("schedule %+v", s)
	}
	for _, tc := range []struct {
		seq  int
		want time.Duration
	}{{0, 0}, {1, 200 * time.Microsecond}, {4999, time.Second - 200*time.Microsecond}, {5000, time.Second}, {109999, 22*time.Second - 200*time.Microsecond}} {
		if got := s.due(tc.seq); got != tc.want {
			t.Errorf("due(%d) = %v, want %v", tc.seq, got, tc.want)
		}
	}
	if s.measured(9999) || !s.measured(10000) {
		t.Error("measured: the warm-up is the first 10000 events")
	}
	// A rate that does not divide a second: due times still increase and
	// reach the duration.
	s = newSchedule(3, 0, time.Second)
	if s.n != 3 || s.due(1) != 333333333 || s.due(3) != time.Second {
		t.Errorf("rate 3: %+v, due %v %v", s, s.due(1), s.due(3))
	}
}

func TestProbeEvery(t *testing.T) {
	for _, tc := range []struct{ rate, probes, want int }{
		{5000, 200, 25}, {500, 200, 3}, {100, 200, 1}, {5000, 0, 0}, {5000, 5000, 1},
	} {
		if got := probeEvery(tc.rate, tc.probes); got != tc.want {
			t.Errorf("probeEvery(%d, %d) = %d, want %d", tc.rate, tc.probes, got, tc.want)
		}
	}
}

func TestPercentile(t *testing.T) {
	if benchkit.Percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing")
	}
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	d := distOf(ds) // sorts
	want := dist{N: 100, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if d != want {
		t.Errorf("distOf = %+v, want %+v", d, want)
	}
	// Nearest rank: of 10 values, p99 is the largest, p50 the 5th.
	ten := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if benchkit.Percentile(ten, 0.99) != 10 || benchkit.Percentile(ten, 0.5) != 5 || benchkit.Percentile(ten, 0.9) != 9 || benchkit.Percentile(ten[:1], 0.99) != 1 {
		t.Error("nearest rank")
	}
}

func TestPickKeySkipsBusyKeys(t *testing.T) {
	l := newLedger(time.Now(), newSchedule(10, 0, time.Second), 10)
	rng := rand.New(rand.NewPCG(1, 2))
	for k := range 9 {
		if k != 4 {
			l.busy[k].Store(true)
		}
	}
	for range 100 {
		if k := l.pickKey(rng); k != 4 && k != 9 {
			t.Fatalf("picked busy key %d", k)
		}
	}
	l.busy[4].Store(true)
	l.busy[9].Store(true)
	if k := l.pickKey(rng); k != -1 {
		t.Errorf("every key busy: picked %d", k)
	}
	// Without busy keys, every key comes up.
	l = newLedger(time.Now(), newSchedule(10, 0, time.Second), 10)
	seen := map[int]bool{}
	for range 1000 {
		seen[l.pickKey(rng)] = true
	}
	if len(seen) != 10 {
		t.Errorf("keys picked: %v", seen)
	}
}

func TestDelivery(t *testing.T) {
	l := newLedger(time.Now(), newSchedule(10, 200*time.Millisecond, time.Second), 3) // 2 warm-up events, 10 measured
	for seq := range l.sched.n {
		l.pubAt[seq] = int64(seq) * int64(time.Millisecond)
	}
	l.pubAt[11] = 0 // not published: not counted at all
	for seq := range 9 {
		l.recvAt[seq].Store(l.pubAt[seq] + int64(seq+1)*int64(time.Millisecond))
	}
	d, undelivered := l.delivery()
	// Measured and delivered: 2..8, latencies 3..9ms; 9 and 10 undelivered.
	if d.N != 7 || d.P50 != 6*time.Millisecond || d.Max != 9*time.Millisecond || undelivered != 2 {
		t.Errorf("delivery %+v, %d undelivered", d, undelivered)
	}
	// Only the first delivery counts; out of range is ignored.
	l.received(9)
	first := l.recvAt[9].Load()
	l.received(9)
	l.received(-1)
	l.received(12)
	if l.recvAt[9].Load() != first || l.delivered.Load() != 1 {
		t.Errorf("received: %d, delivered %d", l.recvAt[9].Load(), l.delivered.Load())
	}
}

func TestFoldingStats(t *testing.T) {
	var f folding
	f.add(10, 5, 0, 0, 0, 5)
	f.add(20, 7, 1, 0, 0, 6)
	f.add(30, 0, 2, 1, 1, 0)
	f.add(40, 3, 0, 0, 0, 3)
	s := f.stats(15, 40)
	want := foldStats{Events: 15, Duplicates: 3, Filtered: 1, Malformed: 1, Tiles: 14, Batches: 4, InWindow: 7, InWindowBatches: 2, Last: 40}
	if s != want || f.folded() != 15 {
		t.Errorf("stats %+v, want %+v; folded %d", s, want, f.folded())
	}
}

func TestNextPoll(t *testing.T) {
	ms := int64(time.Millisecond)
	if got := nextPoll(0, 50*ms); got != 52*ms+ms/2 {
		t.Errorf("young probe: next poll at %v", time.Duration(got))
	}
	if got := nextPoll(0, 2000*ms); got != 2100*ms {
		t.Errorf("2s old probe: next poll at %v, want after 1/20 of its age", time.Duration(got))
	}
}

// TestProber: the prober sees a probe at the first fetch after all of its
// key's events are folded, not before; reports overcounts; gives up on
// probes never folded once the drain timeout passes; and the final check
// agrees with what was folded.
func TestProber(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "kv.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	g := benchGroupBy()
	const keys = 4
	bases, _, err := uploadBatch(ctx, store, g, keys, rand.New(rand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	proc, err := stream.NewProcessor(ctx, g, table, windowTail, store)
	if err != nil {
		t.Fatal(err)
	}
	l := newLedger(time.Now(), newSchedule(10, 0, time.Second), keys)
	seq := 0
	event := func(k int, x int64) stream.Message {
		seq++
		now := time.Now().UnixMilli()
		l.published[k]++
		l.sum[k] += x
		return stream.Message{ID: fmt.Sprint("m", seq), DS: batch.DSOfMillis(now), Row: map[string]any{"user": userName(k), "x": x, "ts": now}}
	}
	var batches atomic.Int64
	fold := func(msgs ...stream.Message) {
		t.Helper()
		st, err := proc.Process(ctx, msgs)
		if err != nil || st.Events != len(msgs) {
			t.Fatalf("fold: %+v, %v", st, err)
		}
		batches.Add(1)
	}
	// Key 0: two events, the probe is the second; key 1: the probe's event
	// is never folded; key 2: one event more than the probe expects.
	e01, e02 := event(0, 5), event(0, 7)
	e1 := event(1, 1)
	e21, e22 := event(2, 2), event(2, 3)
	probes := make(chan probe, 3)
	for _, p := range []probe{
		{seq: 2, key: 0, want: bases[0] + 2},
		{seq: 3, key: 1, want: bases[1] + 1},
		{seq: 4, key: 2, want: bases[2] + 1},
	} {
		p.at = l.now()
		l.busy[p.key].Store(true)
		l.inFlight.Add(1)
		probes <- p
	}
	f := fetcher.New(store, fetcher.Options{})
	f.FetchGroupBy(ctx, []fetcher.Request{{Name: groupByName, Keys: map[string]any{"user": userName(3)}}}) // metadata cached
	done := make(chan probeStats, 1)
	go func() { done <- prober(ctx, f, l, probes, batches.Load, time.Millisecond, 300*time.Millisecond, 0) }()
	fold(e01, e21, e22)
	time.Sleep(50 * time.Millisecond)
	fold(e02)
	close(probes)
	st := <-done
	// Each probe is fetched once at first, then only after a batch: at most
	// 3 + 3 + 2 fetches for the two batches, not one every millisecond.
	if len(st.Results) != 3 || st.Overcounts != 1 || st.FetchErrors != 0 || st.Fetches < 3 || st.Fetches > 8 || st.Rounds.N == 0 {
		t.Fatalf("prober: %+v", st)
	}
	byKey := map[int]probeResult{}
	for _, r := range st.Results {
		byKey[r.key] = r
	}
	if r := byKey[0]; r.unseen || r.freshness < 50*time.Millisecond {
		t.Errorf("key 0: %+v: seen before its last event was folded", r)
	}
	if r := byKey[1]; !r.unseen || r.freshness < 300*time.Millisecond {
		t.Errorf("key 1: %+v, want unseen after the drain timeout", r)
	}
	if r := byKey[2]; r.unseen || r.freshness > byKey[0].freshness {
		t.Errorf("key 2: %+v, want seen no later than key 0 (%v)", r, byKey[0].freshness)
	}
	for k := range keys {
		if l.busy[k].Load() {
			t.Errorf("key %d still busy", k)
		}
	}
	if l.inFlight.Load() != 0 {
		t.Errorf("%d probes in flight", l.inFlight.Load())
	}

	// The final check: key 1's event was published but not folded.
	bad, example, err := checkKeys(ctx, f, l, bases)
	if err != nil || bad != 1 || !strings.Contains(example, userName(1)) {
		t.Errorf("check: %d bad (%s), %v", bad, example, err)
	}
	fold(e1)
	if bad, example, err := checkKeys(ctx, f, l, bases); err != nil || bad != 0 {
		t.Errorf("check after folding everything: %d bad (%s), %v", bad, example, err)
	}
}

// TestPrefill: the prefilled events land in each key's current tile, and
// the ledger expects them.
func TestPrefill(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "kv.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	g := benchGroupBy()
	const keys = 5
	rng := rand.New(rand.NewPCG(5, 6))
	bases, _, err := uploadBatch(ctx, store, g, keys, rng)
	if err != nil {
		t.Fatal(err)
	}
	l := newLedger(time.Now(), newSchedule(10, 0, time.Second), keys)
	before := time.Now().UnixMilli()
	start, err := prefill(ctx, store, g, l, 7, rng)
	if err != nil {
		t.Fatal(err)
	}
	if start > before || start+agg.TileMillis <= before || start%agg.TileMillis != 0 {
		t.Errorf("tile start %d for now %d", start, before)
	}
	for k := range keys {
		if l.published[k] != 7 {
			t.Errorf("key %d: %d prefilled", k, l.published[k])
		}
	}
	// Let the millisecond of the last prefilled event pass: a fetch counts
	// events before its time.
	time.Sleep(2 * time.Millisecond)
	if bad, example, err := checkKeys(ctx, fetcher.New(store, fetcher.Options{}), l, bases); err != nil || bad != 0 {
		t.Errorf("check: %d bad (%s), %v", bad, example, err)
	}
}

func TestBudget(t *testing.T) {
	b := newBudget(1000) // a burst of 50
	if n := b.take(1, 80); n != 50 {
		t.Errorf("first take: %d, want the burst", n)
	}
	if n := b.take(1+int64(10*time.Millisecond), 80); n != 10 {
		t.Errorf("after 10ms: %d, want 10", n)
	}
	if n := b.take(1+int64(time.Second), 80); n != 50 {
		t.Errorf("after a second: %d, want the burst only", n)
	}
	if n := newBudget(0).take(1, 1e6); n != 1e6 {
		t.Errorf("no limit: %d", n)
	}
}
