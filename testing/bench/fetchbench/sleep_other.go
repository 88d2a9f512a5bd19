// SPDX-License-Identifier: Apache-2.0

//go:build !linux

package main

import "time"

// sleep is time.Sleep: see sleep_linux.go.
func sleep(d time.Duration) { time.Sleep(d) }
