// SPDX-License-Identifier: Apache-2.0

package pluginhost

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/chronon-go/chronon/plugins/internal/pluginwire"
)

// ConfigEnv is the environment variable that carries Options.Config to
// the plugin process: a JSON object (integral numbers as integer literals,
// other numbers always with a fraction or an exponent). Plugins read it
// with sdk.Config or sdk.DecodeConfig.
const ConfigEnv = pluginwire.ConfigEnv

// Default values of Options.
const (
	// DefaultStartTimeout is the default Options.StartTimeout.
	DefaultStartTimeout = 30 * time.Second
	// DefaultMinBackoff is the default Options.MinBackoff.
	DefaultMinBackoff = 100 * time.Millisecond
	// DefaultMaxBackoff is the default Options.MaxBackoff.
	DefaultMaxBackoff = time.Second
	// DefaultStableAfter is the default Options.StableAfter.
	DefaultStableAfter = 10 * time.Second
)

// Options configure a plugin process. A zero field means the default.
type Options struct {
	// Path is the plugin's executable. It is required.
	Path string
	// Args are the plugin's command-line arguments, after Path: for a
	// built-in, []string{"plugin", "serve", "sqlite"} with Path the
	// chronon binary. The default value is none.
	Args []string
	// Config is passed to the plugin in the environment variable
	// ConfigEnv (see there); it must encode as JSON (no NaN or Inf, no
	// cycles) and stay small (Linux caps one environment string at
	// 128 KiB). The default value is an empty map.
	Config map[string]any
	// Env are extra environment variables of the plugin ("KEY=value"), on
	// top of the host's own environment. The default value is none.
	Env []string
	// Logger receives the host's records about the plugin (started,
	// crashed, restarting) and the plugin's own log lines and output,
	// each with a "plugin" attribute. The default value is
	// slog.Default().
	Logger *slog.Logger
	// Name is the plugin's name in logs and errors. The default value is
	// the base name of Path followed by Args ("chronon plugin serve
	// sqlite").
	Name string
	// StartTimeout bounds how long a plugin may take to start and
	// complete the handshake. The default value is DefaultStartTimeout
	// (30s).
	StartTimeout time.Duration
	// MinBackoff is how long the host waits after a first crash (or
	// failed start) before it starts the plugin again; each further crash
	// in a row doubles the wait, up to MaxBackoff. The default value is
	// DefaultMinBackoff (100ms).
	MinBackoff time.Duration
	// MaxBackoff caps the wait between restarts. The default value is
	// DefaultMaxBackoff (1s).
	MaxBackoff time.Duration
	// StableAfter is how long a plugin process must have run for its
	// crash not to count as one in a row: the backoff starts again at
	// MinBackoff. The default value is DefaultStableAfter (10s).
	StableAfter time.Duration
}

// EnsureDefaults returns a copy of o with every zero field set to its
// default. o may be nil; o itself is not modified.
func (o *Options) EnsureDefaults() *Options {
	var c Options
	if o != nil {
		c = *o
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Name == "" && c.Path != "" {
		c.Name = strings.Join(append([]string{filepath.Base(c.Path)}, c.Args...), " ")
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = DefaultStartTimeout
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = DefaultMinBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.StableAfter == 0 {
		c.StableAfter = DefaultStableAfter
	}
	return &c
}

// validate checks o after EnsureDefaults.
func (o *Options) validate() error {
	switch {
	case o.Path == "":
		return errors.New("Path is required")
	case o.StartTimeout < 0:
		return fmt.Errorf("StartTimeout %v is negative", o.StartTimeout)
	case o.MinBackoff < 0 || o.MaxBackoff < o.MinBackoff:
		return fmt.Errorf("backoff [%v, %v] is not a range of durations", o.MinBackoff, o.MaxBackoff)
	}
	return nil
}

// backoff is the wait before the next start after n crashes or failed
// starts in a row (n >= 1).
func (o *Options) backoff(n int) time.Duration {
	d := o.MinBackoff
	for i := 1; i < n && d < o.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, o.MaxBackoff)
}

// Kind describes a kind of plugin to the host. kvplugin.Kind and
// extplugin.Kind return the two chronon has.
type Kind struct {
	// Name is the kind's name: its go-plugin dispense key and its name
	// in messages ("kv", "external").
	Name string
	// Handshake is the kind's go-plugin handshake.
	Handshake plugin.HandshakeConfig
	// Plugin is the host side of the kind's go-plugin adapter; its
	// GRPCClient returns the value the host hands out.
	Plugin plugin.GRPCPlugin
}
