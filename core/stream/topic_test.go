// SPDX-License-Identifier: Apache-2.0

package stream

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseTopic(t *testing.T) {
	tests := []struct {
		in   string
		want Topic
	}{
		{
			in: "events.returns/fields=ts,return_id,user_id,product_id,refund_amt/host=kafka/port=9092",
			want: Topic{
				ID:     "events.returns",
				Fields: []string{"ts", "return_id", "user_id", "product_id", "refund_amt"},
				Params: map[string]string{"fields": "ts,return_id,user_id,product_id,refund_amt", "host": "kafka", "port": "9092"},
			},
		},
		{in: "events.returns", want: Topic{ID: "events.returns"}},
		{in: "events.returns/", want: Topic{ID: "events.returns"}},
		{in: "abc//x=1", want: Topic{ID: "abc", Params: map[string]string{"x": "1"}}},
		{in: "abc/x=", want: Topic{ID: "abc", Params: map[string]string{"x": ""}}},
		{in: "abc/x=a=b", want: Topic{ID: "abc", Params: map[string]string{"x": "a=b"}}},
		{in: "abc/fields= a , b ", want: Topic{ID: "abc", Fields: []string{"a", "b"}, Params: map[string]string{"fields": " a , b "}}},
		{in: "Kafka://events.returns/fields=ts", want: Topic{Type: "kafka", ID: "events.returns", Fields: []string{"ts"}, Params: map[string]string{"fields": "ts"}}},
		{in: "pubsub://my-topic_1.~+%", want: Topic{Type: "pubsub", ID: "my-topic_1.~+%"}},
	}
	for _, tt := range tests {
		got, err := ParseTopic(tt.in)
		if err != nil {
			t.Errorf("ParseTopic(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseTopic(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseTopicErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty id"},
		{"/fields=a", "empty id"},
		{"ab", "3 to 255"},
		{strings.Repeat("a", 256), "3 to 255"},
		{"1events", "starts with a letter"},
		{"googevents", `cannot start with "goog"`},
		{"events returns", `character " " is not allowed`},
		{"événements", "starts with a letter"},
		{"events/host", `parameter "host": want key=value`},
		{"events/=x", `parameter "=x": want key=value`},
		{"events/a=1/a=2", `parameter "a" given twice`},
		{"events/fields=", "fields=: field 1 is empty"},
		{"events/fields=a,,b", "fields=: field 2 is empty"},
		{"events/fields=a,b,a", `fields=: field "a" listed twice`},
	}
	for _, tt := range tests {
		_, err := ParseTopic(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseTopic(%q) error = %v, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

func TestSubscriptionName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"quickstart.returns.v1", "chronon-quickstart_returns_v1"},
		{"quickstart/returns.v1", "chronon-quickstart_returns_v1"},
		{"team.name-with dash.v2", "chronon-team_name_with_dash_v2"},
	}
	for _, tt := range tests {
		if got := SubscriptionName(tt.in); got != tt.want {
			t.Errorf("SubscriptionName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if err := CheckID(SubscriptionName(tt.in)); err != nil {
			t.Errorf("SubscriptionName(%q): %v", tt.in, err)
		}
	}
	long := strings.Repeat("x", 300)
	a, b := SubscriptionName(long+"a"), SubscriptionName(long+"b")
	if len(a) != MaxIDLength || a == b {
		t.Errorf("long names: %q (%d) and %q should differ and have %d characters", a, len(a), b, MaxIDLength)
	}
	if err := CheckID(a); err != nil {
		t.Error(err)
	}
}

func TestDeadLetterTopic(t *testing.T) {
	if got := DeadLetterTopic("events.returns"); got != "events.returns-dead-letter" {
		t.Errorf("DeadLetterTopic = %q", got)
	}
	id := strings.Repeat("e", MaxIDLength)
	dl := DeadLetterTopic(id)
	if len(dl) != MaxIDLength || CheckID(dl) != nil || dl == id {
		t.Errorf("DeadLetterTopic of a %d-character id = %q", len(id), dl)
	}
}
