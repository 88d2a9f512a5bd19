// SPDX-License-Identifier: Apache-2.0

package pubsubdev

import (
	"context"
	"errors"
	"net"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/grpc/codes"

	"github.com/chronon-go/chronon/core/config"
	"github.com/chronon-go/chronon/core/stream"
)

// emulator starts an emulator on a free loopback port for the test.
func emulator(t *testing.T) *Emulator {
	t.Helper()
	e, err := Serve(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// client connects to e as chronon.yaml's pubsub: {project, emulator} would.
func client(t *testing.T, e *Emulator) *pubsub.Client {
	t.Helper()
	t.Setenv(EmulatorEnv, "") // chronon.yaml's address is the one under test
	c, err := Connect(t.Context(), config.PubSub{Project: "test", Emulator: e.Host()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// published returns the data of the messages e holds for topic id, sorted
// (Pub/Sub does not keep publish order across batches).
func published(e *Emulator, id string) []string {
	var out []string
	for _, m := range e.Server().Messages() {
		if strings.HasSuffix(m.Topic, "/topics/"+id) {
			out = append(out, string(m.Data))
		}
	}
	sort.Strings(out)
	return out
}

func sorted(s ...string) []string {
	sort.Strings(s)
	return s
}

const returnsFields = "ts,return_id,user_id,product_id,refund_amt"

func TestPublishCSV(t *testing.T) {
	e := emulator(t)
	c := client(t, e)
	fields := strings.Split(returnsFields, ",")
	tests := []struct {
		name, file string
		fields     []string
		want       []string
	}{
		{
			name:   "quickstart topic data: no header",
			file:   "1701475200000,F8E3,91,81,356\n1701475300000,A1,92,82,10\n",
			fields: fields,
			want:   []string{"1701475200000,F8E3,91,81,356", "1701475300000,A1,92,82,10"},
		},
		{
			name:   "header in fields order is skipped",
			file:   returnsFields + "\r\n1,r,u,p,5\r\n\r\n2,r,u,p,6",
			fields: fields,
			want:   []string{"1,r,u,p,5", "2,r,u,p,6"},
		},
		{
			name:   "quickstart table data: reordered, ds dropped",
			file:   "\ufeffds,ts,return_id,user_id,product_id,refund_amt\n2023-12-02,1,r,89,823,249\n2023-12-02,2,\"a,b\",90,,1\n",
			fields: fields,
			want:   []string{"1,r,89,823,249", `2,"a,b",90,,1`},
		},
		{
			name: "no fields: every line",
			file: returnsFields + "\n1,r,u,p,5\n",
			want: []string{returnsFields, "1,r,u,p,5"},
		},
		{
			name:   "quoted newline stays in one message",
			file:   "1,\"two\nlines\",u,p,5\n",
			fields: fields,
			want:   []string{"1,\"two\nlines\",u,p,5"},
		},
	}
	for i, tt := range tests {
		id := "csv-topic-" + string(rune('a'+i))
		n, err := Publish(t.Context(), c, id, strings.NewReader(tt.file), PublishOptions{Format: FormatCSV, Fields: tt.fields})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := published(e, id); n != len(tt.want) || !reflect.DeepEqual(got, sorted(tt.want...)) {
			t.Errorf("%s: published %d: %q, want %q", tt.name, n, got, tt.want)
		}
	}
}

// TestPublishDecode publishes the quickstart's table file to a topic and
// decodes the messages as the streaming job does.
func TestPublishDecode(t *testing.T) {
	e := emulator(t)
	c := client(t, e)
	topic, err := stream.ParseTopic("events.returns/fields=" + returnsFields + "/host=kafka/port=9092")
	if err != nil {
		t.Fatal(err)
	}
	file := "ds,ts,return_id,user_id,product_id,refund_amt\n2023-12-02,1701475200000,F8E3,91,81,356\n"
	if _, err := Publish(t.Context(), c, topic.ID, strings.NewReader(file), PublishOptions{Format: FormatCSV, Fields: topic.Fields}); err != nil {
		t.Fatal(err)
	}
	s := func(n string) arrow.Field {
		return arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	l := func(n string) arrow.Field {
		return arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Int64, Nullable: true}
	}
	d, err := stream.NewDecoder(topic, arrow.NewSchema([]arrow.Field{s("ds"), l("ts"), s("return_id"), s("user_id"), s("product_id"), l("refund_amt")}, nil))
	if err != nil {
		t.Fatal(err)
	}
	msgs := published(e, "events.returns")
	if len(msgs) != 1 {
		t.Fatalf("published %q", msgs)
	}
	row, err := d.Decode([]byte(msgs[0]))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"ts": int64(1701475200000), "return_id": "F8E3", "user_id": "91", "product_id": "81", "refund_amt": int64(356)}
	if !reflect.DeepEqual(row, want) {
		t.Errorf("decoded %v, want %v", row, want)
	}
}

func TestPublishJSONL(t *testing.T) {
	e := emulator(t)
	c := client(t, e)
	file := "\ufeff{\"user_id\": \"5\", \"ts\": 1}\n\n  {\"user_id\": \"6\"}  \r\n{}"
	n, err := Publish(t.Context(), c, "json-topic", strings.NewReader(file), PublishOptions{Format: FormatJSONL})
	if err != nil {
		t.Fatal(err)
	}
	want := sorted(`{"user_id": "5", "ts": 1}`, `{"user_id": "6"}`, `{}`)
	if got := published(e, "json-topic"); n != 3 || !reflect.DeepEqual(got, want) {
		t.Errorf("published %d: %q, want %q", n, got, want)
	}

	// Publishing again uses the existing topic.
	if n, err := Publish(t.Context(), c, "json-topic", strings.NewReader(`{"a":1}`), PublishOptions{Format: FormatJSONL}); err != nil || n != 1 {
		t.Errorf("second publish: %d, %v", n, err)
	}
}

func TestPublishErrors(t *testing.T) {
	e := emulator(t)
	c := client(t, e)
	tests := []struct {
		name, file string
		opts       PublishOptions
		want       string
		n          int
	}{
		{"bad jsonl line", "{\"a\":1}\n{\"a\":\n", PublishOptions{Format: FormatJSONL}, "line 2: not a JSON object", 1},
		{"csv in jsonl", "1,2,3\n", PublishOptions{Format: FormatJSONL}, "line 1: not a JSON object", 0},
		{"short csv row after header", "ds,a,b\nx,1,2\nx,1\n", PublishOptions{Format: FormatCSV, Fields: []string{"a", "b"}}, "line 3: 2 fields, the header has 3", 1},
		{"unknown format", "", PublishOptions{Format: "parquet"}, `format "parquet" is not supported`, 0},
	}
	for _, tt := range tests {
		n, err := Publish(t.Context(), c, "errors-topic", strings.NewReader(tt.file), tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) || n != tt.n {
			t.Errorf("%s: Publish = %d, %v; want %d, an error containing %q", tt.name, n, err, tt.n, tt.want)
		}
	}
}

func TestPublishCanceled(t *testing.T) {
	e := emulator(t)
	c := client(t, e)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := Publish(ctx, c, "canceled-topic", strings.NewReader("1\n"), PublishOptions{Format: FormatCSV})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Publish with a canceled context: %v", err)
	}
}

func TestEnsureTopic(t *testing.T) {
	e := emulator(t)
	c := client(t, e)
	for range 2 {
		if err := EnsureTopic(t.Context(), c, "made"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.TopicAdminClient.GetTopic(t.Context(), &pubsubpb.GetTopicRequest{Topic: "projects/test/topics/made"}); err != nil {
		t.Error(err)
	}
}

// TestConnectEnv checks that $PUBSUB_EMULATOR_HOST is honoured when
// chronon.yaml names no emulator.
func TestConnectEnv(t *testing.T) {
	e := emulator(t)
	t.Setenv(EmulatorEnv, e.Host())
	if got := EmulatorAddr(config.PubSub{}); got != e.Host() {
		t.Errorf("EmulatorAddr = %q, want %q", got, e.Host())
	}
	if got := EmulatorAddr(config.PubSub{Emulator: "yaml:1"}); got != "yaml:1" {
		t.Errorf("EmulatorAddr with chronon.yaml's = %q", got)
	}
	c, err := Connect(t.Context(), config.PubSub{Project: "envproj"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n, err := Publish(t.Context(), c, "env-topic", strings.NewReader("a\n"), PublishOptions{Format: FormatCSV}); err != nil || n != 1 {
		t.Fatalf("Publish through $%s: %d, %v", EmulatorEnv, n, err)
	}
	if _, err := Connect(t.Context(), config.PubSub{}); err == nil {
		t.Error("Connect without a project: no error")
	}
}

func TestConnectErrors(t *testing.T) {
	t.Setenv(EmulatorEnv, "")
	_, err := Connect(t.Context(), config.PubSub{Project: "local"})
	if err == nil || !strings.Contains(err.Error(), "chronon dev pubsub") {
		t.Errorf("default project without an emulator: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Connect(t.Context(), config.PubSub{Project: "local", Emulator: "http://" + addr})
	if err == nil || !strings.Contains(err.Error(), "no emulator at "+addr) {
		t.Errorf("stopped emulator: %v", err)
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	e, err := Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.Host(), "127.0.0.1:") || e.Host() == "127.0.0.1:0" {
		t.Errorf("Host = %q", e.Host())
	}
	// A second emulator on the same address fails with an error, not a panic.
	if _, err := Serve(t.Context(), e.Addr); err == nil {
		t.Error("second Serve on the same address: no error")
	}
	cancel()
	select {
	case <-e.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("emulator still running after its context ended")
	}
	if conn, err := net.DialTimeout("tcp", e.Addr, time.Second); err == nil {
		conn.Close()
		t.Error("emulator still accepts connections")
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := Serve(t.Context(), "no-port"); err == nil {
		t.Error("Serve on an address without a port: no error")
	}
}

func TestHost(t *testing.T) {
	for addr, want := range map[string]string{
		"[::]:8085":      "127.0.0.1:8085",
		"0.0.0.0:8085":   "127.0.0.1:8085",
		":8085":          "127.0.0.1:8085",
		"127.0.0.1:8085": "127.0.0.1:8085",
		"[::1]:8085":     "[::1]:8085",
		"myhost:8085":    "myhost:8085",
	} {
		if got := (&Emulator{Addr: addr}).Host(); got != want {
			t.Errorf("Host of %q = %q, want %q", addr, got, want)
		}
	}
}

func TestFormatOf(t *testing.T) {
	for path, want := range map[string]string{"a.csv": FormatCSV, "A.CSV": FormatCSV, "x/y.jsonl": FormatJSONL, "e.ndjson": FormatJSONL, "e.json": FormatJSONL, "e.parquet": "", "e": ""} {
		got, err := FormatOf(path)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
}

// TestPublishFailure checks that a message Pub/Sub refuses fails Publish
// with the line and the reason.
func TestPublishFailure(t *testing.T) {
	srv := pstest.NewServer(pstest.WithErrorInjection("Publish", codes.PermissionDenied, "no publishing here"))
	defer srv.Close()
	t.Setenv(EmulatorEnv, "")
	c, err := Connect(t.Context(), config.PubSub{Project: "test", Emulator: srv.Addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n, err := Publish(t.Context(), c, "refused", strings.NewReader("a\nb\nc\n"), PublishOptions{Format: FormatCSV})
	if n != 0 || err == nil || !strings.Contains(err.Error(), "line 1: publish to projects/test/topics/refused") || !strings.Contains(err.Error(), "no publishing here") {
		t.Errorf("Publish = %d, %v", n, err)
	}
}
