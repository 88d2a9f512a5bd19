// SPDX-License-Identifier: Apache-2.0

package extplugin_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chronon-go/chronon/plugins/builtin"
	"github.com/chronon-go/chronon/plugins/external"
	"github.com/chronon-go/chronon/plugins/external/extplugin"
	"github.com/chronon-go/chronon/plugins/pluginhost"
	"github.com/chronon-go/chronon/plugins/sdk"
)

// serveEnv makes the test binary a plugin process: the host starts
// os.Args[0] with it set to one of the modes of servePlugin.
const serveEnv = "EXTPLUGIN_TEST_SERVE"

func TestMain(m *testing.M) {
	if mode := os.Getenv(serveEnv); mode != "" {
		os.Exit(servePlugin(mode))
	}
	os.Exit(m.Run())
}

func servePlugin(mode string) int {
	switch mode {
	case "test":
		cfg, err := sdk.Config()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		sdk.Logger().Info("test handler serving", "config_keys", len(cfg))
		sdk.ServeExternal(&testHandler{config: cfg})
	case "contextual":
		if err := builtin.Serve(builtin.Contextual); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown %s %q\n", serveEnv, mode)
		return 2
	}
	return 0
}

// testHandler answers by the request's "op" key.
type testHandler struct {
	config map[string]any
}

func (h *testHandler) Fetch(ctx context.Context, reqs []external.Request) ([]external.Result, error) {
	out := make([]external.Result, len(reqs))
	for i, r := range reqs {
		switch op, _ := r.Keys["op"].(string); op {
		case "echo": // the keys, and what Go types the plugin saw
			types := map[string]any{}
			for k, v := range r.Keys {
				types[k] = fmt.Sprintf("%T", v)
			}
			out[i].Values = map[string]any{"keys": r.Keys, "types": types}
		case "value": // a fixed value of each type
			out[i].Values = fixedValues()
		case "typed": // Go types that are not JSON-like
			out[i].Values = map[string]any{
				"int32":   int32(-7),
				"uint8":   uint8(200),
				"float32": float32(0.5),
				"floats":  []float64{1, 2.5},
				"strings": map[string]string{"a": "b"},
				"ptr":     new(int64),
				"time":    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			}
		case "fail":
			out[i].Err = fmt.Errorf("no user %v", r.Keys["id"])
		case "deadline":
			out[i].Err = fmt.Errorf("backend: %w", context.DeadlineExceeded)
		case "nan":
			out[i].Values = map[string]any{"x": math.NaN()}
		case "nil":
			out[i].Values = nil
		case "config":
			out[i].Values = h.config
		case "wait": // until the call's context ends
			<-ctx.Done()
			return nil, ctx.Err()
		case "whole":
			return nil, errors.New("the service is down")
		default:
			out[i].Err = fmt.Errorf("unknown op %q", op)
		}
	}
	return out, nil
}

func (h *testHandler) Close() error { return nil }

// fixedValues are the values of op "value", as the host must see them.
func fixedValues() map[string]any {
	return map[string]any{
		"int":      int64(42),
		"negint":   int64(math.MinInt64),
		"maxint":   int64(math.MaxInt64),
		"float":    1.0, // integral: must stay a float64
		"frac":     2.5,
		"big":      1e300,
		"tiny":     1e-9,
		"negzero":  math.Copysign(0, -1),
		"str":      "héllo \"quoted\" <b>",
		"empty":    "",
		"nil":      nil,
		"true":     true,
		"false":    false,
		"list":     []any{int64(1), 2.0, "x", nil, []any{}, map[string]any{}},
		"map":      map[string]any{"a": int64(1), "b": map[string]any{"c": 3.0, "d": []any{int64(-1)}}},
		"emptymap": map[string]any{},
	}
}

