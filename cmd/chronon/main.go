// SPDX-License-Identifier: Apache-2.0

// Command chronon is the chronon-go command line: compile definitions, load
// and inspect warehouse tables, run backfills and uploads, and serve
// features. Run "chronon help" for the commands.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "chronon:", err)
		os.Exit(1)
	}
}
