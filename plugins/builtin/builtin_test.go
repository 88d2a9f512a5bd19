// SPDX-License-Identifier: Apache-2.0

package builtin_test

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloud.google.com/go/bigtable/bttest"

	"github.com/chronon-go/chronon/plugins/builtin"
	"github.com/chronon-go/chronon/plugins/external"
	"github.com/chronon-go/chronon/plugins/external/extplugin"
	"github.com/chronon-go/chronon/plugins/internal/pluginwire"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/bigtable"
	"github.com/chronon-go/chronon/plugins/kv/kvplugin"
	"github.com/chronon-go/chronon/plugins/pluginhost"
)

// serveEnv makes the test binary "chronon plugin serve <name>".
const serveEnv = "BUILTIN_TEST_SERVE"

func TestMain(m *testing.M) {
	builtin.ServeFromEnv(serveEnv)
	os.Exit(m.Run())
}

func options(name string, cfg map[string]any) pluginhost.Options {
	return pluginhost.Options{
		Path:   os.Args[0],
		Env:    []string{serveEnv + "=" + name, bigtable.EmulatorEnv + "="},
		Config: cfg,
		Logger: slog.New(slog.DiscardHandler),
		Name:   name,
	}
}

// roundTrip writes and reads a value through st.
func roundTrip(t *testing.T, st kv.Store) {
	t.Helper()
	ctx := t.Context()
	if err := st.CreateDataset(ctx, "DS"); err != nil {
		t.Fatal(err)
	}
	if err := st.BulkLoad(ctx, "DS", []kv.Entry{{Key: []byte("k"), Value: []byte("v1"), TsMillis: 1000}}); err != nil {
		t.Fatal(err)
	}
	res, err := st.MultiGet(ctx, []kv.GetRequest{{Dataset: "DS", Key: []byte("k")}, {Dataset: "NONE", Key: []byte("k")}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || len(res[0].Values) != 1 || string(res[0].Values[0].Value) != "v1" {
		t.Errorf("MultiGet: %+v", res[0])
	}
	if !errors.Is(res[1].Err, kv.ErrNoDataset) {
		t.Errorf("MultiGet of a missing dataset: %v", res[1].Err)
	}
}

func TestKVBuiltins(t *testing.T) {
	srv, err := bttest.NewServer("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	tests := []struct {
		name string
		cfg  map[string]any
	}{
		{builtin.SQLite, map[string]any{"path": filepath.Join(t.TempDir(), "kv.db")}},
		{builtin.Bigtable, map[string]any{"emulator": srv.Addr, "table": "plugin_test"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := kvplugin.Open(t.Context(), options(tc.name, tc.cfg))
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, st)
			if err := st.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
}

func TestContextual(t *testing.T) {
	h, err := extplugin.Open(t.Context(), options(builtin.Contextual, nil))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	res, err := h.Fetch(t.Context(), []external.Request{{Keys: map[string]any{"n": int64(2), "x": 2.0}}})
	if err != nil || res[0].Err != nil || res[0].Values["n"] != int64(2) || res[0].Values["x"] != 2.0 {
		t.Errorf("Fetch: %+v, %v", res, err)
	}
}

// TestBadConfig: a built-in that cannot serve its config makes the start
// fail with its reason.
func TestBadConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		label, name string
		cfg         map[string]any
		want        string
	}{
		{"no path", builtin.SQLite, nil, "path is required"},
		{"misspelt key", builtin.SQLite, map[string]any{"pth": "x.db"}, `unknown field "pth"`},
		{"path under a file", builtin.SQLite, map[string]any{"path": filepath.Join(file, "kv.db")}, "builtin sqlite"},
		{"no instance", builtin.Bigtable, map[string]any{}, "Project is required"},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			st, err := kvplugin.Open(t.Context(), options(tc.name, tc.cfg))
			if err == nil {
				st.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "exited before the handshake") {
				t.Errorf("Open: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// TestServeErrors: Serve refuses unknown names and a process that no host
// started, before it opens anything.
func TestServeErrors(t *testing.T) {
	t.Setenv(pluginwire.ConfigEnv, `{"path": "`+filepath.Join(t.TempDir(), "must-not-exist.db")+`"}`)
	tests := []struct {
		name, cookie, want string
	}{
		{"nope", "kv", "unknown plugin \"nope\" (supported: bigtable, contextual, sqlite)"},
		{builtin.SQLite, "", "not meant to be run by hand"},
		{builtin.Contextual, "kv", "started it as a kv plugin"},
	}
	for _, tc := range tests {
		t.Setenv(pluginwire.MagicCookieKey, tc.cookie)
		if err := builtin.Serve(tc.name); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Serve(%q) with %s=%q: %v, want %q", tc.name, pluginwire.MagicCookieKey, tc.cookie, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(t.TempDir(), "must-not-exist.db")); err == nil {
		t.Error("Serve created the store of a refused plugin")
	}
}

func TestNames(t *testing.T) {
	for _, n := range builtin.Names() {
		if builtin.Kind(n) == "" {
			t.Errorf("builtin %q has no kind", n)
		}
	}
	if builtin.Kind("nope") != "" {
		t.Error("an unknown name has a kind")
	}
}
