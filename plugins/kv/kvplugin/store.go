// SPDX-License-Identifier: Apache-2.0

package kvplugin

import (
	"context"

	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/pluginhost"
)

// store is the kv.Store Open returns: each call goes to the plugin's
// current process.
type store struct {
	h *pluginhost.Host[kv.Store]
}

var (
	_ kv.Store           = (*store)(nil)
	_ pluginhost.Process = (*store)(nil)
)

// PID implements pluginhost.Process.
func (s *store) PID() int { return s.h.PID() }

// PluginName implements pluginhost.Process.
func (s *store) PluginName() string { return s.h.PluginName() }

func (s *store) CreateDataset(ctx context.Context, dataset string) error {
	c, err := s.h.Get(ctx)
	if err != nil {
		return s.wrap("CreateDataset", err)
	}
	return s.wrap("CreateDataset", c.CreateDataset(ctx, dataset))
}

func (s *store) MultiGet(ctx context.Context, reqs []kv.GetRequest) ([]kv.GetResult, error) {
	c, err := s.h.Get(ctx)
	if err != nil {
		return nil, s.wrap("MultiGet", err)
	}
	res, err := c.MultiGet(ctx, reqs)
	return res, s.wrap("MultiGet", err)
}

func (s *store) MultiPut(ctx context.Context, dataset string, entries []kv.Entry) error {
	c, err := s.h.Get(ctx)
	if err != nil {
		return s.wrap("MultiPut", err)
	}
	return s.wrap("MultiPut", c.MultiPut(ctx, dataset, entries))
}

func (s *store) BulkLoad(ctx context.Context, dataset string, entries []kv.Entry) error {
	c, err := s.h.Get(ctx)
	if err != nil {
		return s.wrap("BulkLoad", err)
	}
	return s.wrap("BulkLoad", c.BulkLoad(ctx, dataset, entries))
}

func (s *store) Expire(ctx context.Context, dataset string, beforeMillis int64, keepLatest bool) (int64, error) {
	c, err := s.h.Get(ctx)
	if err != nil {
		return 0, s.wrap("Expire", err)
	}
	n, err := c.Expire(ctx, dataset, beforeMillis, keepLatest)
	return n, s.wrap("Expire", err)
}

// Close closes the plugin's store, if the plugin is up, and stops the
// process.
func (s *store) Close() error { return s.h.Shutdown(kv.Store.Close) }

// wrap adds the operation and, unless the host's error already says it,
// the plugin's name.
func (s *store) wrap(op string, err error) error { return s.h.Wrap(op, err) }
