// SPDX-License-Identifier: Apache-2.0

package pluginwire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

const (
	// MagicCookieKey is the environment variable of every kind's go-plugin
	// handshake; its value names the kind ("kv", "external"), so a plugin
	// started as the wrong kind can say so.
	MagicCookieKey = "CHRONON_PLUGIN"
	// ConfigEnv is the environment variable that carries the plugin's
	// config map from the host: a JSON object in the value encoding of
	// MarshalValue. Unset means an empty config.
	ConfigEnv = "CHRONON_PLUGIN_CONFIG"
	// LogLevelEnv is the environment variable with the lowest level the
	// host logs ("debug", "info", "warn", "error"), so a plugin need not
	// format records the host drops. Unset means "info".
	LogLevelEnv = "CHRONON_PLUGIN_LOG_LEVEL"
)

// EncodeConfig encodes a plugin config map for ConfigEnv.
func EncodeConfig(cfg map[string]any) (string, error) {
	if cfg == nil {
		cfg = map[string]any{}
	}
	b, err := MarshalValue(cfg)
	if err != nil {
		return "", fmt.Errorf("encode plugin config: %w", err)
	}
	return string(b), nil
}

// ReadConfig returns the config map in ConfigEnv: an empty map when it is
// unset. Integral numbers are int64, others float64 (see UnmarshalValue).
func ReadConfig() (map[string]any, error) {
	raw := os.Getenv(ConfigEnv)
	if raw == "" {
		return map[string]any{}, nil
	}
	m, err := UnmarshalObject([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("plugin config ($%s): %w", ConfigEnv, err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

// DecodeConfig decodes the config map in ConfigEnv into dst (a pointer to
// a struct with json tags) with encoding/json. An unset ConfigEnv leaves
// dst as it is. A key dst has no field for is an error, so a misspelt
// key in chronon.yaml does not pass silently.
func DecodeConfig(dst any) error {
	raw := os.Getenv(ConfigEnv)
	if raw == "" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("plugin config ($%s): %w", ConfigEnv, err)
	}
	return nil
}

// LogLevel returns the level in LogLevelEnv, or slog.LevelInfo.
func LogLevel() slog.Level {
	switch strings.ToLower(os.Getenv(LogLevelEnv)) {
	case "trace", "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// LevelName is the LogLevelEnv value of l.
func LevelName(l slog.Level) string {
	switch {
	case l <= slog.LevelDebug:
		return "debug"
	case l <= slog.LevelInfo:
		return "info"
	case l <= slog.LevelWarn:
		return "warn"
	}
	return "error"
}
