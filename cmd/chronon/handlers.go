// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/chronon-go/chronon/core/config"
	"github.com/chronon-go/chronon/plugins/builtin"
	"github.com/chronon-go/chronon/plugins/external"
	"github.com/chronon-go/chronon/plugins/external/extplugin"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/bigtable"
	"github.com/chronon-go/chronon/plugins/kv/kvplugin"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
	"github.com/chronon-go/chronon/plugins/pluginhost"
)

// openKV opens the KV store chronon.yaml names: a built-in in process, a
// built-in as a plugin process (kv.process), or a user's plugin binary.
func (a *app) openKV(ctx context.Context) (kv.Store, error) {
	c := a.cfg.KV
	if c.Plugin != "" {
		s, err := kvplugin.Open(ctx, pluginhost.Options{Path: c.Plugin, Config: c.Config, Logger: a.log, Name: filepath.Base(c.Plugin)})
		if err != nil {
			return nil, fmt.Errorf("open kv plugin %s: %w", c.Plugin, err)
		}
		return s, nil
	}
	if c.Process {
		return a.openBuiltinKV(ctx, c)
	}
	switch c.Store {
	case "", builtin.SQLite:
		s, err := sqlite.Open(c.Path, nil)
		if err != nil {
			return nil, fmt.Errorf("open kv store: %w", err)
		}
		return s, nil
	case builtin.Bigtable:
		s, err := bigtable.Open(ctx, bigtable.Options{Project: c.Project, Instance: c.Instance, Emulator: c.Emulator})
		if err != nil {
			return nil, fmt.Errorf("open kv store: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("kv.store %q: not supported (supported: sqlite, bigtable, plugin)", c.Store)
}

// openBuiltinKV runs a built-in store as a plugin process of this binary.
func (a *app) openBuiltinKV(ctx context.Context, c config.KV) (kv.Store, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("kv.process: find this binary: %w", err)
	}
	cfg := map[string]any{}
	switch c.Store {
	case builtin.SQLite:
		cfg["path"] = c.Path
	case builtin.Bigtable:
		for k, v := range map[string]string{"project": c.Project, "instance": c.Instance, "emulator": c.Emulator} {
			if v != "" {
				cfg[k] = v
			}
		}
	default:
		return nil, fmt.Errorf("kv.process: store %q is not a built-in (sqlite, bigtable)", c.Store)
	}
	s, err := kvplugin.Open(ctx, pluginhost.Options{Path: exe, Args: []string{"plugin", "serve", c.Store}, Config: cfg, Logger: a.log, Name: c.Store})
	if err != nil {
		return nil, fmt.Errorf("open kv store %s as a plugin process: %w", c.Store, err)
	}
	return s, nil
}

// openHandlers starts the external-source handlers chronon.yaml names,
// each a plugin process. The contextual source needs none.
func (a *app) openHandlers(ctx context.Context) (map[string]external.Handler, error) {
	out := map[string]external.Handler{}
	for name, p := range a.cfg.ExternalSources {
		h, err := extplugin.Open(ctx, pluginhost.Options{Path: p.Plugin, Config: p.Config, Logger: a.log, Name: name})
		if err != nil {
			for _, opened := range out {
				opened.Close()
			}
			return nil, fmt.Errorf("external_sources.%s: %w", name, err)
		}
		out[name] = h
	}
	return out, nil
}
