// SPDX-License-Identifier: Apache-2.0

package logsink

import (
	"context"
	"fmt"

	"cloud.google.com/go/pubsub/v2"

	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/fetcher"
)

// PubSub publishes log records to a Pub/Sub topic, one JSON
// fetchlog.Message per record (chronon log-ingest lands them in the log
// table), with the attributes name and (for data records) schema_hash so
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
		data, err := fetchlog.EncodeMessage(r)
		if err != nil {
			return fmt.Errorf("logsink: %s: %w", p.topic, err)
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
