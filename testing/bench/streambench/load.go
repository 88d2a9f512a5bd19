// SPDX-License-Identifier: Apache-2.0

package main

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"github.com/chronon-go/chronon/fetcher"
)

// pubStats is what the publisher did.
type pubStats struct {
	Published   int // publish calls
	Errors      int // publishes Pub/Sub did not accept
	FirstError  string
	Measured    int   // publish calls after the warm-up
	First, Last int64 // the first and last measured publish calls, since the ledger's origin
	// FirstTs and LastTs are their events' ts (epoch ms).
	FirstTs, LastTs int64
	Lag             dist  // measured calls: how late after their due times
	Probes          int   // handed to the prober
	SkippedProbe    int   // due while too many probes were in flight
	Done            int64 // when the publisher had sent everything and Pub/Sub accepted it
}

// rate is the measured events' publish calls per second.
func (s pubStats) rate() float64 {
	if s.Last <= s.First {
		return 0
	}
	return float64(s.Measured-1) / time.Duration(s.Last-s.First).Seconds()
}

// publisher publishes l's schedule to pub: open loop, each event at its due
// time (or as soon as possible after it) whatever happened to the events
// before. Each event is a CSV message ts,user,x for a random key without a
// probe in flight, ts its publish time, with the attribute seq. Every
// every-th measured event (0: none) is a probe, handed to probes, unless
// maxInFlight probes are in flight already. bases are the keys' batch
// counts. It closes probes when done.
func publisher(ctx context.Context, pub *pubsub.Publisher, l *ledger, bases []int64, every int, maxInFlight int64, probes chan<- probe, rng *rand.Rand) pubStats {
	defer close(probes)
	var st pubStats
	results := make(chan *pubsub.PublishResult, 4096)
	errc := make(chan pubStats, 1)
	go func() {
		// Pub/Sub's answers, in publish order: failures count as errors.
		var e pubStats
		for r := range results {
			if _, err := r.Get(context.WithoutCancel(ctx)); err != nil {
				if e.Errors++; e.Errors == 1 {
					e.FirstError = err.Error()
				}
			}
		}
		errc <- e
	}()
	s := l.sched
	start := l.now()
	lags := make([]time.Duration, 0, s.n-s.warm)
	buf := make([]byte, 0, 64)
	for seq := 0; seq < s.n; seq++ {
		due := start + int64(s.due(seq))
		if wait := due - l.now(); wait > 0 {
			time.Sleep(time.Duration(wait))
		}
		if ctx.Err() != nil {
			break
		}
		k := l.pickKey(rng)
		if k < 0 {
			panic("streambench: every key has a probe in flight") // maxInFlight < keys
		}
		isProbe := false
		if every > 0 && s.measured(seq) && (seq-s.warm)%every == 0 {
			if l.inFlight.Load() < maxInFlight {
				isProbe = true
				l.busy[k].Store(true)
				l.inFlight.Add(1)
			} else {
				st.SkippedProbe++
			}
		}
		x := rng.Int64N(100)
		l.published[k]++
		l.sum[k] += x
		ts := time.Now().UnixMilli()
		buf = strconv.AppendInt(buf[:0], ts, 10)
		buf = append(buf, ',')
		buf = append(buf, userName(k)...)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, x, 10)
		data := append([]byte(nil), buf...)
		at := l.now()
		l.pubAt[seq] = at
		results <- pub.Publish(ctx, &pubsub.Message{Data: data, Attributes: map[string]string{"seq": strconv.Itoa(seq)}})
		st.Published++
		if isProbe {
			st.Probes++
			probes <- probe{seq: seq, key: k, want: bases[k] + l.published[k], at: at}
		}
		if s.measured(seq) {
			if st.Measured == 0 {
				st.First, st.FirstTs = at, ts
			}
			st.Measured++
			st.Last, st.LastTs = at, ts
			lags = append(lags, time.Duration(max(at-due, 0)))
		}
	}
	close(results)
	e := <-errc
	st.Errors, st.FirstError = e.Errors, e.FirstError
	st.Lag = distOf(lags)
	st.Done = l.now()
	return st
}

