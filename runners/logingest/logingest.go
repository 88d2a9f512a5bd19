// SPDX-License-Identifier: Apache-2.0

package logingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"github.com/chronon-go/chronon/core/fetchlog"
	cstream "github.com/chronon-go/chronon/core/stream"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/logtable"
	"github.com/chronon-go/chronon/runners/pubsubbatch"
	"github.com/chronon-go/chronon/runners/pubsubdev"
)

// Subscription is the default subscription chronon log-ingest reads.
const Subscription = "chronon-log-ingest"

// Defaults of Options' zero fields.
const (
	DefaultMaxBatch    = 5000
	DefaultFlushEvery  = 5 * time.Second
	DefaultDedupWindow = 100000
)

// progressEvery is how often Run logs its totals.
const progressEvery = 10 * time.Second

// Options configure Run. A zero field means its default.
type Options struct {
	// Client reaches Pub/Sub; Warehouse holds the log table. Both are
	// required, and stay the caller's.
	Client    *pubsub.Client
	Warehouse warehouse.Warehouse
	// Namespace holds the log table (chronon.yaml's logging.namespace).
	// The default value is "chronon".
	Namespace string
	// Topic is the topic the fetcher publishes to (chronon.yaml's
	// logging.topic); required. It is created when missing, as is
	// <Topic>-dead-letter.
	Topic string
	// Subscription is read (and created on Topic when missing). The
	// default value is "chronon-log-ingest".
	Subscription string
	// MaxBatch bounds the messages of one write; FlushEvery bounds how
	// long a message waits for its batch to fill. The default values are
	// 5000 and 5s.
	MaxBatch   int
	FlushEvery time.Duration
	// PullStreams is how many streaming pulls receive messages. The
	// default value is pubsubbatch.DefaultPullStreams.
	PullStreams int
	// DedupWindow is how many of the latest written message ids the table
	// remembers to skip redeliveries (the package doc), at least
	// MaxBatch. The default value is 100000 (about 1 MB in the table's
	// metadata).
	DedupWindow int
	// Log receives progress and problems; nil discards them.
	Log *slog.Logger
	// OnBatch, when set, is called after each batch (progress, tests).
	OnBatch func(Stats)
}

// Stats count what a batch, or a run, did with its messages.
type Stats struct {
	// Received counts messages delivered (redeliveries included).
	Received int
	// Written counts the records committed to the log table.
	Written int
	// Duplicates counts messages acknowledged without a write because
	// their id was written before.
	Duplicates int
	// DeadLettered counts messages sent to the dead-letter topic.
	DeadLettered int
	// Failed counts messages nacked (a failed write or dead-letter
	// publish): they come again.
	Failed int
}

// Add adds o's counts to s.
func (s *Stats) Add(o Stats) {
	s.Received += o.Received
	s.Written += o.Written
	s.Duplicates += o.Duplicates
	s.DeadLettered += o.DeadLettered
	s.Failed += o.Failed
}

// Run ingests o.Topic into the log table until ctx is done, then writes
// the batch it holds and returns nil; it returns an error when the topic,
// dead-letter topic or subscription cannot be set up, or receiving fails.
// A failing write is logged and its batch delivered again: Run does not
// stop on it.
func Run(ctx context.Context, o Options) error {
	if o.Client == nil || o.Warehouse == nil || o.Topic == "" {
		return errors.New("logingest: Client, Warehouse and Topic are required")
	}
	if o.Namespace == "" {
		o.Namespace = "chronon"
	}
	if o.Subscription == "" {
		o.Subscription = Subscription
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = DefaultFlushEvery
	}
	if o.DedupWindow <= 0 {
		o.DedupWindow = DefaultDedupWindow
	}
	o.DedupWindow = max(o.DedupWindow, o.MaxBatch)
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	deadID := cstream.DeadLetterTopic(o.Topic)
	for _, id := range []string{o.Topic, deadID} {
		if err := pubsubdev.EnsureTopic(ctx, o.Client, id); err != nil {
			return fmt.Errorf("logingest: %w", err)
		}
	}
	if err := pubsubbatch.EnsureSubscription(ctx, o.Client, o.Subscription, o.Topic); err != nil {
		return fmt.Errorf("logingest: %w", err)
	}
	dead := o.Client.Publisher(deadID)
	defer dead.Stop()
	in := &ingester{o: o, table: logtable.Table(o.Namespace), dead: dead, last: time.Now()}
	o.Log.Info("log-ingest", "topic", o.Topic, "subscription", o.Subscription, "table", in.table)
	err := pubsubbatch.Receive(ctx, o.Client, o.Subscription, pubsubbatch.Options{
		MaxBatch: o.MaxBatch, FlushEvery: o.FlushEvery, PullStreams: o.PullStreams, FlushOnStop: true, Log: o.Log,
	}, in.batch)
	in.progress(true)
	if err != nil {
		return fmt.Errorf("logingest: topic %s into %s: %w", o.Topic, in.table, err)
	}
	return nil
}

