// SPDX-License-Identifier: Apache-2.0

// Package logsink holds the fetcher's log sinks (fetcher.LogSink): the
// warehouse table chronon_log_table, which log flattening reads, and a
// Pub/Sub topic. Both take the batches the fetcher's log writer hands them;
// neither buffers, so a batch written is a batch stored.
package logsink
