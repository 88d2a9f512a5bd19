// SPDX-License-Identifier: Apache-2.0

package builtin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/go-plugin"

	"github.com/chronon-go/chronon/plugins/external"
	"github.com/chronon-go/chronon/plugins/external/extplugin"
	"github.com/chronon-go/chronon/plugins/internal/pluginwire"
	"github.com/chronon-go/chronon/plugins/kv/bigtable"
	"github.com/chronon-go/chronon/plugins/kv/kvplugin"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
)

// Names of the built-in plugins.
const (
	SQLite     = "sqlite"
	Bigtable   = "bigtable"
	Contextual = external.Contextual
)

// Names returns the names Serve accepts, sorted.
func Names() []string {
	return []string{Bigtable, Contextual, SQLite}
}

// Kind returns the plugin kind of the built-in name ("kv" or "external"),
// or "" for an unknown name.
func Kind(name string) string {
	switch name {
	case SQLite, Bigtable:
		return kvplugin.Name
	case Contextual:
		return extplugin.Name
	}
	return ""
}

// Serve serves the built-in plugin name in this process, which a chronon
// host must have started as a plugin of its kind. It returns an error,
// before serving, for an unknown name, a process not started by a host
// (run by hand), or a config the built-in rejects or cannot open its
// store with; otherwise it returns nil when the host is done with the
// plugin, having closed the store.
func Serve(name string) error {
	var hs plugin.HandshakeConfig
	switch Kind(name) {
	case kvplugin.Name:
		hs = kvplugin.Handshake()
	case extplugin.Name:
		hs = extplugin.Handshake()
	default:
		return fmt.Errorf("builtin: unknown plugin %q (supported: %s)", name, strings.Join(Names(), ", "))
	}
	// Check before opening a store: a person running the command by hand
	// should learn that, not see a database created.
	if err := pluginwire.CheckStarted(hs); err != nil {
		return fmt.Errorf("builtin %s: %w", name, err)
	}
	switch name {
	case SQLite:
		return serveSQLite()
	case Bigtable:
		return serveBigtable()
	}
	extplugin.Serve(external.ContextualHandler{})
	return nil
}

// sqliteConfig is the config of the sqlite built-in.
type sqliteConfig struct {
	Path string `json:"path"`
}

func serveSQLite() error {
	var c sqliteConfig
	if err := pluginwire.DecodeConfig(&c); err != nil {
		return fmt.Errorf("builtin sqlite: %w", err)
	}
	if c.Path == "" {
		return errors.New("builtin sqlite: config: path is required")
	}
	s, err := sqlite.Open(c.Path, nil)
	if err != nil {
		return fmt.Errorf("builtin sqlite: %w", err)
	}
	kvplugin.Serve(s)
	// The host closes the store before it stops the plugin; this covers a
	// host that went away without (Close is idempotent).
	return s.Close()
}

// bigtableConfig is the config of the bigtable built-in.
type bigtableConfig struct {
	Project    string `json:"project"`
	Instance   string `json:"instance"`
	Emulator   string `json:"emulator"`
	Table      string `json:"table"`
	AppProfile string `json:"app_profile"`
	SkipCreate bool   `json:"skip_create"`
}

func serveBigtable() error {
	var c bigtableConfig
	if err := pluginwire.DecodeConfig(&c); err != nil {
		return fmt.Errorf("builtin bigtable: %w", err)
	}
	s, err := bigtable.Open(context.Background(), bigtable.Options{
		Project:    c.Project,
		Instance:   c.Instance,
		Emulator:   c.Emulator,
		Table:      c.Table,
		AppProfile: c.AppProfile,
		SkipCreate: c.SkipCreate,
	})
	if err != nil {
		return fmt.Errorf("builtin bigtable: %w", err)
	}
	kvplugin.Serve(s)
	return s.Close()
}

// ServeFromEnv is for test binaries that start themselves as built-in
// plugins (os.Args[0] as pluginhost.Options.Path): when the environment
// variable env names a built-in, it serves it and exits, as "chronon
// plugin serve" would; otherwise it returns. Call it first in TestMain.
func ServeFromEnv(env string) {
	name := os.Getenv(env)
	if name == "" {
		return
	}
	if err := Serve(name); err != nil {
		fmt.Fprintln(os.Stderr, "chronon:", err)
		os.Exit(1)
	}
	os.Exit(0)
}
