// SPDX-License-Identifier: Apache-2.0

// Package pubsubbatch is the receive loop the long-running Pub/Sub jobs
// share (chronon stream, chronon log-ingest): it creates their
// subscription with the settings they rely on, pulls messages with a
// bounded number outstanding, hands them to a handler in batches (by size
// or age), and acknowledges or nacks each message as the handler decides,
// only after the handler returned. A nacked message is delivered again.
package pubsubbatch
