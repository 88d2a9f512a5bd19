// SPDX-License-Identifier: Apache-2.0

package stream

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/chronon-go/chronon/core/api"
)

// Topic is a parsed Chronon topic string.
type Topic struct {
	// Type is the scheme before "://" ("kafka", "pubsub"), lower-cased, or
	// "" when the string has none. Pub/Sub streaming ignores it: quickstart
	// definitions written for Kafka run unchanged.
	Type string
	// ID is the topic id: the part before the first "/".
	ID string
	// Fields is the column order of CSV messages (the fields= parameter),
	// or nil when the topic has none.
	Fields []string
	// Params holds every key=value parameter, fields included, as written.
	Params map[string]string
}

// MaxIDLength is the longest Pub/Sub topic or subscription id.
const MaxIDLength = 255

// ParseTopic parses Chronon's topic string: [type://]id[/key=value]...
// The id must be a valid Pub/Sub id (CheckID); a parameter without "=" or
// given twice is an error (Chronon fails on the first and silently keeps
// one of the second); empty parts ("a//b", a trailing "/") are skipped as
// Chronon's split skips them. fields= must list distinct, non-empty names.
func ParseTopic(s string) (Topic, error) {
	var t Topic
	rest := s
	if typ, after, ok := strings.Cut(s, "://"); ok {
		t.Type, rest = strings.ToLower(typ), after
	}
	parts := strings.Split(rest, "/")
	t.ID = parts[0]
	if err := CheckID(t.ID); err != nil {
		return Topic{}, fmt.Errorf("topic %q: %w", s, err)
	}
	for _, p := range parts[1:] {
		if p == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return Topic{}, fmt.Errorf("topic %q: parameter %q: want key=value", s, p)
		}
		if _, dup := t.Params[k]; dup {
			return Topic{}, fmt.Errorf("topic %q: parameter %q given twice", s, k)
		}
		if t.Params == nil {
			t.Params = map[string]string{}
		}
		t.Params[k] = v
	}
	if f, ok := t.Params["fields"]; ok {
		fields, err := parseFields(f)
		if err != nil {
			return Topic{}, fmt.Errorf("topic %q: fields=: %w", s, err)
		}
		t.Fields = fields
	}
	return t, nil
}

// parseFields splits a comma-separated field list, trimming blanks.
func parseFields(s string) ([]string, error) {
	parts := strings.Split(s, ",")
	seen := make(map[string]bool, len(parts))
	out := make([]string, len(parts))
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("field %d is empty", i+1)
		}
		if seen[p] {
			return nil, fmt.Errorf("field %q listed twice", p)
		}
		seen[p] = true
		out[i] = p
	}
	return out, nil
}

// CheckID reports whether id is a valid Pub/Sub topic or subscription id:
// 3 to 255 characters from [A-Za-z0-9-_.~+%], starting with a letter and
// not with "goog".
func CheckID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("empty id")
	case len(id) < 3 || len(id) > MaxIDLength:
		return fmt.Errorf("id %q: a Pub/Sub id has 3 to %d characters", id, MaxIDLength)
	case !isLetter(id[0]):
		return fmt.Errorf("id %q: a Pub/Sub id starts with a letter", id)
	case strings.HasPrefix(id, "goog"):
		return fmt.Errorf("id %q: a Pub/Sub id cannot start with \"goog\"", id)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !isLetter(c) && !(c >= '0' && c <= '9') && !strings.ContainsRune("-_.~+%", rune(c)) {
			return fmt.Errorf("id %q: character %q is not allowed in a Pub/Sub id (letters, digits and -_.~+%%)", id, id[i:i+1])
		}
	}
	return nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// SubscriptionName is the subscription the streaming job of the GroupBy
// named groupByName reads: "chronon-" + its clean name, as core/api computes
// it (quickstart.returns.v1 → chronon-quickstart_returns_v1). One
// subscription per GroupBy, so that every GroupBy on a topic sees every
// message, and a restarted job resumes where it stopped.
func SubscriptionName(groupByName string) string {
	return fitID("chronon-" + (&api.MetaData{Name: groupByName}).CleanName())
}

// DeadLetterTopic is the topic that receives the messages of topicID that
// the streaming job cannot decode: "<topicID>-dead-letter".
func DeadLetterTopic(topicID string) string { return fitID(topicID + "-dead-letter") }

// fitID shortens an id longer than Pub/Sub allows, keeping it unique: the
// first characters and a hash of the whole id, so two long names that share
// a prefix still get different resources.
func fitID(id string) string {
	if len(id) <= MaxIDLength {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	h := hex.EncodeToString(sum[:4])
	return id[:MaxIDLength-len(h)-1] + "-" + h
}
