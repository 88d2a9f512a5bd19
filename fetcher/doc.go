// SPDX-License-Identifier: Apache-2.0

// Package fetcher serves features online: it reads uploaded batch IRs and
// streaming updates from the KV store, merges them with core/agg at request
// time, runs derivations and external parts, and logs what it served. It
// never imports transforms or runners, so no Beam code is in the server.
package fetcher
