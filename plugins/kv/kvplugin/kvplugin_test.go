// SPDX-License-Identifier: Apache-2.0

package kvplugin_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/chronon-go/chronon/plugins/builtin"
	"github.com/chronon-go/chronon/plugins/external"
	"github.com/chronon-go/chronon/plugins/external/extplugin"
	"github.com/chronon-go/chronon/plugins/internal/pluginwire"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/kvplugin"
	"github.com/chronon-go/chronon/plugins/kv/kvtest"
	"github.com/chronon-go/chronon/plugins/pluginhost"
)

// serveEnv makes the test binary a plugin process: the host starts
// os.Args[0] with it set to one of the modes of servePlugin.
const serveEnv = "KVPLUGIN_TEST_SERVE"

func TestMain(m *testing.M) {
	if mode := os.Getenv(serveEnv); mode != "" {
		os.Exit(servePlugin(mode))
	}
	os.Exit(m.Run())
}

// servePlugin runs the test binary as a plugin and returns its exit code.
func servePlugin(mode string) int {
	switch mode {
	case "sqlite":
		if err := builtin.Serve(builtin.SQLite); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	case "v2": // a KV plugin of a protocol version this host does not speak
		hs := kvplugin.Handshake()
		hs.ProtocolVersion = kvplugin.ProtocolVersion + 1
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig: hs,
			Plugins:         plugin.PluginSet{kvplugin.Name: kvplugin.Plugin(failStore{})},
			GRPCServer:      pluginwire.NewGRPCServer,
		})
	case "external": // another kind of plugin
		extplugin.Serve(external.ContextualHandler{})
	case "fail": // a plugin that fails before the handshake
		fmt.Fprintln(os.Stderr, "boom: the plugin cannot start")
		return 3
	default:
		fmt.Fprintf(os.Stderr, "unknown %s %q\n", serveEnv, mode)
		return 2
	}
	return 0
}

// failStore is a kv.Store whose every call fails.
type failStore struct{}

var errFail = errors.New("failStore")

func (failStore) CreateDataset(context.Context, string) error { return errFail }
func (failStore) MultiGet(context.Context, []kv.GetRequest) ([]kv.GetResult, error) {
	return nil, errFail
}
func (failStore) MultiPut(context.Context, string, []kv.Entry) error { return errFail }
func (failStore) BulkLoad(context.Context, string, []kv.Entry) error { return errFail }
func (failStore) Expire(context.Context, string, int64, bool) (int64, error) {
	return 0, errFail
}
func (failStore) Close() error { return nil }

