// SPDX-License-Identifier: Apache-2.0

package stream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/direct"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	pb "google.golang.org/genproto/googleapis/pubsub/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
	core "github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/config"
	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
	"github.com/chronon-go/chronon/runners/beamrun"
	"github.com/chronon-go/chronon/runners/stream"
	"github.com/chronon-go/chronon/testing/oracle"
	"github.com/chronon-go/chronon/transforms"
)

// sqliteStore opens a SQLite store in a temporary directory holding the
// batch value of user a (x = 100, ten minutes before the batch end).
func sqliteStore(t *testing.T, g *api.GroupBy) (kv.Store, config.KV, map[string][]oracle.Event) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kv.db")
	store, err := sqlite.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	gb, err := core.CompileGroupBy(g, selected, agg.ExactTails)
	if err != nil {
		t.Fatal(err)
	}
	uploadBatch(t, store, g, gb, map[string][]agg.Event{"a": {{Ts: batchEnd - 10*60*1000, Values: []any{int64(100)}}}})
	valid := map[string][]oracle.Event{"a": {{Ts: batchEnd - 10*60*1000, Values: map[string]any{"x": int64(100)}}}}
	return store, config.KV{Store: "sqlite", Path: path}, valid
}

// checkFetches compares fetched values with the oracle's at random times
// after the batch end.
func checkFetches(t *testing.T, store kv.Store, g *api.GroupBy, valid map[string][]oracle.Event, rng *rand.Rand) {
	t.Helper()
	f := fetcher.New(store, fetcher.Options{})
	for q := 0; q < 40; q++ {
		u := []string{"a", "b"}[rng.IntN(2)]
		T := batchEnd + rng.Int64N(4*hour)
		res := f.FetchGroupBy(context.Background(), []fetcher.Request{{Name: g.MetaData.GetName(), Keys: map[string]any{"user": u}, AtMillis: T}})[0]
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		for _, part := range g.AggregationParts() {
			col := part.OutputColumnName()
			if err := oracle.Check(part, arrow.PrimitiveTypes.Int64, valid[u], T, oracle.Exact, res.Values[col], oracle.CheckOptions{}); err != nil {
				t.Errorf("user %s at batch end + %dms: %s: %v", u, T-batchEnd, col, err)
			}
		}
	}
}

// counters returns the chronon.stream counters recorded in ctx.
func counters(ctx context.Context) map[string]int64 {
	out := map[string]int64{}
	for _, c := range metrics.ResultsExtractor(ctx).AllMetrics().Counters() {
		if c.Namespace() == transforms.StreamNamespace {
			out[c.Name()] += c.Result()
		}
	}
	return out
}

