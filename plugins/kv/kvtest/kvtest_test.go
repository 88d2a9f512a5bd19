// SPDX-License-Identifier: Apache-2.0

package kvtest_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/kvtest"
)

// memStore is a minimal, obviously correct kv.Store: the suite's own
// reference, so a failure of Run against a real store is the store's.
type memStore struct {
	mu   sync.RWMutex
	data map[string]map[string]map[int64][]byte // dataset -> key -> ts -> value
}

var _ kv.Store = (*memStore)(nil)

func (m *memStore) CreateDataset(ctx context.Context, dataset string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.data[dataset] == nil {
		m.data[dataset] = map[string]map[int64][]byte{}
	}
	return nil
}

func (m *memStore) MultiGet(ctx context.Context, reqs []kv.GetRequest) ([]kv.GetResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]kv.GetResult, len(reqs))
	for i, r := range reqs {
		ds, ok := m.data[r.Dataset]
		if !ok {
			out[i].Err = fmt.Errorf("mem: get %s: %w", r.Dataset, kv.ErrNoDataset)
			continue
		}
		vals := ds[string(r.Key)]
		tss := slices.Sorted(func(yield func(int64) bool) {
			for ts := range vals {
				if !yield(ts) {
					return
				}
			}
		})
		if r.AfterMillis <= 0 && len(tss) > 0 {
			tss = tss[len(tss)-1:]
		}
		for _, ts := range tss {
			if r.AfterMillis <= 0 || ts >= r.AfterMillis {
				out[i].Values = append(out[i].Values, kv.Entry{Key: slices.Clone(r.Key), Value: slices.Clone(vals[ts]), TsMillis: ts})
			}
		}
	}
	return out, nil
}

func (m *memStore) MultiPut(ctx context.Context, dataset string, entries []kv.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ds, ok := m.data[dataset]
	if !ok {
		return fmt.Errorf("mem: put %s: %w", dataset, kv.ErrNoDataset)
	}
	for _, e := range entries {
		if ds[string(e.Key)] == nil {
			ds[string(e.Key)] = map[int64][]byte{}
		}
		ds[string(e.Key)][e.TsMillis] = slices.Clone(e.Value)
	}
	return nil
}

func (m *memStore) BulkLoad(ctx context.Context, dataset string, entries []kv.Entry) error {
	return m.MultiPut(ctx, dataset, entries)
}

func (m *memStore) Expire(ctx context.Context, dataset string, beforeMillis int64, keepLatest bool) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ds, ok := m.data[dataset]
	if !ok {
		return 0, fmt.Errorf("mem: expire %s: %w", dataset, kv.ErrNoDataset)
	}
	var n int64
	for _, vals := range ds {
		var latest int64
		first := true
		for ts := range vals {
			if first || ts > latest {
				latest, first = ts, false
			}
		}
		for ts := range vals {
			if ts < beforeMillis && !(keepLatest && ts == latest) {
				delete(vals, ts)
				n++
			}
		}
	}
	return n, nil
}

func (m *memStore) Close() error { return nil }

func TestRunMemStore(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store {
		return &memStore{data: map[string]map[string]map[int64][]byte{}}
	})
}
