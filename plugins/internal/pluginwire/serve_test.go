// SPDX-License-Identifier: Apache-2.0

package pluginwire

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestCheckStarted(t *testing.T) {
	hs := Handshake("kv", 1)
	tests := []struct {
		env  string
		want string // "" for no error
	}{
		{"", "not meant to be run by hand"},
		{"kv", ""},
		{"external", "chronon kv plugin, but chronon started it as a external plugin"},
	}
	for _, tc := range tests {
		t.Setenv(MagicCookieKey, tc.env)
		err := CheckStarted(hs)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s=%q: %v", MagicCookieKey, tc.env, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s=%q: %v, want an error saying %q", MagicCookieKey, tc.env, err, tc.want)
		}
	}
}

func TestConfigEnv(t *testing.T) {
	cfg := map[string]any{"path": "/x", "n": int64(3), "f": 2.0}
	enc, err := EncodeConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(ConfigEnv, enc)
	got, err := ReadConfig()
	if err != nil || len(got) != 3 || got["n"] != int64(3) || got["f"] != 2.0 {
		t.Errorf("ReadConfig = %#v, %v", got, err)
	}
	var dst struct {
		Path string  `json:"path"`
		N    int     `json:"n"`
		F    float64 `json:"f"`
	}
	if err := DecodeConfig(&dst); err != nil || dst.Path != "/x" || dst.N != 3 || dst.F != 2 {
		t.Errorf("DecodeConfig = %+v, %v", dst, err)
	}
	var short struct {
		Path string `json:"path"`
	}
	if err := DecodeConfig(&short); err == nil || !strings.Contains(err.Error(), `unknown field`) {
		t.Errorf("DecodeConfig with a key too many: %v", err)
	}

	t.Setenv(ConfigEnv, "")
	if got, err := ReadConfig(); err != nil || got == nil || len(got) != 0 {
		t.Errorf("ReadConfig of no config = %#v, %v; want an empty map", got, err)
	}
	t.Setenv(ConfigEnv, "[1]")
	if _, err := ReadConfig(); err == nil || !strings.Contains(err.Error(), ConfigEnv) {
		t.Errorf("ReadConfig of a list: %v", err)
	}
}

// TestSlogLogger: the plugin's slog records are in the JSON form the
// host's go-plugin parses (@level, @message, @timestamp).
func TestSlogLogger(t *testing.T) {
	t.Setenv(LogLevelEnv, "debug")
	var buf bytes.Buffer
	NewSlogLogger(&buf).Warn("hello", "n", 3)
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("%s: %v", buf.Bytes(), err)
	}
	if m["@level"] != "warn" || m["@message"] != "hello" || m["n"] != 3.0 {
		t.Errorf("record %s", buf.Bytes())
	}
	if ts, _ := m["@timestamp"].(string); ts == "" {
		t.Errorf("record %s: no @timestamp", buf.Bytes())
	} else if _, err := time.Parse(hclogTime, ts); err != nil {
		t.Errorf("@timestamp %q: %v", ts, err)
	}
	for _, tc := range []struct {
		env  string
		want slog.Level
	}{{"", slog.LevelInfo}, {"debug", slog.LevelDebug}, {"WARN", slog.LevelWarn}, {"error", slog.LevelError}} {
		t.Setenv(LogLevelEnv, tc.env)
		if got := LogLevel(); got != tc.want {
			t.Errorf("LogLevel with %q = %v, want %v", tc.env, got, tc.want)
		}
	}
}