// TestFoldFn drives two FoldFn instances (two Dataflow workers) by hand,
// bundle by bundle, over events of two users, with redeliveries (also to
// the other instance) and a payload that no longer decodes: tiles written
// by one instance are seen by the other in its next bundle, redeliveries
// count once, the bad payload is counted as malformed, and fetches equal
// the oracle.
func TestFoldFn(t *testing.T) {
	ctx := context.Background()
	g := streamedGroupBy()
	store, kvConf, valid := sqliteStore(t, g)
	job, err := transforms.NewStreamJob(g, table, "exact", "p", kvConf)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := job.Encode()
	if err != nil {
		t.Fatal(err)
	}
	var workers [2]*stream.FoldFn
	for i := range workers {
		workers[i] = &stream.FoldFn{Job: spec}
		if err := workers[i].Setup(ctx); err != nil {
			t.Fatal(err)
		}
		defer workers[i].Teardown()
	}
	rng := rand.New(rand.NewPCG(7, 7))
	var sent []transforms.StreamEvent
	event := func() transforms.StreamEvent {
		u := []string{"a", "b"}[rng.IntN(2)]
		ts, x := batchEnd+rng.Int64N(3*hour), rng.Int64N(30)
		valid[u] = append(valid[u], oracle.Event{Ts: ts, Values: map[string]any{"x": x}})
		e := transforms.StreamEvent{ID: fmt.Sprint("m", len(sent)), DS: batch.DSOfMillis(ts), Data: fmt.Appendf(nil, "%d,%s,%d", ts, u, x)}
		sent = append(sent, e)
		return e
	}
	mctx := metrics.SetPTransformID(metrics.SetBundleID(ctx, "bundle"), "fold")
	redelivered, malformed := 0, 0
	for b := 0; b < 30; b++ {
		w := workers[b%2]
		w.StartBundle(mctx)
		// A bundle holds one or more keys' groups; their events are mixed
		// here: FoldFn ignores the key.
		for k := 0; k < 1+rng.IntN(3); k++ {
			var group [][]byte
			for n := 1 + rng.IntN(8); n > 0; n-- {
				switch r := rng.IntN(10); {
				case r == 0 && len(sent) > 0:
					group = append(group, sent[rng.IntN(len(sent))].Encode())
					redelivered++
				case r == 1:
					group = append(group, transforms.StreamEvent{ID: fmt.Sprint("bad", b), DS: "2024-10-02", Data: []byte("1,a,lots")}.Encode())
					malformed++
				default:
					group = append(group, event().Encode())
				}
			}
			if err := w.ProcessElement(mctx, []byte("key"), iter(group)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.FinishBundle(mctx); err != nil {
			t.Fatal(err)
		}
	}
	got := counters(mctx)
	if want := map[string]int64{"events": int64(len(sent)), "duplicates": int64(redelivered), "malformed": int64(malformed)}; got["events"] != want["events"] ||
		got["duplicates"] != want["duplicates"] || got["malformed"] != want["malformed"] || got["tiles"] == 0 {
		t.Errorf("counters %v, want %v and some tiles", got, want)
	}
	if redelivered == 0 || malformed == 0 {
		t.Fatalf("the test must see redeliveries (%d) and malformed payloads (%d)", redelivered, malformed)
	}
	checkFetches(t, store, g, valid, rng)
}

// iter is a Beam iterator over values.
func iter(values [][]byte) func(*[]byte) bool {
	return func(b *[]byte) bool {
		if len(values) == 0 {
			return false
		}
		*b, values = slices.Clone(values[0]), values[1:]
		return true
	}
}

// TestKeyAndFoldOnDirectRunner runs the streaming pipeline but its Pub/Sub
// read and write (Dataflow only) on the direct runner: messages, with
// redeliveries, malformed and filtered ones, go through
// transforms.KeyStreamEvents and stream.Fold into the store, and the Beam
// counters count them.
func TestKeyAndFoldOnDirectRunner(t *testing.T) {
	ctx := context.Background()
	g := streamedGroupBy()
	store, kvConf, valid := sqliteStore(t, g)
	job, err := transforms.NewStreamJob(g, table, "exact", "p", kvConf)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	var msgs []any
	events := 0
	for i := 0; i < 200; i++ {
		u := []string{"a", "b"}[rng.IntN(2)]
		ts, x := batchEnd+rng.Int64N(3*hour), rng.Int64N(30)
		m := &pb.PubsubMessage{MessageId: fmt.Sprint(i), PublishTime: timestamppb.New(time.UnixMilli(ts)), Data: fmt.Appendf(nil, "%d,%s,%d", ts, u, x)}
		switch i % 20 {
		case 0:
			m.Data = fmt.Appendf(nil, "%d,%s,lots", ts, u)
		case 1:
			m.Data = fmt.Appendf(nil, "%d,%s,-1", ts, u) // the wheres
		default:
			events++
			valid[u] = append(valid[u], oracle.Event{Ts: ts, Values: map[string]any{"x": x}})
		}
		msgs = append(msgs, m)
		if i%25 == 3 {
			msgs = append(msgs, m) // redelivered
		}
	}
	beamrun.Init()
	p, s := beam.NewPipelineWithRoot()
	grouped, dead, err := transforms.KeyStreamEvents(s, job, beam.Create(s, msgs...))
	if err != nil {
		t.Fatal(err)
	}
	passert.Count(s, dead, "dead letters", 10)
	if err := stream.Fold(s, job, grouped); err != nil {
		t.Fatal(err)
	}
	res, err := direct.Execute(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Namespace() == transforms.StreamNamespace {
			got[c.Name()] += c.Result()
		}
	}
	if got["events"] != int64(events) || got["duplicates"] != 8 || got["malformed"] != 10 || got["filtered"] != 10 {
		t.Errorf("counters %v, want %d events, 8 duplicates, 10 malformed and 10 filtered", got, events)
	}
	checkFetches(t, store, g, valid, rng)
}

// TestDataflowDryRun translates the streaming pipeline into a Dataflow job
// without submitting it (no network, no credentials): a streaming job on
// the streaming engine whose pipeline reads the GroupBy's subscription
// with pubsubio and writes the dead-letter topic.
func TestDataflowDryRun(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(dir, "no-such-credentials.json"))
	t.Setenv("CLOUDSDK_CONFIG", filepath.Join(dir, "no-gcloud"))
	var logs bytes.Buffer
	connected := false
	err := stream.RunDataflow(context.Background(), streamedGroupBy(), stream.DataflowOptions{
		Table: table, WindowTail: "exact", PubSubProject: "events-project",
		KV:      config.KV{Store: "bigtable", Project: "p", Instance: "features"},
		Runner:  beamrun.Options{Runner: beamrun.Dataflow, Project: "p", Region: "us-central1", DryRun: true},
		Log:     slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Connect: func(context.Context) (*pubsub.Client, error) { connected = true; return nil, fmt.Errorf("no") },
	})
	if err != nil {
		t.Fatalf("dry run: %v\n%.4000s", err, logs.String())
	}
	if connected {
		t.Error("a dry run connected to Pub/Sub")
	}
	var job map[string]any
	var model string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var l struct{ Msg string }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line is not JSON: %.200q", line)
		}
		var j map[string]any
		switch {
		case strings.HasPrefix(l.Msg, "{") && json.Unmarshal([]byte(l.Msg), &j) == nil && j["type"] != nil:
			job = j
		case strings.Contains(l.Msg, "beam:transform:pubsub_read:v1"):
			model = l.Msg
		}
	}
	if job == nil || model == "" {
		t.Fatalf("no Dataflow job (%v) or pipeline (%d bytes) logged:\n%.4000s", job != nil, len(model), logs.String())
	}
	env, _ := job["environment"].(map[string]any)
	sdk, _ := env["sdkPipelineOptions"].(map[string]any)
	opts, _ := sdk["options"].(map[string]any)
	experiments, _ := opts["experiments"].([]any)
	if job["type"] != "JOB_TYPE_STREAMING" || job["projectId"] != "p" || job["name"] != "chronon-stream-t-clicks" ||
		opts["region"] != "us-central1" || !slices.Contains(experiments, any("enable_streaming_engine")) {
		t.Errorf("job: type %v, project %v, name %v, region %v, experiments %v; want a streaming job chronon-stream-t-clicks in p, us-central1, on the streaming engine",
			job["type"], job["projectId"], job["name"], opts["region"], experiments)
	}
	for _, want := range []string{
		"projects/events-project/subscriptions/chronon-t_clicks", // the read
		"beam:transform:pubsub_write:v1", "projects/events-project/topics/events.clicks-dead-letter",
	} {
		if !strings.Contains(model, want) {
			t.Errorf("the pipeline does not mention %s:\n%.6000s", want, model)
		}
	}
}

