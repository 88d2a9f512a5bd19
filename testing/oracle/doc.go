// SPDX-License-Identifier: Apache-2.0

// Package oracle is a deliberately simple, row-by-row reference of Chronon's
// aggregation and window semantics (docs/aggregations.md), written apart from
// core/agg so that the engine, the window evaluators, the streaming job and
// the fetcher can be checked against it on random data.
//
// For each query the oracle filters the events that count (Counts), in
// arrival order, and computes the answer directly: sorting, counting, and
// summing with math/big. There are no tiles, sweeps or incremental state.
//
//   - Value computes the exact answer of one output column at one query time.
//   - Check compares an engine's answer with it, with the float tolerance of
//     the contract and configurable tolerances for the sketch operations.
//   - RandomEvents and RandomQueryTimes generate edge-heavy test data.
//   - GroupByBackfill and JoinBackfill give the expected rows of a GroupBy's
//     or a Join's backfill over small in-memory tables, one cell at a time
//     (aggregated cells are judged by Check), and CheckRow compares an
//     engine's output row with one. They re-derive partition choice,
//     accuracy, key matching and entity mutations from Chronon's rules,
//     scanning every row for every query (O(rows x queries)); only
//     expressions are evaluated with core/expr.
//
// # Conventions where the contract leaves room
//
// Floats are ordered as Java's Double.compare orders them (-0.0 < 0.0, NaN
// above +Inf): MAX over an input holding NaN is NaN, hence null; TOP_K lists
// NaN first. UNIQUE_COUNT follows Java's equals: all NaNs are one value, and
// -0.0 and 0.0 are two. SUM, AVERAGE, VARIANCE, SKEW and KURTOSIS are null
// when any counted input is NaN or infinite. APPROX_PERCENTILE skips NaN
// inputs (as KLL does). A NaN or infinite float computed for a bucket, a map
// key or a list index is null there, and the key or index stays; NaN values
// carried inside the lists of the _K operations are kept.
//
// A bucket, map key or list index is present iff it has at least one leaf
// input (a non-null value, or a non-null element in vector mode); a result
// with no leaf input at all is null (an elementWise aggregation over only
// empty lists included). elementWise applies per index to every operation,
// FIRST and LAST included.
//
// Exact percentile: for p and n sorted non-NaN inputs v, the value
// float32(v[i]) with i = round-half-down(p*(n-1)) = ceil(p*(n-1) - 0.5).
// APPROX_HISTOGRAM_K keys are HistogramKey's text (strconv 'g', -1); ties in
// the top k go to the smaller key in byte order of that text.
package oracle
