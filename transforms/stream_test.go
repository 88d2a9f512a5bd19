// SPDX-License-Identifier: Apache-2.0

package transforms

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	pb "google.golang.org/genproto/googleapis/pubsub/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/config"
	"github.com/chronon-go/chronon/core/online"
)

var clicksTable = arrow.NewSchema([]arrow.Field{
	{Name: "user", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
}, nil)

func clicksGroupBy(topic string) *api.GroupBy {
	q := api.NewQuery(api.Selects("user", "x"), "ts")
	q.Wheres = []string{"x >= 0"}
	src := api.EventsSource("data.clicks", q)
	src.Events.Topic = topic
	g := api.NewGroupBy("t.clicks", []*api.Source{src}, []string{"user"}, api.Sum("x", api.Hours(1)))
	g.Accuracy = api.Ptr(api.Temporal)
	return g
}

func TestNewStreamJob(t *testing.T) {
	g := clicksGroupBy("events.clicks/fields=ts,user,x")
	j, err := NewStreamJob(g, clicksTable, "exact", "p", config.KV{Store: "bigtable", Project: "p", Instance: "i"})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := j.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeStreamJob(spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := back.Compile(); err != nil {
		t.Fatalf("a decoded job does not compile: %v", err)
	}
	sub, _ := back.Subscription()
	dead, _ := back.DeadLetterTopic()
	if sub != "chronon-t_clicks" || dead != "events.clicks-dead-letter" || back.KV.Instance != "i" {
		t.Errorf("subscription %q, dead-letter topic %q, kv %+v", sub, dead, back.KV)
	}

	for _, tc := range []struct {
		name, topic, project, want string
	}{
		{"no topic", "", "p", "no events source with a topic"},
		{"no project", "events.clicks", "", "no Pub/Sub project"},
		{"unknown CSV field", "events.clicks/fields=ts,usr,x", "p", "usr"},
	} {
		_, err := NewStreamJob(clicksGroupBy(tc.topic), clicksTable, "exact", tc.project, config.KV{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}

func TestStreamEventEncoding(t *testing.T) {
	for _, e := range []StreamEvent{{}, {ID: "1", DS: "2024-10-02", Data: []byte("1,a,2")}, {ID: strings.Repeat("x", 300), Data: []byte{0, 1, 2}}} {
		got, err := DecodeStreamEvent(e.Encode())
		if err != nil || got.ID != e.ID || got.DS != e.DS || !bytes.Equal(got.Data, e.Data) {
			t.Errorf("round trip of %+v: %+v, %v", e, got, err)
		}
	}
	b := StreamEvent{ID: "1", DS: "d", Data: []byte("abc")}.Encode()
	for _, bad := range [][]byte{nil, b[:len(b)-1], append(b, 0)} {
		if _, err := DecodeStreamEvent(bad); err == nil {
			t.Errorf("DecodeStreamEvent(%q) succeeded", bad)
		}
	}
}

// TestStreamKeyFn: valid messages are emitted by GroupBy key with their id
// and publish day, malformed ones go to the dead letters with their reason,
// filtered ones are dropped; both are counted.
func TestStreamKeyFn(t *testing.T) {
	g := clicksGroupBy("events.clicks/fields=ts,user,x")
	j, err := NewStreamJob(g, clicksTable, "exact", "p", config.KV{})
	if err != nil {
		t.Fatal(err)
	}
	spec, _ := j.Encode()
	fn := &streamKeyFn{Job: spec}
	if err := fn.Setup(); err != nil {
		t.Fatal(err)
	}
	ctx := metrics.SetPTransformID(metrics.SetBundleID(context.Background(), "bundle"), "key")
	published := time.Date(2024, 10, 2, 23, 59, 0, 0, time.UTC)
	et := beam.EventTime(0).Add(time.Duration(published.Add(time.Hour).UnixMilli()) * time.Millisecond)
	type keyed struct {
		key []byte
		ev  StreamEvent
	}
	var out []keyed
	var dead []*pb.PubsubMessage
	emit := func(k, v []byte) {
		e, err := DecodeStreamEvent(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, keyed{k, e})
	}
	for _, m := range []*pb.PubsubMessage{
		{MessageId: "m1", Data: []byte("1727913540000,a,5"), PublishTime: timestamppb.New(published)},
		{MessageId: "m2", Data: []byte("1727913540000,a,lots"), PublishTime: timestamppb.New(published)},
		{MessageId: "m3", Data: []byte("1727913540000,b,-1"), PublishTime: timestamppb.New(published)}, // the wheres
		{MessageId: "m4", Data: []byte("1727913540000,,3"), PublishTime: timestamppb.New(published)},   // a null key
		{Data: []byte("1727913540000,b,7")}, // no id nor publish time
	} {
		if err := fn.ProcessElement(ctx, et, m, emit, func(d *pb.PubsubMessage) { dead = append(dead, d) }); err != nil {
			t.Fatal(err)
		}
	}
	keyA, _ := online.AppendKey(nil, []any{"a"})
	keyB, _ := online.AppendKey(nil, []any{"b"})
	if len(out) != 2 || !bytes.Equal(out[0].key, keyA) || !bytes.Equal(out[1].key, keyB) {
		t.Fatalf("emitted %+v, want the events of a and b", out)
	}
	if e := out[0].ev; e.ID != "m1" || e.DS != "2024-10-02" || string(e.Data) != "1727913540000,a,5" {
		t.Errorf("event of m1: %+v", e)
	}
	// Without a message id: a hash of the payload at the element's time,
	// whose day is the partition.
	if e := out[1].ev; !strings.HasPrefix(e.ID, "sha256:") || e.DS != "2024-10-03" {
		t.Errorf("event without an id: %+v", e)
	}
	if len(dead) != 1 || string(dead[0].Data) != "1727913540000,a,lots" || dead[0].Attributes["source_message_id"] != "m2" ||
		!strings.Contains(dead[0].Attributes["reason"], `field x: cannot parse "lots" as long`) {
		t.Errorf("dead letters: %v", dead)
	}
	counts := map[string]int64{}
	for _, c := range metrics.ResultsExtractor(ctx).AllMetrics().Counters() {
		if c.Namespace() == StreamNamespace {
			counts[c.Name()] = c.Result()
		}
	}
	if counts["malformed"] != 1 || counts["filtered"] != 2 {
		t.Errorf("counters %v, want 1 malformed and 2 filtered", counts)
	}
}
