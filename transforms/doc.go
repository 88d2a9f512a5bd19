// SPDX-License-Identifier: Apache-2.0

// Package transforms holds the Apache Beam transforms of the offline engine:
// reading sources as Arrow batches, GroupBy and Join backfills by sorted sweep,
// bootstrap, derivations, label joins, upload, log flattening and consistency.
//
// Elements are batches, not rows (DESIGN.md section 5). DoFns are registered
// so every pipeline runs on the direct and prism runners, Dataflow and Flink.
package transforms
