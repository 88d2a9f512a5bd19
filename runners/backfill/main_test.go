// SPDX-License-Identifier: Apache-2.0

package backfill_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/chronon-go/chronon/plugins/builtin"
)

// builtinEnv makes the test binary serve a built-in plugin (sqlite,
// bigtable) instead of running tests: the KV stores of the consistency test
// run as real plugin processes.
const builtinEnv = "CHRONON_TEST_SERVE_BUILTIN"

func TestMain(m *testing.M) {
	if name := os.Getenv(builtinEnv); name != "" {
		if err := builtin.Serve(name); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
