// SPDX-License-Identifier: Apache-2.0

// Package pluginhost runs chronon plugins as go-plugin processes (gRPC
// protocol, AutoMTLS) and keeps them running: it is the host side shared
// by every plugin kind (KV stores in plugins/kv/kvplugin, external-source
// handlers in plugins/external/extplugin), which wrap a Host in the kind's
// Go interface.
//
// # Config
//
// Options.Config reaches the plugin as JSON in the environment variable
// CHRONON_PLUGIN_CONFIG (ConfigEnv); the plugin reads it with sdk.Config
// or sdk.DecodeConfig. CHRONON_PLUGIN_LOG_LEVEL tells the plugin the
// lowest level the host's logger keeps. The plugin inherits the rest of
// the host's environment, plus Options.Env.
//
// # Crashes
//
// A Host watches its process. When the process exits or its connection
// breaks, calls fail at once, with an error that wraps ErrUnavailable and
// names the plugin and the cause (the fetcher reports it as the part's
// _exception), for a backoff of Options.MinBackoff (100 ms), doubled after
// each further crash in a row up to Options.MaxBackoff (1 s). The first
// call after the backoff starts the plugin again and waits for it; others
// keep failing at once meanwhile. So a plugin killed once serves again
// some 100 to 300 ms after its death (the backoff and its start) with no
// action of the caller, and one that keeps crashing or cannot start is
// retried once a second. A process that ran Options.StableAfter (10 s)
// before its crash starts the backoff over.
//
// # Logs
//
// go-plugin's own records and the plugin's stderr and stdout go to
// Options.Logger (log/slog), each with a "plugin" attribute: the plugin's
// JSON log lines (sdk.Logger, or go-plugin's hclog) at their own level,
// other lines at Info, go-plugin's lifecycle chatter one level lower than
// go-plugin logs it, since the host logs start, crash and restart itself.
//
// # Example
//
//	st, err := kvplugin.Open(ctx, pluginhost.Options{
//		Path:   "/usr/local/bin/chronon",
//		Args:   []string{"plugin", "serve", "sqlite"},
//		Config: map[string]any{"path": "/var/lib/chronon/kv.db"},
//		Logger: logger,
//	})
//	if err != nil {
//		return err
//	}
//	defer st.Close()
package pluginhost
