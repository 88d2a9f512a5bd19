// SPDX-License-Identifier: Apache-2.0

package logsink

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"cloud.google.com/go/pubsub/v2"

	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/fetcher"
)

// Message is the JSON of a log record on Pub/Sub: Chronon's
// LoggableResponseBase64 (keyBase64, valueBase64, name, tsMillis,
// schemaHash), schemaHash null for a schema-publish event.
type Message struct {
	KeyBase64   string  `json:"keyBase64"`
	ValueBase64 string  `json:"valueBase64"`
	Name        string  `json:"name"`
	TsMillis    int64   `json:"tsMillis"`
	SchemaHash  *string `json:"schemaHash"`
}

// NewMessage returns r's message.
func NewMessage(r fetchlog.Record) Message {
	m := Message{
		KeyBase64:   base64.StdEncoding.EncodeToString(r.KeyBytes),
		ValueBase64: base64.StdEncoding.EncodeToString(r.ValueBytes),
		Name:        r.JoinName,
		TsMillis:    r.TsMillis,
	}
	if r.SchemaHash != "" {
		m.SchemaHash = &r.SchemaHash
	}
	return m
}

// Record decodes a message back into its record.
func (m Message) Record() (fetchlog.Record, error) {
	r := fetchlog.Record{JoinName: m.Name, TsMillis: m.TsMillis}
	if m.SchemaHash != nil {
		r.SchemaHash = *m.SchemaHash
	}
	var err error
	if r.KeyBytes, err = base64.StdEncoding.DecodeString(m.KeyBase64); err != nil {
		return r, fmt.Errorf("logsink: message keyBase64: %w", err)
	}
	if r.ValueBytes, err = base64.StdEncoding.DecodeString(m.ValueBase64); err != nil {
		return r, fmt.Errorf("logsink: message valueBase64: %w", err)
	}
	return r, nil
}

// PubSub publishes log records to a Pub/Sub topic, one JSON Message per
// record, with the attributes name and (for data records) schema_hash so
// subscriptions can filter by join.
type PubSub struct {
	pub   *pubsub.Publisher
	topic string
}

var _ fetcher.LogSink = (*PubSub)(nil)

// NewPubSub returns a sink publishing to topic id, which must exist. The
// caller keeps ownership of c and must Close the sink.
func NewPubSub(c *pubsub.Client, id string) *PubSub {
	return &PubSub{pub: c.Publisher(id), topic: id}
}

// WriteLogs publishes recs and waits until Pub/Sub accepted each; the
// error names how many failed.
func (p *PubSub) WriteLogs(ctx context.Context, recs []fetchlog.Record) error {
	results := make([]*pubsub.PublishResult, len(recs))
	for i, r := range recs {
		data, err := json.Marshal(NewMessage(r))
		if err != nil {
			return fmt.Errorf("logsink: encode record of %s: %w", r.JoinName, err)
		}
		attrs := map[string]string{fetchlog.ColName: r.JoinName}
		if r.SchemaHash != "" {
			attrs[fetchlog.ColSchemaHash] = r.SchemaHash
		}
		results[i] = p.pub.Publish(ctx, &pubsub.Message{Data: data, Attributes: attrs})
	}
	var errs []error
	for _, res := range results {
		if _, err := res.Get(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		// The first error stands for the rest: they share a cause.
		return fmt.Errorf("logsink: publish to %s: %d of %d records failed: %w", p.topic, len(errs), len(recs), errs[0])
	}
	return nil
}

// Close sends what the publisher still holds and stops it.
func (p *PubSub) Close() error {
	p.pub.Stop()
	return nil
}
