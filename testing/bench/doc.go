// SPDX-License-Identifier: Apache-2.0

// Package bench holds the benchmark harnesses behind `make bench`. Each
// harness is a main package that measures chronon-go and a baseline on the
// same input in the same run and prints their ratio, so the numbers mean
// something on a noisy machine.
package bench
