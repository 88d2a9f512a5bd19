// SPDX-License-Identifier: Apache-2.0

// Package backfill launches GroupBy and Join backfills: it plans the
// partitions to compute (runners/plan), checks the definition against the
// tables, builds the Beam pipeline (transforms.Backfill), runs it on the
// chosen runner (runners/beamrun) and commits the partitions the workers
// wrote to the output table in one warehouse transaction, so a crash at
// any point leaves either the old table or the new partitions, never a
// part of them.
package backfill
