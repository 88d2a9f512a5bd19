// SPDX-License-Identifier: Apache-2.0

package sdk

import (
	"log/slog"
	"os"

	"github.com/chronon-go/chronon/plugins/external"
	"github.com/chronon-go/chronon/plugins/external/extplugin"
	"github.com/chronon-go/chronon/plugins/internal/pluginwire"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/kvplugin"
)

// ConfigEnv is the environment variable in which chronon passes the
// plugin's config (chronon.yaml's config: map) as a JSON object. Config
// and DecodeConfig read it.
const ConfigEnv = pluginwire.ConfigEnv

// ServeKV serves s as a KV store plugin and returns when chronon is done
// with it; chronon calls s.Close before. Call it last in main. The store
// must be safe for concurrent use: chronon calls it from many goroutines.
// A process chronon did not start as a KV plugin prints why and exits
// with status 1.
func ServeKV(s kv.Store) {
	kvplugin.Serve(s)
}

// ServeExternal serves h as an external-source handler plugin and returns
// when chronon is done with it; chronon calls h.Close before. Call it last
// in main. The handler must be safe for concurrent use. Values it returns
// should be JSON-like: nil, bool, string, int64, float64, []any,
// map[string]any (extplugin's package documentation says how other types
// travel). A process chronon did not start as an external-source plugin
// prints why and exits with status 1.
func ServeExternal(h external.Handler) {
	extplugin.Serve(h)
}

// Config returns the plugin's config: the config map chronon.yaml gives
// the plugin, an empty map when it gives none. Integral numbers are
// int64, other numbers float64, lists []any and maps map[string]any.
func Config() (map[string]any, error) {
	return pluginwire.ReadConfig()
}

// DecodeConfig decodes the plugin's config into dst, a pointer to a
// struct with json tags, with encoding/json. A config key dst has no
// field for is an error, so a misspelt key does not pass silently. No
// config leaves dst as it is (defaults set before the call stay).
func DecodeConfig(dst any) error {
	return pluginwire.DecodeConfig(dst)
}

// Logger returns a logger for plugin code. Its records go to the
// process's stderr as JSON lines that chronon reads and logs again
// through its own logger, at the record's level and with its attributes
// and the plugin's name. Records below the level chronon logs are
// dropped in the plugin already.
func Logger() *slog.Logger {
	return pluginwire.NewSlogLogger(os.Stderr)
}
