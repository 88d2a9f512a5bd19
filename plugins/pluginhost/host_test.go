// SPDX-License-Identifier: Apache-2.0

package pluginhost_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronon-go/chronon/plugins/external"
	"github.com/chronon-go/chronon/plugins/external/extplugin"
	"github.com/chronon-go/chronon/plugins/pluginhost"
)

// serveEnv makes the test binary a plugin: the contextual handler, unless
// the file its value names exists, in which case it fails at start.
const serveEnv = "PLUGINHOST_TEST_FAIL_IF"

// hostEnv makes the test binary a host of the plugin above that prints
// the plugin's PID and waits to be killed (see TestOrphan).
const hostEnv = "PLUGINHOST_TEST_HOST"

func TestMain(m *testing.M) {
	if os.Getenv(hostEnv) != "" {
		h, err := pluginhost.Start[external.Handler](context.Background(), extplugin.Kind(), pluginhost.Options{
			Path:   os.Args[0],
			Env:    []string{hostEnv + "=", serveEnv + "=" + filepath.Join(os.TempDir(), "pluginhost-test-never")},
			Logger: slog.New(slog.DiscardHandler),
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(h.PID())
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	if flag := os.Getenv(serveEnv); flag != "" {
		if _, err := os.Stat(flag); err == nil {
			fmt.Fprintln(os.Stderr, "refusing to start: flag file present")
			os.Exit(1)
		}
		extplugin.Serve(external.ContextualHandler{})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func start(t *testing.T, flag string) *pluginhost.Host[external.Handler] {
	t.Helper()
	h, err := pluginhost.Start[external.Handler](t.Context(), extplugin.Kind(), pluginhost.Options{
		Path:   os.Args[0],
		Env:    []string{serveEnv + "=" + flag},
		Logger: slog.New(slog.DiscardHandler),
		Name:   "flaky",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// kill kills the plugin process of h.
func kill(t *testing.T, h pluginhost.Process) {
	t.Helper()
	p, err := os.FindProcess(h.PID())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
}

// waitDown waits until the host has noticed its plugin is gone.
func waitDown(t *testing.T, h pluginhost.Process) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); h.PID() != 0; {
		if time.Now().After(deadline) {
			t.Fatal("the host did not notice the plugin's death within 2s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRestartBackoff: a plugin that fails to start again is retried with a
// growing backoff, calls meanwhile fail at once saying why, and it serves
// again once it can start.
func TestRestartBackoff(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "fail")
	h := start(t, flag)
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	kill(t, h)
	waitDown(t, h)

	// Right after the crash: down, within the first backoff.
	begin := time.Now()
	_, err := h.Get(t.Context())
	if !errors.Is(err, pluginhost.ErrUnavailable) || !strings.Contains(err.Error(), "next start in") ||
		!strings.Contains(err.Error(), "signal: killed") {
		t.Fatalf("Get while down: %v", err)
	}
	if d := time.Since(begin); d > 50*time.Millisecond {
		t.Errorf("Get while down took %v: must fail at once", d)
	}

	// Starts fail: each failure is reported with the plugin's stderr, and
	// the waits grow (100ms after the crash, then 200ms, 400ms, ...).
	var starts []time.Time
	loggedDown := false
	for len(starts) < 3 {
		_, err := h.Get(t.Context())
		if err == nil {
			t.Fatal("Get succeeded while the plugin cannot start")
		}
		// The call that made the attempt gets the start's error; the
		// others fail at once, quoting it with the time to the next.
		if msg := err.Error(); strings.Contains(msg, "refusing to start") && !strings.Contains(msg, "next start in") {
			starts = append(starts, time.Now())
			if len(starts) == 1 {
				t.Logf("failed start: %v", err)
			}
		} else if len(starts) == 1 && !loggedDown {
			t.Logf("while down: %v", err)
			loggedDown = true
		}
		if time.Since(begin) > 5*time.Second {
			t.Fatalf("only %d failed starts in 5s (last error %v)", len(starts), err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if gap1, gap2 := starts[1].Sub(starts[0]), starts[2].Sub(starts[1]); gap1 < 150*time.Millisecond || gap2 < gap1 {
		t.Errorf("gaps between failed starts %v, %v: want a growing backoff from 200ms", gap1, gap2)
	}

	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	for {
		v, err := h.Get(t.Context())
		if err == nil {
			res, err := v.Fetch(t.Context(), []external.Request{{Keys: map[string]any{"a": int64(1)}}})
			if err != nil || res[0].Values["a"] != int64(1) {
				t.Fatalf("Fetch after recovery: %v, %v", res, err)
			}
			break
		}
		if time.Since(begin) > 10*time.Second {
			t.Fatalf("not recovered (last error %v)", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestConcurrentRestart: many goroutines calling Get during an outage
// start one process, not one each, and all end up with the same value.
func TestConcurrentRestart(t *testing.T) {
	h := start(t, filepath.Join(t.TempDir(), "never"))
	kill(t, h)
	waitDown(t, h)
	time.Sleep(150 * time.Millisecond) // past the first backoff

	var wg sync.WaitGroup
	pids := make(chan int, 64)
	for range 16 {
		wg.Go(func() {
			for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
				if _, err := h.Get(t.Context()); err == nil {
					pids <- h.PID()
					return
				}
				time.Sleep(time.Millisecond)
			}
			t.Error("Get did not succeed within 3s")
		})
	}
	wg.Wait()
	close(pids)
	seen := map[int]bool{}
	for p := range pids {
		seen[p] = true
	}
	if len(seen) != 1 {
		t.Errorf("callers saw processes %v, want one", seen)
	}
}

// TestClose: Close stops the process, later calls fail with ErrClosed,
// and Close may be called again.
func TestClose(t *testing.T) {
	h := start(t, filepath.Join(t.TempDir(), "never"))
	pid := h.PID()
	if pid == 0 {
		t.Fatal("no PID")
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Get(t.Context()); !errors.Is(err, pluginhost.ErrClosed) || !strings.Contains(err.Error(), `"flaky"`) {
		t.Errorf("Get after Close: %v", err)
	}
	if h.PID() != 0 {
		t.Error("PID after Close")
	}
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
