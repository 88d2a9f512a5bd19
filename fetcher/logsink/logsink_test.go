// SPDX-License-Identifier: Apache-2.0

package logsink_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/fetcher/logsink"
	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
	"github.com/chronon-go/chronon/runners/pubsubdev"
	"github.com/chronon-go/chronon/testing/testkit"
)

const day = int64(24 * 3600 * 1000)

// records returns n data records of batch b spread over two days, after a
// schema event.
func records(b, n int) []fetchlog.Record {
	t0 := int64(1727827200000) // 2024-10-02
	out := []fetchlog.Record{{KeyBytes: []byte("hash"), ValueBytes: []byte(`{"join_name":"t/j"}`), JoinName: fetchlog.SchemaPublishEvent, TsMillis: t0}}
	for i := range n {
		out = append(out, fetchlog.Record{
			KeyBytes: []byte(fmt.Sprintf("k%d-%d", b, i)), ValueBytes: []byte{byte(b), byte(i), 0, 255},
			JoinName: "t/j", TsMillis: t0 + int64(i%2)*day + int64(b), SchemaHash: "hash"})
	}
	return out
}

// TestWarehouseAppendWithConcurrentReader: every write lands whole, in
// the partitions of its records' days, and a reader scanning meanwhile
// only ever sees whole writes.
func TestWarehouseAppendWithConcurrentReader(t *testing.T) {
	wh, err := parquet.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	sink := logsink.NewWarehouse(wh, "chronon")
	if sink.Table() != "chronon.chronon_log_table" {
		t.Fatalf("table %s", sink.Table())
	}
	const writes, perWrite = 12, 9
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		last := 0
		for {
			select {
			case <-done:
				return
			default:
			}
			n := len(testkit.LogRecords(t, wh, sink.Table()))
			if n%(perWrite+1) != 0 || n < last {
				t.Errorf("reader saw %d records (after %d): a partial write", n, last)
				return
			}
			last = n
		}
	}()
	var want []fetchlog.Record
	for b := range writes {
		recs := records(b, perWrite)
		want = append(want, recs...)
		if err := sink.WriteLogs(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	got := testkit.LogRecords(t, wh, sink.Table())
	testkit.SortRecords(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %d records, want %d (first got %+v)", len(got), len(want), got[0])
	}
	info, err := wh.Describe(context.Background(), sink.Table())
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Partitions) != 2 || len(info.Partitions[0].Files) != writes {
		t.Errorf("partitions %+v: want 2 days with one part file per write", info.Partitions)
	}
	if err := sink.WriteLogs(context.Background(), nil); err != nil {
		t.Error(err)
	}
}

func TestPubSub(t *testing.T) {
	ctx := context.Background()
	client := testkit.PubSub(t)
	if err := pubsubdev.EnsureTopic(ctx, client, "logs"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: "projects/local/subscriptions/logs", Topic: pubsubdev.TopicName(client, "logs")}); err != nil {
		t.Fatal(err)
	}
	sink := logsink.NewPubSub(client, "logs")
	want := records(0, 5)
	if err := sink.WriteLogs(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	var got []fetchlog.Record
	err := client.Subscriber("logs").Receive(rctx, func(_ context.Context, m *pubsub.Message) {
		m.Ack()
		r, err := fetchlog.DecodeMessage(m.Data)
		if err != nil {
			t.Error(err)
			return
		}
		if m.Attributes["name"] != r.JoinName || m.Attributes["schema_hash"] != r.SchemaHash {
			t.Errorf("attributes %v for record of %s/%s", m.Attributes, r.JoinName, r.SchemaHash)
		}
		mu.Lock()
		defer mu.Unlock()
		if got = append(got, r); len(got) == len(want) {
			cancel()
		}
	})
	if err != nil && rctx.Err() == nil {
		t.Fatal(err)
	}
	testkit.SortRecords(got)
	testkit.SortRecords(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("received %+v\nwant %+v", got, want)
	}
	if got[0].JoinName != fetchlog.SchemaPublishEvent || got[0].SchemaHash != "" {
		t.Errorf("the schema event has a schema hash: %+v", got[0])
	}
}