func testLogger() *slog.Logger {
	level := slog.LevelError
	if s := os.Getenv("CHRONON_TEST_PLUGIN_LOG"); s != "" {
		_ = level.UnmarshalText([]byte(s))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// open starts the test binary as an external-source plugin in mode.
func open(t *testing.T, mode string, cfg map[string]any) external.Handler {
	t.Helper()
	h, err := extplugin.Open(t.Context(), pluginhost.Options{
		Path:   os.Args[0],
		Env:    []string{serveEnv + "=" + mode},
		Config: cfg,
		Logger: testLogger(),
		Name:   "test-" + mode,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return h
}

// fetch makes one Fetch of one request and returns its result.
func fetch(t *testing.T, h external.Handler, keys map[string]any) external.Result {
	t.Helper()
	res, err := h.Fetch(t.Context(), []external.Request{{Keys: keys}})
	if err != nil {
		t.Fatalf("Fetch(%v): %v", keys, err)
	}
	if len(res) != 1 {
		t.Fatalf("Fetch of 1 request: %d results", len(res))
	}
	return res[0]
}

// TestValues: values of every JSON-like type, int64 and float64 apart,
// arrive with the types the handler returned, in keys and in values.
func TestValues(t *testing.T) {
	h := open(t, "test", nil)
	t.Run("values", func(t *testing.T) {
		r := fetch(t, h, map[string]any{"op": "value"})
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if want := fixedValues(); !reflect.DeepEqual(r.Values, want) {
			for k, v := range want {
				if got := r.Values[k]; !reflect.DeepEqual(got, v) {
					t.Errorf("%s: got %#v (%T), want %#v (%T)", k, got, got, v, v)
				}
			}
		}
		if z := r.Values["negzero"].(float64); !math.Signbit(z) {
			t.Errorf("negzero lost its sign: %v", z)
		}
	})
	t.Run("keys", func(t *testing.T) {
		keys := map[string]any{
			"op": "echo", "id": int64(5), "score": 5.0, "ratio": 0.25, "name": "x",
			"none": nil, "ok": true, "ids": []any{int64(1), 1.0}, "nested": map[string]any{"n": int64(-3)},
		}
		r := fetch(t, h, keys)
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if got := r.Values["keys"]; !reflect.DeepEqual(got, keys) {
			t.Errorf("keys seen by the plugin: %#v, want %#v", got, keys)
		}
		wantTypes := map[string]any{
			"op": "string", "id": "int64", "score": "float64", "ratio": "float64", "name": "string",
			"none": "<nil>", "ok": "bool", "ids": "[]interface {}", "nested": "map[string]interface {}",
		}
		if got := r.Values["types"]; !reflect.DeepEqual(got, wantTypes) {
			t.Errorf("key types in the plugin: %v, want %v", got, wantTypes)
		}
	})
	t.Run("go types", func(t *testing.T) {
		r := fetch(t, h, map[string]any{"op": "typed"})
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		want := map[string]any{
			"int32":   int64(-7),
			"uint8":   int64(200),
			"float32": 0.5,
			"floats":  []any{1.0, 2.5},
			"strings": map[string]any{"a": "b"},
			"ptr":     int64(0),
			"time":    "2026-01-02T03:04:05Z",
		}
		if !reflect.DeepEqual(r.Values, want) {
			t.Errorf("got %#v, want %#v", r.Values, want)
		}
	})
	t.Run("nil values", func(t *testing.T) {
		r := fetch(t, h, map[string]any{"op": "nil"})
		if r.Err != nil || r.Values != nil {
			t.Errorf("got %+v, want no values and no error", r)
		}
	})
}

// TestErrors: a request's error stays its own, with its message and its
// context sentinel; a value that cannot be encoded fails its request
// only; a whole-call error is the call's.
func TestErrors(t *testing.T) {
	h := open(t, "test", nil)
	reqs := []external.Request{
		{Keys: map[string]any{"op": "value"}},
		{Keys: map[string]any{"op": "fail", "id": int64(9)}},
		{Keys: map[string]any{"op": "deadline"}},
		{Keys: map[string]any{"op": "nan"}},
		{Keys: map[string]any{"op": "echo", "bad": math.Inf(1)}}, // keys that cannot be sent
		{Keys: map[string]any{"op": "echo"}},
	}
	res, err := h.Fetch(t.Context(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(reqs) {
		t.Fatalf("%d results for %d requests", len(res), len(reqs))
	}
	tests := []struct {
		i       int
		wantErr string // "" for success
		is      error
	}{
		{0, "", nil},
		{1, "no user 9", nil},
		{2, "backend: context deadline exceeded", context.DeadlineExceeded},
		{3, "NaN", nil},
		{4, "+Inf", nil},
		{5, "", nil},
	}
	for _, tc := range tests {
		r := res[tc.i]
		switch {
		case tc.wantErr == "" && r.Err != nil:
			t.Errorf("request %d: %v", tc.i, r.Err)
		case tc.wantErr == "" && r.Values == nil:
			t.Errorf("request %d: no values", tc.i)
		case tc.wantErr != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tc.wantErr)):
			t.Errorf("request %d: Err = %v, want one saying %q", tc.i, r.Err, tc.wantErr)
		case tc.is != nil && !errors.Is(r.Err, tc.is):
			t.Errorf("request %d: Err = %v does not wrap %v", tc.i, r.Err, tc.is)
		}
	}

	_, err = h.Fetch(t.Context(), []external.Request{{Keys: map[string]any{"op": "whole"}}})
	if err == nil || !strings.Contains(err.Error(), "the service is down") || !strings.Contains(err.Error(), `"test-test"`) {
		t.Errorf("whole-call error: %v, want the handler's message and the plugin's name", err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = h.Fetch(ctx, []external.Request{{Keys: map[string]any{"op": "wait"}}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Fetch past its deadline: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Fetch past its deadline took %v", d)
	}

	if res, err := h.Fetch(t.Context(), nil); err != nil || len(res) != 0 {
		t.Errorf("Fetch of no requests: %v, %v", res, err)
	}
}

// TestConfig: Options.Config reaches the plugin, numbers with their
// types.
func TestConfig(t *testing.T) {
	cfg := map[string]any{
		"url":     "http://127.0.0.1:1/x",
		"timeout": int64(3),
		"ratio":   0.5,
		"whole":   2.0,
		"headers": map[string]any{"X-A": "b"},
		"list":    []any{"a", int64(1)},
	}
	h := open(t, "test", cfg)
	r := fetch(t, h, map[string]any{"op": "config"})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if !reflect.DeepEqual(r.Values, cfg) {
		t.Errorf("config seen by the plugin: %#v, want %#v", r.Values, cfg)
	}
}

// TestContextual: the contextual built-in, out of process, echoes each
// request's keys with their types.
func TestContextual(t *testing.T) {
	h := open(t, "contextual", nil)
	reqs := []external.Request{
		{Keys: map[string]any{"request_id": "r-1", "cart_total": 12.5, "items": int64(3)}},
		{Keys: map[string]any{"flag": true, "none": nil, "whole": 4.0}},
		{Keys: map[string]any{}},
	}
	res, err := h.Fetch(t.Context(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Errorf("request %d: %v", i, r.Err)
		} else if !reflect.DeepEqual(r.Values, reqs[i].Keys) {
			t.Errorf("request %d: values %#v, want the keys %#v", i, r.Values, reqs[i].Keys)
		}
	}
}

// TestCrash: a killed handler plugin fails calls with ErrUnavailable, then
// serves again without any action of the caller.
func TestCrash(t *testing.T) {
	h := open(t, "contextual", nil)
	proc := h.(pluginhost.Process)
	pid := proc.PID()
	p, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	sawDown := false
	for {
		res, err := h.Fetch(t.Context(), []external.Request{{Keys: map[string]any{"k": int64(1)}}})
		if err == nil && res[0].Err == nil && proc.PID() != pid {
			break
		}
		if err != nil {
			if !errors.Is(err, pluginhost.ErrUnavailable) || !strings.Contains(err.Error(), `"test-contextual"`) {
				t.Fatalf("error while down: %v, want pluginhost.ErrUnavailable naming the plugin", err)
			}
			sawDown = true
		}
		if time.Since(killed) > 2*time.Second {
			t.Fatalf("not serving again 2s after the kill (last error %v)", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !sawDown {
		t.Error("no call failed after the kill")
	}
	t.Logf("served again %v after the kill", time.Since(killed))
}
