// SPDX-License-Identifier: Apache-2.0

// Package logsink holds the fetcher's log sinks (fetcher.LogSink): the
// warehouse table chronon_log_table, which log flattening reads, and a
// Pub/Sub topic, which chronon log-ingest (runners/logingest) lands in that
// table. Both take the batches the fetcher's log writer hands them;
// neither buffers, so a batch written is a batch stored.
package logsink
