// SPDX-License-Identifier: Apache-2.0

//go:build !race

package kvtest

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