// testLogger logs to stderr at the level in CHRONON_TEST_PLUGIN_LOG
// ("debug", "info", ...), only errors by default: the crash tests make
// the host warn on purpose.
func testLogger() *slog.Logger {
	level := slog.LevelError
	if s := os.Getenv("CHRONON_TEST_PLUGIN_LOG"); s != "" {
		_ = level.UnmarshalText([]byte(s))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// options returns the host options that start the test binary as a
// plugin in mode.
func options(mode string, cfg map[string]any) pluginhost.Options {
	return pluginhost.Options{
		Path:   os.Args[0],
		Env:    []string{serveEnv + "=" + mode},
		Config: cfg,
		Logger: testLogger(),
		Name:   "test-" + mode,
	}
}

// openSQLite starts a sqlite plugin on a new file; t's cleanup closes it
// unless the caller does.
func openSQLite(t testing.TB) kv.Store {
	t.Helper()
	st, err := kvplugin.Open(t.Context(), options("sqlite", map[string]any{"path": filepath.Join(t.TempDir(), "kv.db")}))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestConformance runs the kv.Store conformance suite through a real
// plugin process (the sqlite built-in) per subtest.
func TestConformance(t *testing.T) {
	kvtest.Run(t, func(t *testing.T) kv.Store { return openSQLite(t) })
}

// TestErrors: a request's error and kv.ErrNoDataset survive the wire,
// with the plugin's message; calls after Close fail with ErrClosed.
func TestErrors(t *testing.T) {
	st := openSQLite(t)
	ctx := t.Context()
	if err := st.CreateDataset(ctx, "DS"); err != nil {
		t.Fatal(err)
	}
	res, err := st.MultiGet(ctx, []kv.GetRequest{{Dataset: "DS", Key: []byte("k")}, {Dataset: "NOPE", Key: []byte("k")}})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || len(res[0].Values) != 0 {
		t.Errorf("absent key: %+v", res[0])
	}
	if !errors.Is(res[1].Err, kv.ErrNoDataset) || !strings.Contains(res[1].Err.Error(), "NOPE") {
		t.Errorf("missing dataset: Err = %v, want kv.ErrNoDataset naming NOPE", res[1].Err)
	}
	err = st.MultiPut(ctx, "NOPE", []kv.Entry{{Key: []byte("k"), Value: []byte("v"), TsMillis: 1}})
	if !errors.Is(err, kv.ErrNoDataset) || !strings.Contains(err.Error(), `plugin "test-sqlite"`) {
		t.Errorf("MultiPut to a missing dataset: %v, want kv.ErrNoDataset naming the plugin", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.MultiGet(ctx, nil); !errors.Is(err, pluginhost.ErrClosed) {
		t.Errorf("MultiGet after Close: %v, want pluginhost.ErrClosed", err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestCrashRecovery kills the plugin process with SIGKILL while
// goroutines call MultiGet in a loop: calls fail meanwhile with an error
// that names the plugin, and succeed again within 2 s of the kill with no
// action of the callers.
func TestCrashRecovery(t *testing.T) {
	st := openSQLite(t)
	defer st.Close()
	ctx := t.Context()
	if err := st.CreateDataset(ctx, "DS"); err != nil {
		t.Fatal(err)
	}
	if err := st.MultiPut(ctx, "DS", []kv.Entry{{Key: []byte("k"), Value: []byte("v"), TsMillis: 1}}); err != nil {
		t.Fatal(err)
	}
	proc := st.(pluginhost.Process)

	for round := range 2 { // the second kill hits a restarted process
		pid := proc.PID()
		if pid == 0 {
			t.Fatalf("round %d: PID 0 while up", round)
		}
		var (
			stop      atomic.Bool
			failures  atomic.Int64
			badErr    atomic.Value // first failure that is not ErrUnavailable
			firstErr  atomic.Value
			lastErr   atomic.Value
			recovered = make(chan time.Time, 1)
			killedAt  atomic.Int64 // UnixNano; 0 before the kill
			wg        sync.WaitGroup
		)
		for range 4 {
			wg.Go(func() {
				for !stop.Load() {
					start := time.Now()
					res, err := st.MultiGet(ctx, []kv.GetRequest{{Dataset: "DS", Key: []byte("k")}})
					switch {
					case err != nil:
						failures.Add(1)
						firstErr.CompareAndSwap(nil, err)
						lastErr.Store(err)
						if !errors.Is(err, pluginhost.ErrUnavailable) || !strings.Contains(err.Error(), `"test-sqlite"`) {
							badErr.CompareAndSwap(nil, err)
						}
						time.Sleep(time.Millisecond) // a caller's natural pace while failing fast
					case len(res) != 1 || len(res[0].Values) != 1 || string(res[0].Values[0].Value) != "v":
						badErr.CompareAndSwap(nil, fmt.Errorf("wrong result %+v", res))
					default:
						if k := killedAt.Load(); k != 0 && start.UnixNano() > k && failures.Load() > 0 {
							select {
							case recovered <- time.Now():
							default:
							}
						}
					}
				}
			})
		}
		time.Sleep(50 * time.Millisecond) // calls are flowing
		p, err := os.FindProcess(pid)
		if err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		killedAt.Store(killed.UnixNano())
		if err := p.Kill(); err != nil {
			t.Fatal(err)
		}
		var took time.Duration
		select {
		case at := <-recovered:
			took = at.Sub(killed)
		case <-time.After(5 * time.Second):
			took = -1
		}
		stop.Store(true)
		wg.Wait()
		if e := badErr.Load(); e != nil {
			t.Errorf("round %d: %v", round, e)
		}
		switch {
		case took < 0:
			t.Fatalf("round %d: no successful call within 5s of the kill (%d failed)", round, failures.Load())
		case took > 2*time.Second:
			t.Errorf("round %d: calls succeeded again %v after the kill, want within 2s", round, took)
		}
		if failures.Load() == 0 {
			t.Errorf("round %d: no call failed during the outage", round)
		}
		if got := proc.PID(); got == pid || got == 0 {
			t.Errorf("round %d: PID after restart = %d (was %d)", round, got, pid)
		}
		t.Logf("round %d: served again %v after the kill; %d calls failed meanwhile, first with: %v; last with: %v", round, took, failures.Load(), firstErr.Load(), lastErr.Load())
	}
}

// TestHandshakeMismatch: plugins that cannot be used fail Open with an
// error that says why and names the plugin.
func TestHandshakeMismatch(t *testing.T) {
	tests := []struct {
		name string
		opts pluginhost.Options
		want []string // substrings of the error
	}{
		{"protocol version", options("v2", nil), []string{`"test-v2"`, "incompatible API version", "Plugin version: 2"}},
		{"kind", options("external", nil), []string{`"test-external"`, "chronon external plugin, but chronon started it as a kv plugin"}},
		{"fails at start", options("fail", nil), []string{`"test-fail"`, "boom: the plugin cannot start"}},
		{"no binary", pluginhost.Options{Path: filepath.Join(t.TempDir(), "missing"), Logger: testLogger()}, []string{"missing", "no such file"}},
		{"no path", pluginhost.Options{}, []string{"Path is required"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := kvplugin.Open(t.Context(), tc.opts)
			if err == nil {
				st.Close()
				t.Fatal("Open succeeded")
			}
			t.Logf("Open: %v", err)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestOpenCancelled: a done context stops Open's wait.
func TestOpenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	st, err := kvplugin.Open(ctx, options("sqlite", map[string]any{"path": filepath.Join(t.TempDir(), "kv.db")}))
	if err == nil {
		// The start may win the race with the cancelled context.
		st.Close()
		return
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context: %v, want context.Canceled", err)
	}
}
