// SPDX-License-Identifier: Apache-2.0

//go:build race

package parquet

// raceEnabled reports whether the race detector is on: it makes the large
// test slow and its memory measurements meaningless.
const raceEnabled = true
