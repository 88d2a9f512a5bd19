// SPDX-License-Identifier: Apache-2.0

// Fetchbench is an open-loop HTTP load test of the feature server, `chronon
// serve`, on loopback: it fetches quickstart/training_set.v2 for random
// users at a constant rate and compares the latencies with GET /ping (the
// same server's HTTP stack with no work behind it) and with a bare KV read
// (a 1-key MultiGet on the SQLite KV store the server reads), all measured
// in the same run. The requirement: no errors, and a fetch p99 at most 1.5
// times the ping p99.
//
//	go run ./testing/bench/fetchbench --chronon bin/chronon [--quick] [--rate 2000] [--duration 30s]
//		[--warmup 3s] [--slice 1s] [--end-date YYYY-MM-DD] [--keep] [--dir DIR] [--url URL]
//		[--workers 8] [--max-workers 256] [--check-every 10] [--timeout 10s]
//
// # Setup
//
// In a temporary directory it does what examples/quickstart/quickstart.sh
// does, without the backfill: copies the quickstart's definitions, generates
// its data (go run ./examples/quickstart/generate, last day --end-date,
// yesterday by default, so that the windows are live), imports it, compiles,
// uploads the batch values of quickstart.purchases.v1 and
// quickstart.returns.v1 for the last day and the definitions
// (metadata-upload). It then starts `chronon serve --addr 127.0.0.1:PORT`
// in that directory (its output in serve.log there, without
// $CHRONON_AUTH_TOKEN: the requests carry no token) and waits for GET
// /healthz to answer 200. With --dir, it uses a directory already set up
// (--keep keeps the temporary one); with --dir and --url, a server already
// running.
//
// # Load
//
// Four targets are attacked, each at --rate requests per second for
// --duration in all, after a warm-up of each at the same rate for
// --warmup:
//
//  1. GET /ping.
//  2. POST /v1/features/join/quickstart%2Ftraining_set.v2 with body
//     [{"user_id":"ID"}], ID drawn uniformly from the users of
//     data/users.csv for each request.
//  3. The bare KV read: one MultiGet of the user's key in the
//     QUICKSTART_PURCHASES_V1_BATCH dataset, in this process. It goes
//     through the same generator as the HTTP attacks (vegeta's Attacker,
//     with an http.RoundTripper that reads the KV store instead of
//     sending), so the three share the generator's costs and only differ
//     by what answers.
//  4. POST /v1/features/join/quickstart%2Ftraining_set.v2_unlogged: v2
//     without fetch logging. The quickstart's v2 logs every fetch
//     (sample_percent: 100, the warehouse sink), so v2's p99 over
//     v2_unlogged's is what logging costs (issue 9: at most 1.10).
//
// They are not attacked at the same time but take turns of --slice (1s):
// ping for 1s, fetch for 1s, KV read for 1s, unlogged fetch for 1s, ping again, and so on, each
// turn a separate open-loop attack; a target's numbers are over all of its
// turns. Other load on the machine comes and goes; in turns, the three see
// the same share of it, which one long attack after the other (--slice 0)
// does not. A target keeps its keep-alive connections from turn to turn.
//
// The generator is vegeta's library (github.com/tsenart/vegeta/v12/lib)
// with an open-loop, constant-rate schedule: request k is due k/rate after
// the attack began, whether or not the requests before it were answered.
// Each request's latency counts from its due time to the end of its
// response body, not from the moment it was sent: when the server or the
// generator stalls, the requests due during the stall are sent late, and
// their latencies include the wait, as they would for real clients arriving
// at that rate (no coordinated omission). vegeta's own latencies, from the
// actual sends, are printed as well, with how late requests were sent (the
// send lag: the generator falling behind, or every worker busy). The
// schedule sleeps until a request is due with nanosleep (sleep_linux.go),
// not time.Sleep: an idle Go runtime wakes its timers to the millisecond,
// which would add up to 1ms of the generator's own lateness to every
// latency at 2000 requests per second.
//
// Workers: --workers start, more are started while all are busy, up to
// --max-workers; each uses one keep-alive connection at a time. The
// machine's cores are shared by the generator, the server and the KV
// store, so the defaults are small.
//
// # Errors
//
// A response is an error if it has no HTTP status or one other than 200;
// a fetch response also if it lacks the status "Success" or has a feature
// named *_exception (the fetcher's report of a GroupBy it could not fetch).
// Every fetch body is searched for both (a byte search), and every
// --check-every-th is parsed as JSON and checked fully (one result, status
// Success, no *_exception feature), so that parsing does not take the CPU
// the server needs.
//
// # Output
//
// For each target: requests, errors, latency p50, p99, p999 and max from
// the due times, successful responses per second and the send lag p99; the
// kinds of error seen; then the ratio fetch p99 / ping p99 with whether the
// requirement (<= 1.5) is met, the error count with whether it is zero, and
// the fetch and ping p99 over the bare KV read's. It exits non-zero only
// when the setup fails (the binary, the quickstart, the server not getting
// healthy), not when a target is missed.
//
// fetchbench_test.go runs --quick end to end when CHRONON_BENCH_BIN names a
// chronon binary and -short is not set; the other tests run the attacks
// and the accounting against in-process servers.
package main
