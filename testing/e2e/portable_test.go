// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestPortableJobServer runs a backfill the way Flink runs us: Beam's prism
// as a separate job server process, the SDK's worker pool (Beam's Go boot
// program) as a separate process, and the chronon binary staged to the pool
// as the worker, started with Beam's --worker flags. Its output must equal
// the in-process direct runner's.
func TestPortableJobServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds Beam's prism and boot programs")
	}
	// The worker pool listens on Beam's fixed port 50000.
	if l, err := net.Listen("tcp", "localhost:50000"); err != nil {
		t.Skipf("port 50000 (Beam's worker pool) is busy: %v", err)
	} else {
		l.Close()
	}
	bin := t.TempDir()
	build := func(name, pkg string) string {
		out := filepath.Join(bin, name)
		if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", pkg, err, b)
		}
		return out
	}
	prism := build("prism", "github.com/apache/beam/sdks/v2/go/cmd/prism")
	boot := build("boot", "github.com/apache/beam/sdks/v2/go/container")

	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	start := func(name string, args ...string) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = bin
		log, err := os.Create(filepath.Join(bin, filepath.Base(name)+".log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = log, log
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		t.Cleanup(func() {
			cancel()
			cmd.Wait()
			log.Close()
			if t.Failed() {
				b, _ := os.ReadFile(log.Name())
				t.Logf("%s log:\n%s", filepath.Base(name), b)
			}
		})
	}
	start(prism, "--job_port", strconv.Itoa(port), "--web_port", strconv.Itoa(freePort(t)))
	start(boot, "--worker_pool")
	waitPort(t, port)
	waitPort(t, 50000)

	dir := quickstartDir(t, nil)
	conf := "quickstart.training_set.v1"
	mustRun(t, dir, "backfill", "--conf", conf, "--runner", "flink",
		"--endpoint", fmt.Sprintf("localhost:%d", port),
		"--environment-type", "EXTERNAL", "--environment-config", "localhost:50000",
		"--worker-binary", chronon)
	got := tableRows(t, dir, "default.quickstart_training_set_v1")

	ref := quickstartDir(t, nil)
	mustRun(t, ref, "backfill", "--conf", conf)
	want := tableRows(t, ref, "default.quickstart_training_set_v1")
	if len(want) == 0 {
		t.Fatal("the direct runner wrote no rows")
	}
	if d := diffRows(got, want); d != "" {
		t.Fatalf("job server output differs from the direct runner's:\n%s", d)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "localhost:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func waitPort(t *testing.T, port int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", fmt.Sprintf("localhost:%d", port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("nothing listens on port %d after 30 s", port)
}
