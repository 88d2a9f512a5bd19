// SPDX-License-Identifier: Apache-2.0

// Streambench measures the freshness of streamed features: the time from
// publishing an event to Pub/Sub until a fetch of its key counts it, at
// 5000 events per second, through the streaming job (runners/stream, what
// `chronon stream` runs) and the fetcher (what `chronon serve` runs). The
// requirement: a freshness p99 of at most 1s. As a baseline in the same run
// it measures Pub/Sub's own delivery latency at the same rate (publish to a
// plain subscriber's callback), so the ratio shows what folding the events
// into tiles, writing them to the KV store and fetching add.
//
//	go run ./testing/bench/streambench [--quick] [--rate 5000] [--duration 20s] [--keys 1000]
//		[--warmup 2s] [--tile-fill 0.5] [--probe-rate 200] [--poll 5ms] [--pull-streams 100]
//		[--baseline=true] [--max-batch N] [--flush-every D] [--drain-timeout 30s] [--seed 1]
//		[--dir DIR] [--cpuprofile FILE]
//
// --quick is a smoke run: --rate 500 --duration 3s --warmup 500ms --keys
// 200, unless given.
//
// # Setup, in one process
//
// Everything runs in this process, each part with its own connections, as
// separate processes would have them: the Pub/Sub emulator of `chronon dev
// pubsub` (pubsubdev.Serve, Google's pstest) on a free loopback port; one
// Pub/Sub client each for the publishing application, the streaming job and
// the baseline subscriber; a SQLite KV store in a temporary directory (or
// --dir), opened once by the job, which writes tiles, and once by the
// fetcher, which reads them, as `chronon stream` and `chronon serve` would
// open the same file. The GroupBy streambench.clicks is TEMPORAL, keyed by
// user, over a source whose topic is events.streambench/fields=ts,user,x:
// COUNT(x) and SUM(x) over 1 hour and the unbounded COUNT(x). Its serving
// info and batch values for yesterday (UTC) are uploaded first, as `chronon
// upload` stores them: 1 to 10 events per key in the three days before the
// batch end, none in its last two hours (so that the 1-hour windows of the
// final check hold streamed events only). Then the current tiles are
// prefilled (below), stream.Run starts in a goroutine and creates its
// subscription, and a fetcher.Fetcher reads the store.
//
// The job is stream.Run with the options `chronon stream --pull-streams
// 100` passes it, and the fetcher is the one `chronon serve` wraps. Running
// the binaries instead would add a warehouse for the source table's
// schema, a chronon.yaml and HTTP, and would hide the job's OnBatch
// callback, which the prober and the fold rate use. The pull streams:
// pstest hands each streaming pull one message at a time, in rounds every
// 10ms, and ends a round at the first message no pull is ready for, so it
// delivers about 100 messages per second per pull whatever the rate
// published (real Pub/Sub delivers batches per pull). `chronon stream`
// opens 4 by default; --pull-streams (100) sets both the job's and the
// baseline subscriber's, with which pstest delivers 5000 messages per
// second with a p99 of some 40ms. The job's MaxBatch and FlushEvery are
// its defaults (500 messages, 20ms) unless --max-batch or --flush-every
// are given.
//
// # Prefilled tiles
//
// A streaming span keeps the message id of every event folded into it and
// one fine sub-tile per event time, in chunks of 64 events, next to its
// summary (core/online StreamTile): a write costs in proportion to the new
// events, but a restarted job reads the chunks back, and a fetch whose
// window edge cuts a span reads that span's chunks. Fresh tiles would
// flatter the job, which then never has a full chunk: at
// 5000 events per second over 1000 keys, a key's 5-minute tile ends up
// with 1500 events. So before the job starts, each key's current tile (the
// tile of now) gets --tile-fill (0.5) of the events it receives in five
// minutes at --rate, folded through the job's own Processor
// (stream.Processor) with timestamps in the part of the tile before now and
// message ids of their own: 750 per key by default, the average fill over
// a tile's span, as if the job had been running at --rate since the tile
// began. The tiles of earlier in the day, which a fetch also reads and
// decodes until the next batch upload, are not modeled; --tile-fill 0
// measures fresh tiles. When the measured events cross a tile boundary,
// or the prefilled tile ended before they began, the output says so: the
// events after it went to new, empty tiles (and fetches still decode the
// prefilled ones).
//
// # Load
//
// The publisher is open loop: event k (from 0) is due k/rate after
// publishing began, whatever happened to the events before it, and is
// published at its due time or as soon as possible after it (the publish
// call lag, printed, shows how far behind the publisher fell). Each event
// is a CSV message "ts,user,x" published with the client library's default
// batching, as `chronon publish` does: ts is the publish call's time, user
// one of --keys users picked uniformly at random, x a random integer below
// 100, and the attribute seq is k. The first --warmup of events are the
// warm-up: published, folded, not measured.
//
// # Freshness, measured by probes
//
// Every (rate/--probe-rate)-th measured event is a probe. While a probe is
// in flight its key is reserved: the publisher publishes no other event of
// that key until the probe is seen (it picks another key at random). So if
// the probe's event is the n-th of its key (prefill included), with b batch
// events, a fetch of that key counts b+n events (the unbounded COUNT)
// exactly when every event of the key published up to the probe is folded,
// the probe included, and never more. The prober fetches the keys of the
// probes in flight in rounds --poll (5ms) apart, each round one
// FetchGroupBy call as of now. A probe is fetched at once, then again only
// once the job has written a batch since its last fetch began (the job
// calls OnBatch after each write, and what a fetch sees changes only when
// the job writes), and not more often than every 1/20 of its age; and the
// prober fetches at most 4 keys a second per probe a second (800/s; the
// longest unfetched first), so that a backlog of seconds does not turn the
// prober into the load that makes it worse. Without a backlog a probe
// takes 2 or 3 fetches and the budget is not reached. The freshness of a probe is the time from its publish call to
// the end of the first fetch that counts it: it includes the publisher's
// batching, Pub/Sub's delivery, the job's batching (FlushEvery), the fold,
// the KV write and the fetch, and is over by at most the pause and a round
// (or 5% of itself, when that is longer, or more when the budget holds
// fetches back: the output counts those rounds). The prober's fetches are the
// only fetch load, and they compete with the job for the same cores, as a
// server on the same laptop would. A fetch that counts more than b+n is an
// overcount (a bug; printed). At most half of the keys have a probe in
// flight: a probe due beyond that is skipped and counted, and the verdict
// says that the numbers understate the backlog. After the last publish,
// probes not seen within --drain-timeout are counted as unseen, with the
// time waited.
//
// # Baseline
//
// After the streaming phase, the same schedule (warm-up included) is
// published to a topic of its own, events.streambench-baseline, read by a
// plain subscriber with the job subscriber's settings (pull streams,
// outstanding messages, ack deadline), whose callback notes the time and
// acknowledges each message; the job idles. Its latency is from each
// measured event's publish call to the first delivery to the callback. The
// two phases take turns rather than run at once: at once, pstest and the
// client would deliver twice the rate on the same cores, and the freshness
// measured would not be that of 5000 events per second. The load average
// and the CPUs this process used are printed for each phase, as other load
// on the machine comes and goes.
//
// # Output
//
// The setup and the prefill; for each phase the load average, the CPUs
// this process used, the rate achieved and the publish call lag; the
// events the job folded per second while the measured events were
// published (from its OnBatch callback), its batches, and how long after
// the last publish the last event was folded; freshness and baseline
// delivery p50, p90, p99 and max; the prober's rounds; the probes handed
// over, skipped and unseen; a final check that every key's fetch equals
// its batch plus what was published (x_count, x_count_1h, x_sum_1h); then
// the freshness p99 with whether the requirement (<= 1s) is met, and the
// ratio of the freshness p99 (and p50) to the delivery's. It exits
// non-zero only when the setup fails, not when the requirement is missed.
//
// streambench_test.go runs --quick end to end when CHRONON_STREAMBENCH=1
// and -short is not set; its other tests check the schedule, the
// percentiles, the probes' accounting, the prefill and the prober against
// a KV store folded by the job's Processor.
package main
