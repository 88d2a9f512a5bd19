// SPDX-License-Identifier: Apache-2.0

package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8"
)

// TestBar drives the bar display (used on terminals) into a buffer.
func TestBar(t *testing.T) {
	var out bytes.Buffer
	r := newBarReporter(&out, "import", mpb.WithAutoRefresh())
	r.Report(Progress{Phase: "infer", Done: 10, Total: 100, Unit: UnitBytes})
	r.Report(Progress{Phase: "infer", Done: 100, Total: 100, Unit: UnitBytes, Final: true})
	r.Report(Progress{Phase: "load", Done: 3, Total: 10, Unit: "rows"})
	r.Close()
	if !strings.Contains(out.String(), "infer") {
		t.Errorf("bar output %q lacks the phase", out.String())
	}
}

func TestLogLines(t *testing.T) {
	var out bytes.Buffer
	r := NewReporter(&out, nil, time.Nanosecond, "backfill")
	r.Report(Progress{Phase: "compute", Done: 1, Total: 3, Unit: "partitions"})
	time.Sleep(time.Millisecond)
	r.Report(Progress{Phase: "compute", Done: 2, Total: 3, Unit: "partitions"})
	r.Report(Progress{Phase: "compute", Done: 3, Total: 3, Unit: "partitions", Final: true})
	r.Close()
	for _, want := range []string{"backfill progress", "backfill phase done", "percent=66", "unit=partitions"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("log %q lacks %q", out.String(), want)
		}
	}
}