// TestRunDataflowRejects: runners other than Dataflow, stores the workers
// cannot share and a missing Pub/Sub project are errors before anything
// is built.
func TestRunDataflowRejects(t *testing.T) {
	bigtable := config.KV{Store: "bigtable", Project: "p", Instance: "i"}
	for _, tc := range []struct {
		name    string
		runner  string
		kv      config.KV
		project string
		want    string
	}{
		{"prism", beamrun.Prism, bigtable, "p", "only Dataflow"},
		{"direct", beamrun.Direct, bigtable, "p", "only Dataflow"},
		{"sqlite", beamrun.Dataflow, config.KV{Path: "kv.db"}, "p", "kv.store must be bigtable (is sqlite)"},
		{"plugin", beamrun.Dataflow, config.KV{Plugin: "/bin/kv"}, "p", "kv.store must be bigtable (is plugin)"},
		{"no project", beamrun.Dataflow, bigtable, "", "no Pub/Sub project"},
	} {
		err := stream.RunDataflow(context.Background(), streamedGroupBy(), stream.DataflowOptions{
			Table: table, KV: tc.kv, PubSubProject: tc.project,
			Runner: beamrun.Options{Runner: tc.runner, Project: "p", Region: "r", DryRun: true},
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestJobName(t *testing.T) {
	for name, want := range map[string]string{
		"t.clicks":                "chronon-stream-t-clicks",
		"quickstart.Purchases_v1": "chronon-stream-quickstart-purchases-v1",
		"x.":                      "chronon-stream-x",
	} {
		if got := stream.JobName(name); got != want {
			t.Errorf("JobName(%q) = %q, want %q", name, got, want)
		}
	}
}
