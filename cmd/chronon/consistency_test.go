// SPDX-License-Identifier: Apache-2.0

package main

import (
	"strings"
	"testing"
)

// TestConsistencyNeedsFlattenedLogs: on the quickstart without served
// logs, consistency fails (a non-zero exit) and says which command to run;
// a malformed day and a missing --ds are refused.
func TestConsistencyNeedsFlattenedLogs(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, "../../examples/quickstart", dir)
	mustRun(t, dir, "compile")
	_, _, err := run(t, dir, "consistency", "--conf", "quickstart.training_set.v2", "--ds", "2023-12-01")
	if err == nil || !strings.Contains(err.Error(), "default.quickstart_training_set_v2_logged does not exist") ||
		!strings.Contains(err.Error(), "chronon log-flatten --conf quickstart.training_set.v2 --end-ds 2023-12-01") {
		t.Errorf("err %v", err)
	}
	if _, _, err := run(t, dir, "consistency", "--conf", "quickstart.training_set.v2", "--ds", "12/01/2023"); err == nil || !strings.Contains(err.Error(), "not a YYYY-MM-DD day") {
		t.Errorf("bad --ds: %v", err)
	}
	if _, _, err := run(t, dir, "consistency", "--conf", "quickstart.training_set.v2"); err == nil || !strings.Contains(err.Error(), `"ds" not set`) {
		t.Errorf("no --ds: %v", err)
	}
}