// probeStats is what the prober saw.
type probeStats struct {
	Results     []probeResult
	Rounds      dist // each round's FetchGroupBy call
	Fetches     int  // requests in all rounds
	FetchErrors int
	FirstError  string
	Overcounts  int // a probe's key counted more events than were published for it
	Throttled   int // rounds that put off fetches of due probes for the budget
}

// pollFraction bounds how often a probe is fetched once it is old: at
// most every 1/pollFraction of its age, so that a backlog of seconds does
// not turn the prober into the load that makes it worse; the freshness of
// such a probe is over by at most that fraction.
const pollFraction = 20

// nextPoll is the earliest time a probe published at at and not seen by a
// fetch that ended at now is fetched again: 1/pollFraction of its age
// later.
func nextPoll(at, now int64) int64 {
	return now + (now-at)/pollFraction
}

// budget is a token bucket: rate tokens a second, at most burst saved up.
// A zero rate is no limit.
type budget struct {
	rate, burst, tokens float64
	last                int64 // ns, when tokens were counted
}

func newBudget(rate float64) *budget {
	burst := max(1, rate*0.05)
	return &budget{rate: rate, burst: burst, tokens: burst}
}

// take returns how many of want may go at now (ns on any monotonic
// clock), and spends them.
func (b *budget) take(now int64, want int) int {
	if b.rate <= 0 {
		return want
	}
	if b.last != 0 {
		b.tokens = min(b.burst, b.tokens+b.rate*float64(now-b.last)/float64(time.Second))
	}
	b.last = now
	n := min(want, int(b.tokens))
	b.tokens -= float64(n)
	return n
}

