// SPDX-License-Identifier: Apache-2.0

package logingest_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/fetcher/fetchertest"
	"github.com/chronon-go/chronon/fetcher/logsink"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/logtable"
	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
	"github.com/chronon-go/chronon/runners/logflatten"
	"github.com/chronon-go/chronon/runners/logingest"
	"github.com/chronon-go/chronon/runners/pubsubbatch"
	"github.com/chronon-go/chronon/runners/pubsubdev"
	"github.com/chronon-go/chronon/testing/testkit"
)

const (
	topic = "logs"
	B     = fetchertest.BatchEnd
	hour  = fetchertest.Hour
	day   = fetchertest.Day
)

// job runs logingest.Run in the background and totals its batches.
type job struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
	total  logingest.Stats
}

// start runs the job on the topic into wh with small batches, unless o
// says otherwise.
func start(t *testing.T, client *pubsub.Client, wh warehouse.Warehouse, o logingest.Options) *job {
	t.Helper()
	j := &job{t: t, done: make(chan error, 1)}
	o.Client, o.Warehouse, o.Topic = client, wh, topic
	if o.MaxBatch == 0 {
		o.MaxBatch = 3
	}
	if o.FlushEvery == 0 {
		o.FlushEvery = 50 * time.Millisecond
	}
	o.OnBatch = func(s logingest.Stats) {
		j.mu.Lock()
		defer j.mu.Unlock()
		j.total.Add(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	j.cancel = cancel
	go func() { j.done <- logingest.Run(ctx, o) }()
	return j
}

// stats returns the totals so far.
func (j *job) stats() logingest.Stats {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.total
}

// stop stops the job and checks it returned nil.
func (j *job) stop() logingest.Stats {
	j.t.Helper()
	j.cancel()
	if err := <-j.done; err != nil {
		j.t.Errorf("Run: %v", err)
	}
	return j.stats()
}

// waitFor polls cond for up to 20s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// ensure creates the topic and the job's subscription, so that what is
// published before the job starts waits for it.
func ensure(t *testing.T, client *pubsub.Client) {
	t.Helper()
	ctx := context.Background()
	if err := pubsubdev.EnsureTopic(ctx, client, topic); err != nil {
		t.Fatal(err)
	}
	if err := pubsubbatch.EnsureSubscription(ctx, client, logingest.Subscription, topic); err != nil {
		t.Fatal(err)
	}
}

// logRecords reads every record of the log table, sorted.
func logRecords(t *testing.T, wh warehouse.Warehouse) []fetchlog.Record {
	t.Helper()
	return testkit.LogRecords(t, wh, logtable.Table("chronon"))
}

// tee writes logs to every sink.
type tee []fetcher.LogSink

func (s tee) WriteLogs(ctx context.Context, recs []fetchlog.Record) error {
	var errs []error
	for _, sink := range s {
		errs = append(errs, sink.WriteLogs(ctx, recs))
	}
	return errors.Join(errs...)
}

// flattened flattens the join's logs in wh and returns the rows, sorted.
func flattened(t *testing.T, root string, wh warehouse.Warehouse, j *api.Join) []map[string]any {
	t.Helper()
	res, err := logflatten.Run(context.Background(), wh, j, logflatten.Options{Root: root, End: "2024-10-03"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Malformed != 0 {
		t.Fatalf("flattening %s: %+v", root, res)
	}
	rows := testkit.TableRows(t, wh, res.Table)
	sort.Slice(rows, func(i, j int) bool { return fmt.Sprint(rows[i]) < fmt.Sprint(rows[j]) })
	return rows
}

// TestIngestFlattensAsTheWarehouseSink: a fetcher logs to the Pub/Sub
// sink and, for reference, to the warehouse sink of another warehouse;
// the job lands the topic in the log table, which then holds exactly the
// reference's records; a replay of every message through a second
// subscription (same message ids, as a redelivery has) adds nothing; and
// flattening both warehouses gives the same rows, one per fetch.
func TestIngestFlattensAsTheWarehouseSink(t *testing.T) {
	ctx := context.Background()
	client := testkit.PubSub(t)
	ensure(t, client)
	if err := pubsubbatch.EnsureSubscription(ctx, client, "replay", topic); err != nil {
		t.Fatal(err)
	}
	store, err := sqlite.Open(t.TempDir()+"/kv.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	join := fetchertest.LoadLogged(t, store, "test")
	refRoot, root := t.TempDir(), t.TempDir()
	ref, err := parquet.Open(refRoot, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	wh, err := parquet.Open(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()

	ps := logsink.NewPubSub(client, topic)
	f := fetcher.New(store, fetcher.Options{LogSink: tee{logsink.NewWarehouse(ref, "chronon"), ps}, LogBatchSize: 4})
	var reqs []fetcher.Request
	for i, at := range []int64{B + hour, B + 2*hour, B + 3*hour, B + 23*hour, B + day + hour, B + day + 2*hour} {
		keys := map[string]any{"request_id": fmt.Sprintf("r%d", i)}
		if i != 2 {
			keys["buyer"] = []string{"u1", "u2"}[i%2] // r2 lacks its key: an exception
		}
		reqs = append(reqs, fetcher.Request{Name: "t/checkout", Keys: keys, AtMillis: at})
	}
	for _, r := range f.FetchJoin(ctx, reqs) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if err := f.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ps.Close(); err != nil {
		t.Fatal(err)
	}
	want := logRecords(t, ref)
	if len(want) < len(reqs)+2 {
		t.Fatalf("the reference holds %d records for %d fetches on 2 days", len(want), len(reqs))
	}

	j := start(t, client, wh, logingest.Options{})
	waitFor(t, "the records", func() bool { return len(logRecords(t, wh)) >= len(want) })
	if got := logRecords(t, wh); !reflect.DeepEqual(got, want) {
		t.Fatalf("log table\n got %v\nwant %v", got, want)
	}
	st := j.stop()
	// Replay every message: the subscription "replay" holds them all,
	// with the same ids.
	replay := start(t, client, wh, logingest.Options{Subscription: "replay"})
	waitFor(t, "the replay", func() bool { return replay.stats().Duplicates >= len(want) })
	if rst := replay.stop(); rst.Written != 0 || rst.Duplicates != len(want) {
		t.Errorf("replay stats %+v, want %d duplicates and no write", rst, len(want))
	}
	if got := logRecords(t, wh); !reflect.DeepEqual(got, want) {
		t.Errorf("after the replay the log table holds %d records, want %d", len(got), len(want))
	}
	if st.Written != len(want) || st.Failed != 0 || st.DeadLettered != 0 || st.Received != st.Written+st.Duplicates {
		t.Errorf("stats %+v for %d records", st, len(want))
	}
	rows := flattened(t, root, wh, join)
	if wantRows := flattened(t, refRoot, ref, join); !reflect.DeepEqual(rows, wantRows) {
		t.Errorf("flattened\n got %v\nwant %v", rows, wantRows)
	}
	if len(rows) != len(reqs) || rows[0]["request_id"] == nil {
		t.Errorf("%d flattened rows for %d fetches: %v", len(rows), len(reqs), rows)
	}
}

// records returns a schema event and n data records of batch b on two
// days.
func records(b, n int) []fetchlog.Record {
	t0 := B + int64(b)
	out := []fetchlog.Record{{KeyBytes: []byte("hash"), ValueBytes: []byte(`{"join_name":"t/j"}`), JoinName: fetchlog.SchemaPublishEvent, TsMillis: t0}}
	for i := range n {
		out = append(out, fetchlog.Record{KeyBytes: []byte(fmt.Sprintf("k%d-%d", b, i)), ValueBytes: []byte{byte(b), byte(i)},
			JoinName: "t/j", TsMillis: t0 + int64(i%2)*day, SchemaHash: "hash"})
	}
	return out
}

func sorted(rs []fetchlog.Record) []fetchlog.Record {
	testkit.SortRecords(rs)
	return rs
}

// publish sends recs through the fetcher's Pub/Sub sink.
func publish(t *testing.T, client *pubsub.Client, recs []fetchlog.Record) {
	t.Helper()
	ps := logsink.NewPubSub(client, topic)
	defer ps.Close()
	if err := ps.WriteLogs(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

// failing fails its first Begin, then reports its next Commit failed
// after it landed (as when the job dies before it acknowledges).
type failing struct {
	warehouse.Warehouse
	mu            sync.Mutex
	begins, lands int
}

func (f *failing) Begin(ctx context.Context, table string, schema *arrow.Schema, opts warehouse.WriteOptions) (warehouse.Txn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.begins++; f.begins == 1 {
		return nil, errors.New("disk full")
	}
	txn, err := f.Warehouse.Begin(ctx, table, schema, opts)
	if err != nil || f.begins > 2 {
		return txn, err
	}
	return landing{txn}, nil
}

// landing commits and then fails.
type landing struct{ warehouse.Txn }

func (l landing) Commit(ctx context.Context) error {
	if err := l.Txn.Commit(ctx); err != nil {
		return err
	}
	return errors.New("connection reset after commit")
}

// TestDeadLetterAndFailedWrites: messages that are not log records go to
// the dead-letter topic with their reason, and the job goes on; a write
// that fails, and one that lands but is reported failed, nack their
// batch, which comes again and lands once.
func TestDeadLetterAndFailedWrites(t *testing.T) {
	ctx := context.Background()
	client := testkit.PubSub(t)
	ensure(t, client)
	dead := topic + "-dead-letter"
	if err := pubsubdev.EnsureTopic(ctx, client, dead); err != nil {
		t.Fatal(err)
	}
	if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: "projects/local/subscriptions/dead", Topic: pubsubdev.TopicName(client, dead)}); err != nil {
		t.Fatal(err)
	}
	base, err := parquet.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer base.Close()
	wh := &failing{Warehouse: base}

	want := records(0, 8)
	publish(t, client, want)
	bad := map[string]string{
		"not json": "invalid character",
		`{"name":"t/j","tsMillis":5,"keyBase64":"%%","schemaHash":"h"}`: "keyBase64",
		`{"name":"t/j","tsMillis":5}`:                                   "no schemaHash",
		`{"name":"","tsMillis":5}`:                                      "no name",
	}
	pub := client.Publisher(topic)
	for data := range bad {
		if _, err := pub.Publish(ctx, &pubsub.Message{Data: []byte(data)}).Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	pub.Stop()

	j := start(t, client, wh, logingest.Options{})
	waitFor(t, "the records", func() bool { return len(logRecords(t, base)) >= len(want) })
	got := map[string]string{}
	var mu sync.Mutex
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err = client.Subscriber("dead").Receive(rctx, func(_ context.Context, m *pubsub.Message) {
		m.Ack()
		mu.Lock()
		defer mu.Unlock()
		if got[string(m.Data)] = m.Attributes["reason"]; len(got) == len(bad) {
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	st := j.stop()
	for data, reason := range bad {
		if !strings.Contains(got[data], reason) || !strings.Contains(got[data], "bad log message") {
			t.Errorf("dead letter %q: reason %q, want one containing %q", data, got[data], reason)
		}
	}
	if recs := logRecords(t, base); !reflect.DeepEqual(recs, sorted(want)) {
		t.Errorf("log table\n got %v\nwant %v", recs, want)
	}
	if st.Failed == 0 || st.Duplicates == 0 || st.Written+st.Duplicates < len(want) || st.DeadLettered != len(bad) {
		t.Errorf("stats %+v: want failures, duplicates, %d records, %d dead-lettered", st, len(want), len(bad))
	}
	if wh.begins < 3 {
		t.Errorf("%d writes: the failures were not exercised", wh.begins)
	}
}

// TestStopFlushesAndRestartLosesNothing: a stop writes the batch the job
// holds before returning; what is published while the job is down is
// ingested by the next run; every record lands once.
func TestStopFlushesAndRestartLosesNothing(t *testing.T) {
	client := testkit.PubSub(t)
	ensure(t, client)
	wh, err := parquet.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	first := records(1, 29)
	publish(t, client, first)
	// Batches of 20 waiting an hour: the first fills, the rest waits for
	// the stop.
	j := start(t, client, wh, logingest.Options{MaxBatch: 20, FlushEvery: time.Hour})
	waitFor(t, "a full batch", func() bool { return j.stats().Written > 0 })
	time.Sleep(time.Second) // the rest is pulled and held
	if n := len(logRecords(t, wh)); n != 20 {
		t.Fatalf("%d records before the stop, want one batch of 20", n)
	}
	st := j.stop()
	if n := len(logRecords(t, wh)); n != st.Written || n <= 20 || st.Failed != 0 {
		t.Fatalf("after the stop the table holds %d records; stats %+v: the held batch was not written", n, st)
	}
	second := records(2, 15)
	publish(t, client, second)
	all := sorted(append(first, second...))
	j = start(t, client, wh, logingest.Options{})
	waitFor(t, "every record", func() bool { return len(logRecords(t, wh)) >= len(all) })
	j.stop()
	if got := logRecords(t, wh); !reflect.DeepEqual(got, all) {
		t.Errorf("log table holds %d records, want %d\n got %v\nwant %v", len(got), len(all), got, all)
	}
}
