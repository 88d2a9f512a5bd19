// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// freeAddr returns a free loopback address.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startBackground starts chronon in dir with env; it is killed when the
// test ends. ready, when set, is a line its stderr must show first.
func startBackground(t *testing.T, dir string, env []string, ready string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(chronon, args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	logPath := filepath.Join(t.TempDir(), "log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr, cmd.Stdout = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("chronon %s log:\n%s", strings.Join(args, " "), b)
		}
	})
	for i := 0; ready != ""; i++ {
		if b, _ := os.ReadFile(logPath); bytes.Contains(b, []byte(ready)) {
			break
		}
		if i == 200 {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("chronon %s did not print %q:\n%s", strings.Join(args, " "), ready, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cmd
}

// TestStreamKilledAndRestarted: events published while `chronon stream`
// runs, is killed with SIGKILL and is started again are all counted, each
// once.
func TestStreamKilledAndRestarted(t *testing.T) {
	dir := quickstartDir(t, nil)
	mustRun(t, dir, "upload", "--conf", "quickstart.returns.v1", "--ds", "2023-11-30")
	emulator := freeAddr(t)
	env := []string{"PUBSUB_EMULATOR_HOST=" + emulator}
	startBackground(t, dir, nil, "pubsub emulator running", "dev", "pubsub", "--addr", emulator)
	job := startBackground(t, dir, env, "msg=streaming", "stream", "--conf", "quickstart.returns.v1")

	batchEnd := int64(1701388800000) // 2023-12-01
	at := batchEnd + 2*3600*1000
	users := []string{"u-1", "u-2", "u-3", "u-4", "u-5"}
	count := func(user string) int {
		stdout, _, err := runEnv(t, dir, env, "fetch", "--type", "groupby", "--name", "quickstart.returns.v1",
			"-k", fmt.Sprintf(`{"user_id": %q}`, user), "--at-millis", fmt.Sprint(at))
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			Features map[string]any `json:"features"`
		}
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("fetch printed %s: %v", stdout, err)
		}
		n, _ := r.Features["refund_amt_count_3d"].(float64)
		return int(n)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	want := map[string]int{}
	publish := func(n int) {
		var b strings.Builder
		for i := 0; i < n; i++ {
			u := users[rng.IntN(len(users))]
			want[u]++
			fmt.Fprintf(&b, "%d,R%d,%s,P1,%d\n", batchEnd+rng.Int64N(3600*1000), rng.Int64(), u, 1+rng.IntN(100))
		}
		file := filepath.Join(t.TempDir(), "events.csv")
		writeFile(t, file, b.String())
		if _, stderr, err := runEnv(t, dir, env, "publish", "--topic", "events.returns/fields=ts,return_id,user_id,product_id,refund_amt", "--file", file); err != nil {
			t.Fatalf("publish: %v\n%s", err, stderr)
		}
	}
	publish(150)
	time.Sleep(50 * time.Millisecond) // part of it folded, part in flight
	if err := job.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	job.Wait()
	publish(150)
	startBackground(t, dir, env, "msg=streaming", "stream", "--conf", "quickstart.returns.v1")
	// Messages the killed job held come back after their ack deadline.
	deadline := time.Now().Add(40 * time.Second)
	for {
		got := map[string]int{}
		for _, u := range users {
			got[u] = count(u)
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		for u := range got {
			if got[u] > want[u] {
				t.Fatalf("counted twice: %v, want %v", got, want)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 40s: counts %v, want %v", got, want)
		}
		time.Sleep(500 * time.Millisecond)
	}
}
