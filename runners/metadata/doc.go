// SPDX-License-Identifier: Apache-2.0

// Package metadata uploads definitions (joins and group-bys, as compiled
// Chronon JSON) to the KV store's metadata dataset, so a fetcher serves them
// without the repository's files.
package metadata
