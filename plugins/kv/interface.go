// SPDX-License-Identifier: Apache-2.0

package kv

import (
	"context"
	"errors"
)

// Entry is one timestamped value of a key in a dataset. A key may hold
// several values, one per timestamp: a GroupBy's batch upload for each day
// (its batch end), or the streaming updates of a key.
type Entry struct {
	Key   []byte
	Value []byte
	// TsMillis is the value's timestamp in epoch milliseconds. Writing a
	// key again at the same timestamp replaces that value (idempotent
	// retries and re-uploads).
	TsMillis int64
}

// GetRequest asks for one key's values in a dataset.
type GetRequest struct {
	Dataset string
	Key     []byte
	// AfterMillis > 0 asks for every value with TsMillis >= AfterMillis
	// (streaming data after a batch end), oldest first. 0 (or less) asks
	// for the latest value only (a batch value, metadata).
	AfterMillis int64
}

// GetResult answers one GetRequest: the values found (none when the key is
// absent: that is not an error), oldest first, or the error of this request
// alone.
type GetResult struct {
	Values []Entry
	Err    error
}

// ErrNoDataset is returned (wrapped) for a dataset that was never created.
// Use errors.Is.
var ErrNoDataset = errors.New("kv: dataset does not exist")

// Store is a timestamped key/value store of named datasets: the online
// store batch uploads, streaming jobs and the metadata upload write, and the
// fetcher reads. Implementations must be safe for concurrent use, by
// several goroutines and, for stores on shared storage, several processes
// (the server reads while an upload writes).
//
// Stores keep no reference to the caller's slices, and callers may modify
// what they get back. Empty request or entry lists succeed. Within one
// write call, the last of several entries with the same key and timestamp
// wins. A dataset name must not be empty. Calls after Close fail.
type Store interface {
	// CreateDataset creates a dataset; creating an existing one does
	// nothing.
	CreateDataset(ctx context.Context, dataset string) error
	// MultiGet answers every request, in order. A request that fails has
	// its own GetResult.Err; the returned error is for a failure of the
	// whole call (the store is unreachable).
	MultiGet(ctx context.Context, reqs []GetRequest) ([]GetResult, error)
	// MultiPut writes entries to a dataset; every entry is written or the
	// call fails. A failed call may have written some entries (stores
	// without multi-row transactions); retrying it is safe. A failed write
	// does not create the dataset.
	MultiPut(ctx context.Context, dataset string, entries []Entry) error
	// BulkLoad writes many entries to a dataset, faster than MultiPut
	// where the store allows (one transaction, batched mutations). An
	// upload calls it repeatedly with chunks of a day's values.
	BulkLoad(ctx context.Context, dataset string, entries []Entry) error
	// Expire deletes the values of a dataset with TsMillis < beforeMillis;
	// with keepLatest, a key's latest value is kept however old (batch
	// datasets: the last upload stays served). It returns how many values
	// were deleted.
	Expire(ctx context.Context, dataset string, beforeMillis int64, keepLatest bool) (int64, error)
	// Close releases the store's resources.
	Close() error
}
