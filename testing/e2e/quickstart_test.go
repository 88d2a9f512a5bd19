// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"net"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestQuickstartScript runs examples/quickstart/quickstart.sh (what `make
// quickstart` runs) against the freshly built binary.
func TestQuickstartScript(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	dir := t.TempDir()
	// Run on a copy so the test leaves the source tree alone.
	cp := exec.Command("cp", "-r", filepath.Join(root, "examples"), filepath.Join(dir, "examples"))
	if out, err := cp.CombinedOutput(); err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	for _, d := range []string{"data", ".chronon", "production"} {
		exec.Command("rm", "-rf", filepath.Join(dir, "examples", "quickstart", d)).Run()
	}
	cmd := exec.Command("bash", filepath.Join(dir, "examples", "quickstart", "quickstart.sh"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pubsubPort := strconv.Itoa(ln2.Addr().(*net.TCPAddr).Port)
	ln.Close()
	ln2.Close()
	cmd.Env = append(cmd.Environ(), "CHRONON="+chronon, "CHRONON_SRC="+root, "END_DATE=2023-11-30", "QUICKSTART_PORT="+port, "QUICKSTART_PUBSUB_PORT="+pubsubPort)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("quickstart.sh: %v\n%s", err, out)
	}
	// Compare with runs of spaces folded: table columns widen with the
	// longest table name.
	folded := strings.Join(strings.Fields(string(out)), " ")
	for _, want := range []string{
		"imported 200 rows into data.checkouts",
		"compiled 4 group_bys, 3 joins, 0 staging_queries",
		"data.purchases 30 2023-11-01 2023-11-30",
		"data.users 1 2023-11-29 2023-11-29 100",
		"quickstart.training_set.v1: computed 1 partitions of default.quickstart_training_set_v1 (200 rows)",
		"default.quickstart_training_set_v1 1 2023-11-30 2023-11-30 200 25",
		"default.quickstart_training_set_v1_quickstart_purchases_v1 1 2023-11-30 2023-11-30 200",
		"quickstart_users_v1_email_verified | ds",
		// chronon fetch, then the server over HTTP. Fetched "now", long
		// after the 2023 batch end, the values are stale (logged) and
		// fixed: what the collapsed IRs hold.
		`"quickstart_purchases_v1_purchase_price_count_30d": 6`,
		`{"results":[{"status":"Success","entityKeys":{"user_id":"48"},"features":{`,
		`"quickstart_returns_v1_refund_amt_count_30d":4`,
		"fetch after the batch value's exact range",
		// A return streamed in now: the 3-day window sees it.
		`-- and after the new return streamed in: "refund_amt_count_3d": 1, "refund_amt_sum_3d": 500`,
	} {
		if !strings.Contains(folded, want) {
			t.Errorf("quickstart output lacks %q:\n%s", want, out)
		}
	}
}
