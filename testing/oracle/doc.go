// SPDX-License-Identifier: Apache-2.0

// Package oracle is a deliberately simple, row-by-row reference of Chronon's
// aggregation, window and join semantics (no tiles, no sweeps), written apart
// from core/agg so the engine, the streaming job and the fetcher can be checked
// against it on random data.
package oracle
