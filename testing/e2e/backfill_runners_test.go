// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestBackfillPrismEqualsDirect runs the quickstart training set and a
// group-by's daily snapshots on prism (the portable runner, which executes
// the graph as Dataflow and Flink do, with the chronon binary's own
// worker code) and on the direct runner, in two copies of one warehouse,
// and checks the tables are identical.
func TestBackfillPrismEqualsDirect(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two backfills on each runner")
	}
	base := quickstartDir(t, nil, "--rows-scale", "10")
	tmp := t.TempDir()
	type runOutput struct{ join, gb []string }
	outputs := map[string]runOutput{}
	for _, runner := range []string{"direct", "prism"} {
		dir := filepath.Join(tmp, runner)
		copyTree(t, base, dir)
		_, stderr, err := run(t, dir, "backfill", "--conf", "quickstart.training_set.v1", "--runner", runner)
		if err != nil {
			t.Fatalf("%s: backfill: %v\n%s", runner, err, stderr)
		}
		if !strings.Contains(stderr, "runner="+runner) {
			t.Errorf("%s: the log does not name the runner:\n%s", runner, stderr)
		}
		out := mustRun(t, dir, "groupby-backfill", "--conf", "quickstart.purchases.v1", "--runner", runner)
		if !strings.Contains(out, "computed 30 partitions of default.quickstart_purchases_v1") {
			t.Errorf("%s: groupby-backfill: %s", runner, out)
		}
		outputs[runner] = runOutput{
			join: tableRows(t, dir, "default.quickstart_training_set_v1"),
			gb:   tableRows(t, dir, "default.quickstart_purchases_v1"),
		}
	}
	d, p := outputs["direct"], outputs["prism"]
	if len(d.join) != 2000 {
		t.Errorf("direct: %d training rows, want 2000", len(d.join))
	}
	if !slices.Equal(p.join, d.join) {
		t.Errorf("prism's training set differs from direct's:\n%s", diffRows(p.join, d.join))
	}
	if len(d.gb) == 0 || !slices.Equal(p.gb, d.gb) {
		t.Errorf("prism's purchases snapshots (%d rows) differ from direct's (%d):\n%s", len(p.gb), len(d.gb), diffRows(p.gb, d.gb))
	}
}

// noCredentials keeps the Google Cloud client libraries from finding
// credentials (and so from calling out): a dry run must work offline.
func noCredentials(dir string) []string {
	return []string{
		"GOOGLE_APPLICATION_CREDENTIALS=" + filepath.Join(dir, "no-such-credentials.json"),
		"CLOUDSDK_CONFIG=" + filepath.Join(dir, "no-gcloud"),
	}
}

// TestBackfillDataflowDryRun translates the quickstart training set into a
// Dataflow job without submitting it (no network, no credentials), with
// and without a staging location: the command succeeds, prints the dry run
// line, logs the job and writes nothing.
func TestBackfillDataflowDryRun(t *testing.T) {
	dir := quickstartDir(t, nil)
	wh := warehouseDir(dir)
	const dryRunLine = "quickstart.training_set.v1: dry run: 1 partitions of default.quickstart_training_set_v1 would be computed\n"
	for _, tc := range []struct {
		name    string
		extra   []string
		staging string // the job's temp storage prefix
	}{
		{"without staging location", nil, "gs://"},
		{"with staging location", []string{"--staging-location", "gs://chronon-dry-run/staging"}, "gs://chronon-dry-run/staging/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"backfill", "--runner", "dataflow", "--project", "p", "--region", "us-central1", "--dry-run",
				"--conf", "quickstart.training_set.v1", "--log-format", "json"}, tc.extra...)
			out, stderr, err := runEnv(t, dir, noCredentials(dir), args...)
			if err != nil {
				t.Fatalf("dry run: %v\n%.4000s", err, stderr)
			}
			if out != dryRunLine {
				t.Errorf("stdout = %q, want %q", out, dryRunLine)
			}
			var started bool
			var job map[string]any
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				var l struct{ Msg, Runner string }
				if err := json.Unmarshal([]byte(line), &l); err != nil {
					t.Errorf("stderr line is not JSON: %.200q", line)
					continue
				}
				started = started || (l.Msg == "backfill" && l.Runner == "dataflow")
				// Beam logs the job as indented JSON.
				var j map[string]any
				if strings.HasPrefix(l.Msg, "{") && json.Unmarshal([]byte(l.Msg), &j) == nil && j["type"] != nil {
					job = j
				}
			}
			if !started {
				t.Errorf("no backfill log line naming the dataflow runner:\n%.4000s", stderr)
			}
			if job == nil {
				t.Fatalf("no Dataflow job logged:\n%.4000s", stderr)
			}
			env, _ := job["environment"].(map[string]any)
			sdk, _ := env["sdkPipelineOptions"].(map[string]any)
			opts, _ := sdk["options"].(map[string]any)
			pools, _ := env["workerPools"].([]any)
			prefix, _ := env["tempStoragePrefix"].(string)
			if job["type"] != "JOB_TYPE_BATCH" || job["projectId"] != "p" || opts["region"] != "us-central1" ||
				len(pools) == 0 || !strings.HasPrefix(prefix, tc.staging) {
				t.Errorf("job: type %v, project %v, region %v, %d worker pools, temp storage %q; want a batch job in p, us-central1, under %s",
					job["type"], job["projectId"], opts["region"], len(pools), prefix, tc.staging)
			}
			if _, ok := tableFiles(t, wh, "default.quickstart_training_set_v1"); ok {
				t.Error("a dry run wrote the output table")
			}
			if left := dirEntries(t, filepath.Join(wh, ".scratch")); len(left) > 0 {
				t.Errorf("a dry run left scratch: %v", left)
			}
		})
	}
}
