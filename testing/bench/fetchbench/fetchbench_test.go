// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// TestQuickEndToEnd runs `fetchbench --quick` for real: the quickstart set
// up with the chronon binary CHRONON_BENCH_BIN names, `chronon serve`, the
// three attacks. It needs that binary (with the serve command) and is not
// short: it takes a minute or so, mostly the setup.
//
//	go build -o /tmp/chronon ./cmd/chronon
//	CHRONON_BENCH_BIN=/tmp/chronon go test -run TestQuickEndToEnd -v ./testing/bench/fetchbench
func TestQuickEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("not in -short mode: sets up the quickstart and load-tests chronon serve")
	}
	bin := os.Getenv("CHRONON_BENCH_BIN")
	if bin == "" {
		t.Skip("CHRONON_BENCH_BIN is not set: it names the chronon binary to set up the quickstart with and serve")
	}
	var out bytes.Buffer
	r, err := run(context.Background(), []string{"--quick", "--chronon", bin}, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	// The latency target is not checked here (a smoke run on a shared
	// machine); the correctness of every answer is.
	for _, s := range []stats{r.Ping, r.Fetch, r.KV} {
		if s.Requests != 600 || s.Errors != 0 {
			t.Errorf("%s: %d requests, %d errors: %v", s.Name, s.Requests, s.Errors, s.ErrorKinds)
		}
	}
	if r.KVFound == 0 {
		t.Error("no KV read found a value: the upload did not reach the store?")
	}
	if !strings.Contains(out.String(), "ratio fetch/ping p99:") {
		t.Error("no ratio printed")
	}
}
