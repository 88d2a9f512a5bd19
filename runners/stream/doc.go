// SPDX-License-Identifier: Apache-2.0

// Package stream is the streaming side of a GroupBy: it folds decoded
// source events into the five-minute tiles the fetcher merges after the
// batch end (core/online StreamTile, in the GroupBy's _STREAMING dataset).
// Tiles remember the ids of the messages folded in, so redelivered
// messages (Pub/Sub delivers at least once) count once, across restarts.
package stream
