// SPDX-License-Identifier: Apache-2.0

package config

import (
	"strings"
	"testing"
)

func TestOrchestration(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       Orchestration
		err        string
	}{
		{name: "defaults", yaml: "", want: Orchestration{Parallelism: 4, WaitTimeout: "1h", PollInterval: "30s", DagStartDate: "2023-01-01",
			Retention: Retention{BatchVersions: 3, StreamingSlackDays: 1, LogTTLDays: 30}}},
		{name: "set", yaml: `
orchestration:
  parallelism: 2
  wait_timeout: 10m
  poll_interval: 5s
  dag_start_date: "2024-01-01"
  retention: {batch_versions: 7, streaming_slack_days: -1, log_ttl_days: 90}
`, want: Orchestration{Parallelism: 2, WaitTimeout: "10m", PollInterval: "5s", DagStartDate: "2024-01-01",
			Retention: Retention{BatchVersions: 7, StreamingSlackDays: -1, LogTTLDays: 90}}},
		{name: "bad duration", yaml: "orchestration: {wait_timeout: soon}", err: `orchestration.wait_timeout: "soon" is not a positive duration`},
		{name: "unknown key", yaml: "orchestration: {paralelism: 2}", err: "paralelism"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), "/etc/chronon")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse = %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Orchestration != tc.want {
				t.Errorf("orchestration %+v, want %+v", c.Orchestration, tc.want)
			}
		})
	}
}
