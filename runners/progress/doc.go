// SPDX-License-Identifier: Apache-2.0

// Package progress shows long jobs' progress (imports, backfills): a bar on
// a terminal, structured log lines otherwise.
package progress
