// SPDX-License-Identifier: Apache-2.0

package backfill_test

import (
	"os"
	"testing"

	"github.com/chronon-go/chronon/plugins/builtin"
)

// builtinEnv makes the test binary serve a built-in plugin (sqlite,
// bigtable) instead of running tests: the KV stores of the consistency test
// run as real plugin processes.
const builtinEnv = "CHRONON_TEST_SERVE_BUILTIN"

func TestMain(m *testing.M) {
	builtin.ServeFromEnv(builtinEnv)
	os.Exit(m.Run())
}
