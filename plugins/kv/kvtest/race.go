// SPDX-License-Identifier: Apache-2.0

//go:build race

package kvtest

// raceEnabled reports whether the race detector is on; the bulk-load test
// then loads a tenth of its entries (the detector's checks slow stores
// such as SQLite's transpiled C some fifteen times).
const raceEnabled = true
