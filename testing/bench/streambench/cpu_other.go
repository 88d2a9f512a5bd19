// SPDX-License-Identifier: Apache-2.0

//go:build !unix

package main

import "time"

// cpuTime is 0: this platform's CPU time is not read.
func cpuTime() time.Duration { return 0 }
