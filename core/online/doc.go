// SPDX-License-Identifier: Apache-2.0

// Package online holds the codecs the online path shares with offline jobs:
// the bytes of a GroupBy key in the KV store, the coercion of request key
// values to key column types, and the encoding of finalized value rows
// (SNAPSHOT uploads, GroupBys without aggregations). Batch IRs and streaming
// tiles are core/agg's. Offline jobs import this package, never fetcher/.
package online
