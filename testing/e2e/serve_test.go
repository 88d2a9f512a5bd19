// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// servedQuickstart returns a quickstart directory with both event
// GroupBys uploaded for 2023-11-30 and the definitions in the KV store,
// and chronon.yaml's extra lines (written before anything runs).
func servedQuickstart(t *testing.T, yaml string) string {
	t.Helper()
	files := map[string]string{}
	if yaml != "" {
		files["chronon.yaml"] = yaml
	}
	dir := quickstartDir(t, files)
	for _, gb := range []string{"quickstart.purchases.v1", "quickstart.returns.v1"} {
		mustRun(t, dir, "upload", "--conf", gb, "--ds", "2023-11-30")
	}
	mustRun(t, dir, "metadata-upload")
	return dir
}

// startServer runs chronon serve in dir on a free port until the test ends
// and returns its base URL and process.
func startServer(t *testing.T, dir string, args ...string) (string, *os.Process) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(chronon, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Dir, cmd.Stderr = dir, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", stderr.String())
		}
	})
	url := "http://" + addr
	for i := 0; ; i++ {
		if res, err := http.Get(url + "/healthz"); err == nil {
			res.Body.Close()
			return url, cmd.Process
		}
		if i == 100 {
			t.Fatalf("server did not start:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// childPID returns the one child process of pid (the KV plugin).
func childPID(t *testing.T, pid int) int {
	t.Helper()
	for range 50 {
		// Any of the process's threads may have started the child.
		files, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
		if err != nil || len(files) == 0 {
			t.Skipf("cannot list child processes of %d: %v", pid, err)
		}
		var kids []string
		for _, f := range files {
			raw, _ := os.ReadFile(f)
			kids = append(kids, strings.Fields(string(raw))...)
		}
		if len(kids) == 1 {
			n, _ := strconv.Atoi(kids[0])
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("process %d has no single child", pid)
	return 0
}

type features struct {
	Results []struct {
		Status   string         `json:"status"`
		Features map[string]any `json:"features"`
	} `json:"results"`
}

// TestServeSurvivesKVPluginKill: with the KV store in a plugin process,
// kill -9 of the plugin under load answers every request (200, with
// _exception features for what the store could not answer), and the
// server serves full answers again within 2 s, by itself.
func TestServeSurvivesKVPluginKill(t *testing.T) {
	dir := servedQuickstart(t, "kv: {process: true}\n")
	// No batch value cache: every request reads the store.
	url, server := startServer(t, dir, "--batch-cache", "-1")
	body := []byte(`[{"user_id": "48"}, {"user_id": "7"}]`)
	post := func() (features, error) {
		var f features
		res, err := http.Post(url+"/v1/features/join/quickstart%2Ftraining_set.v2", "application/json", bytes.NewReader(body))
		if err != nil {
			return f, err
		}
		defer res.Body.Close()
		if res.StatusCode != 200 {
			return f, fmt.Errorf("status %d", res.StatusCode)
		}
		return f, json.NewDecoder(res.Body).Decode(&f)
	}
	complete := func(f features) bool {
		for _, r := range f.Results {
			if r.Status != "Success" || len(r.Features) == 0 {
				return false
			}
			for k := range r.Features {
				if strings.HasSuffix(k, "_exception") {
					return false
				}
			}
		}
		return len(f.Results) == 2
	}
	if f, err := post(); err != nil || !complete(f) {
		t.Fatalf("before the kill: %+v, %v", f, err)
	}
	plugin := childPID(t, server.Pid)

	var (
		stop                   atomic.Bool
		mu                     sync.Mutex
		failures, exceptions   int
		killedAt, lastBad      time.Time
		requests, afterKilling int
		completeAfterBad       int
	)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				f, err := post()
				now := time.Now()
				mu.Lock()
				requests++
				switch {
				case err != nil:
					failures++
				case !complete(f):
					exceptions++
					lastBad, completeAfterBad = now, 0
				default:
					completeAfterBad++
				}
				if !killedAt.IsZero() {
					afterKilling++
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(300 * time.Millisecond)
	mu.Lock()
	killedAt = time.Now()
	mu.Unlock()
	if err := syscall.Kill(plugin, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	// The outage ends with the last answer that had _exception features;
	// full answers follow it.
	outage := lastBad.Sub(killedAt)
	t.Logf("%d requests (%d after the kill), %d with _exception features, %d failed; the last one %v after the kill, then %d full answers",
		requests, afterKilling, exceptions, failures, outage, completeAfterBad)
	if failures > 0 {
		t.Errorf("%d requests failed outright (want 200 with _exception features)", failures)
	}
	if outage > 2*time.Second || completeAfterBad == 0 {
		t.Errorf("not recovered within 2s of the kill: _exception answers until %v after it, %d full answers since", outage, completeAfterBad)
	}
	if err := server.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("server is gone: %v", err)
	}
	if newPlugin := childPID(t, server.Pid); newPlugin == plugin {
		t.Errorf("plugin %d was not replaced", plugin)
	}
	if exceptions == 0 {
		t.Errorf("no request saw the outage")
	}
}

// TestFetchCLI: chronon fetch prints one element of the HTTP results, for
// either name form and type spelling; --at-millis answers as of then.
func TestFetchCLI(t *testing.T) {
	dir := servedQuickstart(t, "")
	url, _ := startServer(t, dir)
	at := "1701392400000" // 2023-12-01 01:00 UTC, one hour after the batch end
	cliOut := mustRun(t, dir, "fetch", "--type", "group-by", "--name", "quickstart.purchases.v1", "-k", `{"user_id": 48}`, "--at-millis", at)
	var one struct {
		Status   string         `json:"status"`
		Features map[string]any `json:"features"`
	}
	if err := json.Unmarshal([]byte(cliOut), &one); err != nil || one.Status != "Success" || len(one.Features) != 10 || one.Features["purchase_price_count_30d"] == nil {
		t.Fatalf("chronon fetch printed %s (err %v)", cliOut, err)
	}
	joinOut := mustRun(t, dir, "fetch", "--name", "quickstart/training_set.v2", "-k", `{"user_id": "48"}`)
	res, err := http.Post(url+"/v1/features/join/quickstart/training_set.v2", "application/json", strings.NewReader(`[{"user_id": "48"}]`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var served struct {
		Results []json.RawMessage `json:"results"`
	}
	if err := json.NewDecoder(res.Body).Decode(&served); err != nil || len(served.Results) != 1 {
		t.Fatalf("server: %v", err)
	}
	var a, b any
	json.Unmarshal([]byte(joinOut), &a)
	json.Unmarshal(served.Results[0], &b)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("chronon fetch and the server differ:\n%s\n%s", joinOut, served.Results[0])
	}
}
