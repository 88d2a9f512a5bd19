// SPDX-License-Identifier: Apache-2.0

// Package e2e runs the chronon binary the way users do, in temporary
// directories, for behaviour that only shows across processes: crashes,
// restarts and the quickstart.
package e2e
