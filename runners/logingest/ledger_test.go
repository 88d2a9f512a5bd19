// SPDX-License-Identifier: Apache-2.0

package logingest

import (
	"fmt"
	"testing"
)

// TestLedger: the ledger keeps the last window ids across encodings and
// rejects a value that is not one.
func TestLedger(t *testing.T) {
	l, err := parseLedger("")
	if err != nil || l.has("m1") {
		t.Fatalf("empty ledger: %v", err)
	}
	var ids []string
	for i := range 10 {
		ids = append(ids, fmt.Sprintf("m%d", i))
	}
	l, err = parseLedger(l.with(ids[:6], 8))
	if err != nil {
		t.Fatal(err)
	}
	l, err = parseLedger(l.with(ids[6:], 8))
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if l.has(id) != (i >= 2) {
			t.Errorf("has(%s) = %v with a window of 8 of 10", id, l.has(id))
		}
	}
	for _, bad := range []string{"%%", "AAAA"} {
		if _, err := parseLedger(bad); err == nil {
			t.Errorf("parseLedger(%q) succeeded", bad)
		}
	}
}
