// SPDX-License-Identifier: Apache-2.0

// Package runners plans and launches offline jobs: which partitions are
// missing or stale (semantic hash), which inputs they need, which Beam runner
// executes them, and the atomic commit of their outputs.
//
// Subpackages hold the launcher-side jobs that are not Beam pipelines:
// importer (loading files into the warehouse) and warehousesql (DuckDB over
// the warehouse).
package runners
