// SPDX-License-Identifier: Apache-2.0

package fetcher

import (
	"container/list"
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// ttlCache caches loaded values for a while; concurrent misses of one key
// share one load (a join's definition is read once however many requests
// arrive together). Errors are not cached.
type ttlCache[V any] struct {
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	items map[string]ttlItem[V]
	group singleflight.Group
}

type ttlItem[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[V any](ttl time.Duration, now func() time.Time) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, now: now, items: map[string]ttlItem[V]{}}
}

// get returns key's cached value, or loads it.
func (c *ttlCache[V]) get(ctx context.Context, key string, load func(context.Context) (V, error)) (V, error) {
	c.mu.Lock()
	it, ok := c.items[key]
	c.mu.Unlock()
	if ok && c.now().Before(it.expires) {
		return it.v, nil
	}
	v, err, _ := c.group.Do(key, func() (any, error) {
		v, err := load(ctx)
		if err != nil {
			return v, err
		}
		c.mu.Lock()
		c.items[key] = ttlItem[V]{v: v, expires: c.now().Add(c.ttl)}
		c.mu.Unlock()
		return v, nil
	})
	if err != nil {
		var zero V
		return zero, err
	}
	return v.(V), nil
}

// lru is a bounded least-recently-used cache of decoded batch values.
type lru struct {
	max   int
	mu    sync.Mutex
	ll    *list.List
	items map[string]*list.Element
}

type lruEntry struct {
	key string
	val *batchEntry
}

func newLRU(max int) *lru {
	return &lru{max: max, ll: list.New(), items: map[string]*list.Element{}}
}

func (c *lru) get(key string) (*batchEntry, bool) {
	if c.max <= 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.ll.MoveToFront(el)
	return el.Value.(*lruEntry).val, true
}

func (c *lru) put(key string, v *batchEntry) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		el.Value.(*lruEntry).val = v
		c.ll.MoveToFront(el)
		return
	}
	c.items[key] = c.ll.PushFront(&lruEntry{key: key, val: v})
	if c.ll.Len() > c.max {
		last := c.ll.Back()
		c.ll.Remove(last)
		delete(c.items, last.Value.(*lruEntry).key)
	}
}
