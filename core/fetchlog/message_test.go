// SPDX-License-Identifier: Apache-2.0

package fetchlog_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/chronon-go/chronon/core/fetchlog"
)

// TestMessage: records round-trip through their Pub/Sub JSON (a schema
// event with a null schemaHash), and what no log row may be is
// ErrBadMessage.
func TestMessage(t *testing.T) {
	for _, r := range []fetchlog.Record{
		{KeyBytes: []byte{1, 2}, ValueBytes: []byte{0, 255}, JoinName: "t/j", TsMillis: 5, SchemaHash: "h"},
		{KeyBytes: []byte("h"), ValueBytes: []byte("{}"), JoinName: fetchlog.SchemaPublishEvent, TsMillis: 5},
	} {
		b, err := fetchlog.EncodeMessage(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fetchlog.DecodeMessage(b)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("%s: decoded %+v (%v), want %+v", b, got, err, r)
		}
	}
	for _, bad := range []string{
		`[]`,
		`{"name":"t/j","tsMillis":5,"schemaHash":"h","keyBase64":"%"}`,
		`{"name":"t/j","tsMillis":5,"schemaHash":"h","valueBase64":"%"}`,
		`{"name":"t/j","tsMillis":5}`,
		`{"name":"t/j","tsMillis":0,"schemaHash":"h"}`,
		`{"tsMillis":5,"schemaHash":"h"}`,
		`{"name":"SCHEMA_PUBLISH_EVENT","tsMillis":5,"schemaHash":"h"}`,
	} {
		if _, err := fetchlog.DecodeMessage([]byte(bad)); !errors.Is(err, fetchlog.ErrBadMessage) {
			t.Errorf("%s: err %v, want ErrBadMessage", bad, err)
		}
	}
}
