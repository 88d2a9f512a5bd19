// SPDX-License-Identifier: Apache-2.0

// Package logingest lands the fetch logs that chronon serve publishes to
// Pub/Sub (logging.sink: pubsub, one JSON fetchlog.Message per record) in
// the warehouse's log table, <logging.namespace>.chronon_log_table, where
// chronon log-flatten reads them: chronon log-ingest.
//
// It reads the subscription chronon-log-ingest (created when missing), and
// appends each batch of messages in one transaction, one part file per ds
// partition, in the format of the fetcher's warehouse sink (both write
// through plugins/warehouse/logtable). A message is acknowledged only once
// the transaction committed; a failed write nacks the batch, so Pub/Sub
// delivers it again. A message that does not decode goes to
// <topic>-dead-letter with the attribute "reason" and is acknowledged.
//
// # Redelivery
//
// Pub/Sub delivers at least once: a message whose ack was lost, that a
// stopped job held, or that a seek replays comes again with the same
// message id. Flattening keeps identical records (two fetches of the same
// key at the same millisecond with the same answer are two rows, as in
// Chronon), so ingestion is what is idempotent: every commit also writes,
// in the same transaction, the table property log_ingest_ids_<topic>
// holding a 64-bit hash of the ids of the last Options.DedupWindow
// messages written (oldest dropped first), and a message whose id is
// there is acknowledged without being written again. The property is
// read before each write, so jobs that share the subscription (or read
// the topic through another one) skip each other's messages too, except
// when two of them write the same message at the same moment. A message
// published twice by a publisher's retry has two ids and is written twice;
// that is a duplicate at the source, which no consumer can tell from two
// fetches.
package logingest
