// SPDX-License-Identifier: Apache-2.0

// Package kv defines the online key/value store contract (Store) shared by
// batch uploads, streaming jobs, the metadata upload and the fetcher.
// Implementations live in sub-packages: sqlite (the embedded default) and
// bigtable (production); kvtest holds the conformance tests every store
// passes.
package kv