// ingester handles the batches of one Run (one at a time).
type ingester struct {
	o     Options
	table string
	dead  *pubsub.Publisher
	total Stats
	last  time.Time // of the last progress line
}

// batch decodes msgs, dead-letters what does not decode, writes the rest
// that was not written before, and returns whether to acknowledge each.
func (in *ingester) batch(ctx context.Context, msgs []*pubsub.Message) []bool {
	st := Stats{Received: len(msgs)}
	ack := make(map[string]bool, len(msgs))
	reasons := map[string]error{}
	var ids []string
	var recs []fetchlog.Record
	for _, m := range msgs {
		if _, ok := ack[m.ID]; ok {
			st.Duplicates++ // twice in one batch
			continue
		}
		ack[m.ID] = false
		r, err := fetchlog.DecodeMessage(m.Data)
		if err != nil {
			reasons[m.ID] = err
			continue
		}
		ids = append(ids, m.ID)
		recs = append(recs, r)
	}
	failed := pubsubbatch.DeadLetter(ctx, in.dead, msgs, reasons, in.o.Log)
	for id := range reasons {
		if ack[id] = !failed[id]; ack[id] {
			st.DeadLettered++
		}
	}
	written, dups, err := in.write(ctx, ids, recs)
	if err != nil {
		in.o.Log.Error("log-ingest: write failed; the batch will be delivered again", "table", in.table, "messages", len(ids), "err", err)
	} else {
		st.Written, st.Duplicates = written, st.Duplicates+dups
		for _, id := range ids {
			ack[id] = true
		}
	}
	acks := make([]bool, len(msgs))
	for i, m := range msgs {
		if acks[i] = ack[m.ID]; !acks[i] {
			st.Failed++
		}
	}
	in.total.Add(st)
	if in.o.OnBatch != nil {
		in.o.OnBatch(st)
	}
	in.progress(false)
	return acks
}

// write appends the records whose message ids the table's ledger lacks,
// and the grown ledger, in one transaction. It returns how many records
// it wrote and skipped.
func (in *ingester) write(ctx context.Context, ids []string, recs []fetchlog.Record) (written, dups int, err error) {
	if len(recs) == 0 {
		return 0, 0, nil
	}
	prop := LedgerProperty(in.o.Topic)
	var value string
	switch info, err := in.o.Warehouse.Describe(ctx, in.table); {
	case err == nil:
		value = info.Properties[prop]
	case !errors.Is(err, warehouse.ErrTableNotFound):
		return 0, 0, fmt.Errorf("logingest: describe %s: %w", in.table, err)
	}
	led, err := parseLedger(value)
	if err != nil {
		// Losing the ledger only risks duplicates; refusing to write
		// would stop ingestion for good.
		in.o.Log.Warn("log-ingest: unreadable ledger property replaced; recent redeliveries may be written twice", "table", in.table, "property", prop, "err", err)
	}
	var freshIDs []string
	var fresh []fetchlog.Record
	for i, id := range ids {
		if led.has(id) {
			dups++
			continue
		}
		freshIDs = append(freshIDs, id)
		fresh = append(fresh, recs[i])
	}
	if len(fresh) == 0 {
		return 0, dups, nil
	}
	props := map[string]string{prop: led.with(freshIDs, in.o.DedupWindow)}
	if err := logtable.Append(ctx, in.o.Warehouse, in.table, fresh, props); err != nil {
		return 0, 0, fmt.Errorf("logingest: messages of %s: %w", in.o.Topic, err)
	}
	return len(fresh), dups, nil
}

// progress logs the totals every progressEvery, or now when final.
func (in *ingester) progress(final bool) {
	if !final && time.Since(in.last) < progressEvery {
		return
	}
	in.last = time.Now()
	t := in.total
	in.o.Log.Info("log-ingest: ingested", "topic", in.o.Topic, "table", in.table, "received", t.Received, "written", t.Written,
		"duplicates", t.Duplicates, "dead_lettered", t.DeadLettered, "failed", t.Failed)
}
