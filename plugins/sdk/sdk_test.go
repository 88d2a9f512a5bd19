// SPDX-License-Identifier: Apache-2.0

package sdk_test

import (
	"reflect"
	"testing"

	"github.com/chronon-go/chronon/plugins/sdk"
)

func TestConfig(t *testing.T) {
	t.Setenv(sdk.ConfigEnv, `{"url":"http://x","retries":3,"backoff":0.5,"scale":2.0,"tags":["a",1]}`)
	got, err := sdk.Config()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"url": "http://x", "retries": int64(3), "backoff": 0.5, "scale": 2.0, "tags": []any{"a", int64(1)}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Config = %#v, want %#v", got, want)
	}

	cfg := struct {
		URL     string  `json:"url"`
		Retries int     `json:"retries"`
		Backoff float64 `json:"backoff"`
		Scale   float64 `json:"scale"`
		Tags    []any   `json:"tags"`
		Timeout string  `json:"timeout"`
	}{Timeout: "1s"}
	if err := sdk.DecodeConfig(&cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.URL != "http://x" || cfg.Retries != 3 || cfg.Timeout != "1s" {
		t.Errorf("DecodeConfig = %+v", cfg)
	}

	t.Setenv(sdk.ConfigEnv, "")
	if got, err := sdk.Config(); err != nil || len(got) != 0 || got == nil {
		t.Errorf("Config without config = %#v, %v; want an empty map", got, err)
	}
	if sdk.Logger() == nil {
		t.Error("Logger is nil")
	}
}
