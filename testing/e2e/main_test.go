// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// chronon is the binary under test, built once by TestMain.
var chronon string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "chronon-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	chronon = filepath.Join(dir, "chronon")
	build := exec.Command("go", "build", "-o", chronon, "github.com/chronon-go/chronon/cmd/chronon")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build chronon:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs chronon in dir and fails the test on error.
func cli(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(chronon, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chronon %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// generate writes the quickstart CSVs into dir with a fixed end date.
func generate(t *testing.T, dir string, extra ...string) {
	t.Helper()
	args := append([]string{"run", "github.com/chronon-go/chronon/examples/quickstart/generate", "--out", dir, "--end-date", "2023-11-30"}, extra...)
	cmd := exec.Command("go", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generate: %v\n%s", err, out)
	}
}