// prober polls the fetcher for the probes in flight. Its rounds are --poll
// apart; each is one FetchGroupBy call, as of now, of the keys of the
// probes that are due: those not fetched yet, and those whose last fetch
// began before the streaming job's last write (gen, the count of the job's
// batches, has moved since) and is older than 1/pollFraction of their age.
// What a fetch sees only changes when the job writes, and it calls OnBatch
// after each write, so fetching again without a new batch would only add
// load. It fetches at most maxRate keys a second (0: no limit), those
// fetched longest ago first, so that a backlog does not turn the prober
// into the load that makes it worse. A probe is seen by the first fetch whose unbounded count reaches
// the count its event makes (no other event of its key is published
// meanwhile): its freshness is the time from its publish call to the end
// of that fetch. Once probes is closed, it gives up on the probes not seen
// after drain.
func prober(ctx context.Context, f *fetcher.Fetcher, l *ledger, probes <-chan probe, gen func() int64, poll, drain time.Duration, maxRate float64) (st probeStats) {
	type pending struct {
		probe
		gen    int64 // the job's batch count when its last fetch began (-1: not fetched)
		due    int64 // not fetched again before
		polled int64 // when its last fetch ended (0: not fetched)
	}
	bucket := newBudget(maxRate)
	var inFlight []pending
	var rounds []time.Duration
	var giveUp int64 // once probes is closed
	defer func() { st.Rounds = distOf(rounds) }()
	take := func(p probe, ok bool) {
		if !ok {
			probes = nil
			giveUp = l.now() + int64(drain)
			return
		}
		inFlight = append(inFlight, pending{probe: p, gen: -1})
	}
	var reqs []fetcher.Request
	var polled []int
	for {
	more:
		for probes != nil {
			select {
			case p, ok := <-probes:
				take(p, ok)
			default:
				break more
			}
		}
		if len(inFlight) == 0 {
			if probes == nil {
				return st
			}
			select {
			case p, ok := <-probes:
				take(p, ok)
			case <-ctx.Done():
				return st
			}
			continue
		}
		now, g := l.now(), gen()
		reqs, polled = reqs[:0], polled[:0]
		for i, p := range inFlight {
			if p.gen < g && p.due <= now {
				polled = append(polled, i)
			}
		}
		if n := bucket.take(now, len(polled)); n < len(polled) {
			st.Throttled++
			slices.SortFunc(polled, func(a, b int) int { return cmp.Compare(inFlight[a].polled, inFlight[b].polled) })
			polled = polled[:n]
		}
		for _, i := range polled {
			reqs = append(reqs, fetcher.Request{Name: groupByName, Keys: map[string]any{"user": userName(inFlight[i].key)}})
		}
		if len(reqs) > 0 {
			began := time.Now()
			res := f.FetchGroupBy(ctx, reqs)
			end := l.now()
			rounds = append(rounds, time.Since(began))
			st.Fetches += len(reqs)
			seen := 0
			for j, i := range polled {
				p := &inFlight[i]
				p.gen, p.due, p.polled = g, nextPoll(p.at, end), end
				if err := res[j].Err; err != nil {
					if st.FetchErrors++; st.FetchErrors == 1 {
						st.FirstError = err.Error()
					}
					continue
				}
				n, _ := asInt(res[j].Values[colCount])
				if n < p.want {
					continue
				}
				if n > p.want {
					st.Overcounts++
				}
				st.Results = append(st.Results, probeResult{probe: p.probe, freshness: time.Duration(end - p.at)})
				l.busy[p.key].Store(false)
				l.inFlight.Add(-1)
				p.due = -1 // seen
				seen++
			}
			if seen > 0 {
				inFlight = slices.DeleteFunc(inFlight, func(p pending) bool { return p.due < 0 })
			}
			now = end
		}
		if ctx.Err() != nil {
			return st
		}
		if probes == nil && now >= giveUp {
			for _, p := range inFlight {
				st.Results = append(st.Results, probeResult{probe: p.probe, freshness: time.Duration(now - p.at), unseen: true})
				l.busy[p.key].Store(false)
				l.inFlight.Add(-1)
			}
			return st
		}
		time.Sleep(poll)
	}
}

// asInt returns a fetched count or sum as an int64; a missing value (no
// data) is 0.
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int32:
		return int64(x), true
	case int:
		return int64(x), true
	case float64:
		return int64(x), x == float64(int64(x))
	case nil:
		return 0, true
	}
	return 0, false
}

// checkKeys fetches every key after the run: its unbounded count must be
// its batch count plus its published events, its 1-hour count and sum
// those of its published events (the batch has none in the last hour). It
// returns how many keys disagree, and the first.
func checkKeys(ctx context.Context, f *fetcher.Fetcher, l *ledger, bases []int64) (bad int, example string, err error) {
	const chunk = 200
	for from := 0; from < len(bases); from += chunk {
		to := min(from+chunk, len(bases))
		reqs := make([]fetcher.Request, 0, to-from)
		for k := from; k < to; k++ {
			reqs = append(reqs, fetcher.Request{Name: groupByName, Keys: map[string]any{"user": userName(k)}})
		}
		for i, r := range f.FetchGroupBy(ctx, reqs) {
			if r.Err != nil {
				return 0, "", fmt.Errorf("fetch %s: %w", userName(from+i), r.Err)
			}
			k := from + i
			want := map[string]int64{colCount: bases[k] + l.published[k], colCount1h: l.published[k], colSum1h: l.sum[k]}
			for _, col := range []string{colCount, colCount1h, colSum1h} {
				got, ok := asInt(r.Values[col])
				if ok && got == want[col] {
					continue
				}
				if bad++; bad == 1 {
					example = fmt.Sprintf("%s: %s = %v, want %d", userName(k), col, r.Values[col], want[col])
				}
				break
			}
		}
	}
	return bad, example, nil
}
