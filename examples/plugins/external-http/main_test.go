// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chronon-go/chronon/plugins/external"
	"github.com/chronon-go/chronon/plugins/external/extplugin"
	"github.com/chronon-go/chronon/plugins/pluginhost"
)

// users returns the test service's data, as JSON objects, by user id.
func users() map[string]string {
	return map[string]string{
		"5": `{"name": "Ann", "age": 31, "score": 0.75, "balance": 10.0, "tags": ["a", 2], "address": {"zip": "10115"}}`,
		"7": `{"name": "Bob", "age": 45, "score": 1, "balance": null, "tags": [], "address": {}}`,
	}
}

// service answers GET ?user_id=..&user_id=.. and POST [{"user_id": ..}]
// with one answer per id; id "boom" makes it fail with 500.
func service(t *testing.T) *httptest.Server {
	var calls atomic.Int64
	data := users()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("X-Api-Key") != "secret" {
			http.Error(w, "no api key", http.StatusUnauthorized)
			return
		}
		var ids []string
		switch r.Method {
		case http.MethodGet:
			ids = r.URL.Query()["user_id"]
		case http.MethodPost:
			var keys []map[string]any
			if err := json.NewDecoder(r.Body).Decode(&keys); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			for _, k := range keys {
				ids = append(ids, fmt.Sprint(k["user_id"]))
			}
		}
		parts := make([]string, len(ids))
		for i, id := range ids {
			if id == "boom" {
				http.Error(w, "database on fire", http.StatusInternalServerError)
				return
			}
			parts[i] = "null"
			if u, ok := data[id]; ok {
				parts[i] = u
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("[" + strings.Join(parts, ",") + "]"))
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { t.Logf("%d service calls", calls.Load()) })
	return srv
}

// build compiles the example into a temporary directory.
func build(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the plugin with")
	}
	bin := filepath.Join(t.TempDir(), "external-http")
	cmd := exec.Command(gobin, "build", "-buildvcs=false", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestPlugin builds the example once and runs it under the host.
func TestPlugin(t *testing.T) {
	bin := build(t)
	t.Run("serve", func(t *testing.T) { testServe(t, bin) })
	t.Run("bad config", func(t *testing.T) { testBadConfig(t, bin) })
	t.Run("unreachable", func(t *testing.T) { testUnreachable(t, bin) })
}

// testServe fetches users through the plugin, by GET and by POST.
func testServe(t *testing.T, bin string) {
	srv := service(t)
	ann := map[string]any{
		"name": "Ann", "age": int64(31), "score": 0.75, "balance": 10.0,
		"tags": []any{"a", int64(2)}, "address": map[string]any{"zip": "10115"},
	}
	bob := map[string]any{
		"name": "Bob", "age": int64(45), "score": int64(1), "balance": nil,
		"tags": []any{}, "address": map[string]any{},
	}
	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			h, err := extplugin.Open(t.Context(), pluginhost.Options{
				Path: bin,
				Config: map[string]any{
					"url":     srv.URL + "/users",
					"method":  method,
					"timeout": "2s",
					"headers": map[string]any{"X-Api-Key": "secret"},
				},
				Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()

			reqs := []external.Request{
				{Keys: map[string]any{"user_id": int64(5)}},
				{Keys: map[string]any{"user_id": "7"}},
				{Keys: map[string]any{"user_id": int64(404)}},
			}
			res, err := h.Fetch(t.Context(), reqs)
			if err != nil {
				t.Fatal(err)
			}
			want := []map[string]any{ann, bob, nil}
			for i, r := range res {
				if r.Err != nil {
					t.Errorf("request %d: %v", i, r.Err)
				} else if !reflect.DeepEqual(r.Values, want[i]) {
					t.Errorf("request %d: values %#v, want %#v", i, r.Values, want[i])
				}
			}

			_, err = h.Fetch(t.Context(), []external.Request{{Keys: map[string]any{"user_id": "boom"}}})
			if err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "database on fire") {
				t.Errorf("Fetch of a failing service: %v, want the HTTP error", err)
			}
		})
	}
}

// testBadConfig: a config the plugin rejects fails the start with its
// reason.
func testBadConfig(t *testing.T, bin string) {
	tests := []struct {
		name string
		cfg  map[string]any
		want string
	}{
		{"no url", nil, "url is required"},
		{"bad method", map[string]any{"url": "http://127.0.0.1:1", "method": "PUT"}, "must be GET or POST"},
		{"bad timeout", map[string]any{"url": "http://127.0.0.1:1", "timeout": "soon"}, "positive Go duration"},
		{"unknown key", map[string]any{"url": "http://127.0.0.1:1", "methd": "GET"}, `unknown field "methd"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := extplugin.Open(t.Context(), pluginhost.Options{Path: bin, Config: tc.cfg, Logger: slog.New(slog.DiscardHandler)})
			if err == nil {
				h.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// testUnreachable: a service that does not answer fails the batch with an
// error that names the plugin; the plugin itself stays up.
func testUnreachable(t *testing.T, bin string) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there now
	h, err := extplugin.Open(t.Context(), pluginhost.Options{Path: bin, Config: map[string]any{"url": addr}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	_, err = h.Fetch(t.Context(), []external.Request{{Keys: map[string]any{"user_id": int64(1)}}})
	if err == nil || errors.Is(err, pluginhost.ErrUnavailable) || !strings.Contains(err.Error(), `plugin "external-http"`) {
		t.Errorf("Fetch of an unreachable service: %v, want the handler's error naming the plugin", err)
	}
}
