// SPDX-License-Identifier: Apache-2.0

// Package agg holds every aggregation operation of Chronon (SUM to
// APPROX_HISTOGRAM_K): intermediate results (IRs) with update, merge, delete
// and finalize, their versioned binary encoding, buckets and list/map inputs,
// and the window evaluators shared by the offline sweep, the streaming job and
// the fetcher, so a backfilled value and a served value agree by construction.
//
// It performs no I/O and imports no Beam, Echo or plugin code.
package agg
