// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// module is the path of the module whose source tree holds the quickstart.
const module = "github.com/chronon-go/chronon"

// srcRoot returns the source tree of the module: dir if set, else the
// first directory from the working directory up with the module's go.mod.
func srcRoot(dir string) (string, error) {
	if dir != "" {
		return filepath.Abs(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && bytes.HasPrefix(b, []byte("module "+module+"\n")) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod of %s in %s or above it (set --src or CHRONON_SRC)", module, wd)
		}
	}
}

// binary resolves the chronon binary's path: absolute, since the commands
// run in another directory.
func binary(path string) (string, error) {
	if !strings.ContainsRune(path, filepath.Separator) {
		return exec.LookPath(path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(abs); err != nil {
		return "", fmt.Errorf("chronon binary: %w (make build writes bin/chronon)", err)
	}
	return abs, nil
}

// command runs name with args in dir and returns an error with its output
// if it fails.
func command(ctx context.Context, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return nil
}

// setupQuickstart makes dir a quickstart repository ready to serve
// quickstart/training_set.v2, as examples/quickstart/quickstart.sh does
// but without the backfill: it copies the definitions, generates the data
// ending on endDate, imports it, compiles, uploads the event GroupBys'
// batch values of endDate and the definitions to the KV store.
func setupQuickstart(ctx context.Context, chronon, src, dir, endDate string) error {
	qs := filepath.Join(src, "examples", "quickstart")
	for _, d := range []string{"group_bys", "joins"} {
		if err := os.CopyFS(filepath.Join(dir, d), os.DirFS(filepath.Join(qs, d))); err != nil {
			return fmt.Errorf("copy the quickstart's %s: %w", d, err)
		}
	}
	// v2 logs every fetch (sample_percent: 100); v2_unlogged is v2 without
	// logging, to measure what logging costs in the same run.
	ts, err := os.OpenFile(filepath.Join(dir, "joins", "quickstart", "training_set.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = ts.WriteString("\nv2_unlogged:\n  online: true\n  left: *checkouts\n  join_parts:\n    - group_by: quickstart.purchases.v1\n    - group_by: quickstart.returns.v1\n  external_parts:\n    - contextual: {return_id: string}\n")
	if cerr := ts.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("add the unlogged join: %w", err)
	}
	teams, err := os.ReadFile(filepath.Join(qs, "teams.json"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "teams.json"), teams, 0o644); err != nil {
		return err
	}
	if err := command(ctx, src, "go", "run", "./examples/quickstart/generate", "--out", filepath.Join(dir, "data"), "--end-date", endDate); err != nil {
		return err
	}
	// The quickstart script's schemas.
	ids := "user_id:string,product_id:string"
	steps := [][]string{
		{"import", "--table", "data.purchases", "--file", "data/purchases.csv", "--ds-column", "ds", "--schema", "purchase_id:string," + ids},
		{"import", "--table", "data.returns", "--file", "data/returns.csv", "--ds-column", "ds", "--schema", "return_id:string," + ids},
		{"import", "--table", "data.users", "--file", "data/users.csv", "--ds-column", "ds", "--schema", "user_id:string,account_created_ds:string,email_verified:string"},
		{"import", "--table", "data.checkouts", "--file", "data/checkouts.csv", "--ds-column", "ds", "--schema", "return_id:string," + ids},
		{"compile"},
		{"upload", "--conf", "quickstart.purchases.v1", "--ds", endDate},
		{"upload", "--conf", "quickstart.returns.v1", "--ds", endDate},
		{"metadata-upload"},
	}
	for _, args := range steps {
		if err := command(ctx, dir, chronon, args...); err != nil {
			return err
		}
	}
	return nil
}

// readUsers returns the user ids of the quickstart's users table
// (data/users.csv), each once.
func readUsers(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, "data", "users.csv"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	col := -1
	for i, h := range header {
		if h == "user_id" {
			col = i
		}
	}
	if col < 0 {
		return nil, fmt.Errorf("%s: no user_id column in %q", f.Name(), header)
	}
	var users []string
	seen := map[string]bool{}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name(), err)
		}
		if u := rec[col]; !seen[u] {
			seen[u] = true
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s: no users", f.Name())
	}
	return users, nil
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// server is a running `chronon serve`.
type server struct {
	cmd  *exec.Cmd
	log  string        // its stdout and stderr
	done chan struct{} // closed when it exited
	err  error         // its exit, once done
}

// startServer starts `chronon serve --addr addr` in dir, its output to
// logPath.
func startServer(chronon, dir, addr, logPath string) (*server, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(chronon, "serve", "--addr", addr)
	cmd.Dir = dir
	// No bearer token: the requests carry none.
	cmd.Env = slices.DeleteFunc(cmd.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "CHRONON_AUTH_TOKEN=") })
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	s := &server{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		log.Close()
		close(s.done)
	}()
	return s, nil
}

// exited reports whether the server exited.
func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// stop stops the server: SIGTERM, then SIGKILL if it has not exited 10s
// later.
func (s *server) stop() {
	if s.exited() {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// logTail returns the last n lines of the server's output.
func (s *server) logTail(n int) string {
	b, _ := os.ReadFile(s.log)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "\n")
}

// waitHealthy polls base/healthz until it answers 200. It fails when the
// server exits first (s may be nil: a server not started here) or after
// timeout.
func waitHealthy(ctx context.Context, base string, s *server, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(timeout)
	last := errors.New("no answer yet")
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err != nil {
			last = err
		} else {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = errors.New(resp.Status)
		}
		if s != nil && s.exited() {
			return fmt.Errorf("chronon serve exited (%v) before %s/healthz answered 200; its output:\n%s", s.err, base, s.logTail(30))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s/healthz did not answer 200 within %s: %v", base, timeout, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
