// SPDX-License-Identifier: Apache-2.0

//go:build cgo

package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestStagingQuery(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "p.csv"), "ds,user_id,price\n2023-11-01,5,10\n2023-11-01,5,2\n2023-11-01,6,12\n2023-11-03,5,7\n")
	mustRun(t, dir, "import", "--table", "data.purchases", "--file", "p.csv", "--ds-column", "ds", "--schema", "user_id:string")
	writeFile(t, filepath.Join(dir, "staging_queries/team/daily.yaml"), `v1:
  output_namespace: out
  start_partition: "2023-11-01"
  query: >-
    SELECT user_id, sum(price) AS total, ds FROM data.purchases
    WHERE ds BETWEEN '{{ start_date }}' AND '{{ end_date }}' GROUP BY user_id, ds
`)
	mustRun(t, dir, "compile")

	out := mustRun(t, dir, "staging-query", "--conf", "production/staging_queries/team/daily.v1", "--end-ds", "2023-11-03", "--step-days", "2")
	if want := "computed 3 partitions of out.team_daily_v1: 2023-11-01..2023-11-03 (3 rows, 2 queries)\n"; out != want {
		t.Errorf("staging-query output %q, want %q", out, want)
	}
	out = mustRun(t, dir, "show", "--table", "out.team_daily_v1", "--format", "csv", "--limit", "0")
	if want := "user_id,total,ds\n5,12,2023-11-01\n6,12,2023-11-01\n5,7,2023-11-03\n"; out != want {
		t.Errorf("output table:\n%s\nwant\n%s", out, want)
	}
	out = mustRun(t, dir, "staging-query", "--conf", "team.daily.v1", "--end-ds", "2023-11-03")
	if want := "computed 0 partitions of out.team_daily_v1: up to date through 2023-11-03\n"; out != want {
		t.Errorf("rerun output %q, want %q", out, want)
	}
	out = mustRun(t, dir, "staging-query", "--conf", "team.daily.v1", "--end-ds", "2023-11-04")
	if want := "computed 1 partition of out.team_daily_v1: 2023-11-04 (0 rows, 1 query)\n"; out != want {
		t.Errorf("next day output %q, want %q", out, want)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"staging-query", "--end-ds", "2023-11-03"}, `"conf" not set`},
		{[]string{"staging-query", "--conf", "team.nope.v1"}, "no definition of that name under production/{staging_queries}/"},
		{[]string{"staging-query", "--conf", "team.daily.v1", "--end-ds", "2023-13-01"}, `staging query team.daily.v1: bad end partition "2023-13-01"`},
	} {
		_, _, err := run(t, dir, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("chronon %v: error %v, want %q", tc.args, err, tc.want)
		}
	}

	// A query over a missing table fails, naming the staging query.
	writeFile(t, filepath.Join(dir, "staging_queries/team/broken.yaml"), `v1:
  start_partition: "2023-11-01"
  query: SELECT user_id, ds FROM data.nope
`)
	mustRun(t, dir, "compile")
	_, _, err := run(t, dir, "staging-query", "--conf", "team.broken.v1", "--end-ds", "2023-11-01")
	if err == nil || !strings.Contains(err.Error(), "staging query team.broken.v1: query for 2023-11-01..2023-11-01") || !strings.Contains(err.Error(), "nope") {
		t.Errorf("broken query: %v", err)
	}
	if out := mustRun(t, dir, "tables"); strings.Contains(out, "team_broken_v1") {
		t.Errorf("broken query wrote a table:\n%s", out)
	}
}
