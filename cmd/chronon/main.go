// SPDX-License-Identifier: Apache-2.0

// Command chronon is the chronon-go command line: compile definitions, load
// and inspect warehouse tables, run backfills and uploads, and serve
// features. Run "chronon help" for the commands.
//
// The binary is also its own Beam worker: a portable runner (prism, Flink,
// Dataflow) starts it with Beam's standard-library flags (--worker,
// --control_endpoint, ...), which cobra must never see.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func main() {
	if beamWorker(os.Args[1:]) {
		flag.Parse()
		beam.Init() // runs the worker harness and exits
		fmt.Fprintln(os.Stderr, "chronon: beam worker exited")
		os.Exit(1)
	}
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "chronon:", err)
		os.Exit(1)
	}
}

// beamWorker reports whether the process was started as a Beam worker.
func beamWorker(args []string) bool {
	for _, a := range args {
		if a == "--worker" || strings.HasPrefix(a, "--worker=") || a == "-worker" {
			return true
		}
	}
	return false
}
