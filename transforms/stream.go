// SPDX-License-Identifier: Apache-2.0

package transforms

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window/trigger"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/pubsubio"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	pb "google.golang.org/genproto/googleapis/pubsub/v1"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/config"
	cstream "github.com/chronon-go/chronon/core/stream"
)

// The streaming pipeline (Dataflow only: pubsubio has no other runner)
// is split in two. This file holds what needs nothing but core: reading the
// GroupBy's subscription, decoding and keying its messages, dead-lettering
// the malformed ones and grouping the rest by GroupBy key. The fold of the
// grouped events into the KV store's _STREAMING tiles is runners/stream's
// FoldFn, a DoFn around the same Processor the local consumer runs, so
// that one piece of code writes tiles whichever way a job streams (this
// package cannot import runners: runners import transforms).
//
// Events are grouped by key before the fold because a tile is read,
// extended and written back: two workers folding events of one key at
// once would each write a tile missing the other's event. Dataflow
// processes the groups of one key one at a time; see StreamFiring.

func init() {
	register.DoFn5x1[context.Context, beam.EventTime, *pb.PubsubMessage, func([]byte, []byte), func(*pb.PubsubMessage), error](&streamKeyFn{})
	register.Emitter2[[]byte, []byte]()
	register.Emitter1[*pb.PubsubMessage]()
}

// StreamNamespace is the namespace of the streaming pipeline's Beam
// counters: malformed and filtered (messages), events, duplicates and tiles
// (runners/stream's fold).
const StreamNamespace = "chronon.stream"

var (
	streamMalformed = beam.NewCounter(StreamNamespace, "malformed")
	streamFiltered  = beam.NewCounter(StreamNamespace, "filtered")
)

// StreamFiring is how long the grouping of a key's events waits for more
// (processing time) before it passes them on to the fold: with Dataflow's
// shuffle, the freshness of streamed features.
const StreamFiring = time.Second

// StreamJob describes a GroupBy's streaming pipeline. Like Job, it travels
// to the workers as JSON inside the DoFns, so they need nothing but the
// Pub/Sub subscription and the KV store it names.
type StreamJob struct {
	// Project is the Pub/Sub project of the topic, the subscription and the
	// dead-letter topic.
	Project string `json:"project"`
	// Definition is the compiled Chronon JSON of the GroupBy.
	Definition string `json:"definition"`
	// Topic is the Chronon topic string of the GroupBy's streaming source
	// (its first events source with a topic).
	Topic string `json:"topic"`
	// Table is the data schema of that source's table (batch.SchemaToJSON):
	// messages carry its columns.
	Table batch.JSONSchema `json:"table"`
	// WindowTail is "exact" or "hop".
	WindowTail string `json:"windowTail"`
	// KV is the store the workers write tiles to.
	KV config.KV `json:"kv"`
}

// NewStreamJob describes g's streaming pipeline reading Pub/Sub in project,
// over the data schema of its source table, writing tiles to store. It
// compiles everything the workers will, so a definition that cannot stream
// fails here rather than on every worker.
func NewStreamJob(g *api.GroupBy, table *arrow.Schema, windowTail, project string, store config.KV) (*StreamJob, error) {
	name := g.MetaData.GetName()
	if project == "" {
		return nil, fmt.Errorf("%s: streaming pipeline: no Pub/Sub project", name)
	}
	def, err := api.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("%s: encode definition: %w", name, err)
	}
	js, err := batch.SchemaToJSON(table)
	if err != nil {
		return nil, fmt.Errorf("%s: source table schema: %w", name, err)
	}
	j := &StreamJob{Project: project, Definition: string(def), Topic: StreamTopic(g), Table: js, WindowTail: windowTail, KV: store}
	if _, err := j.Compile(); err != nil {
		return nil, err
	}
	return j, nil
}

// StreamTopic is the Chronon topic string of g's streamed source
// (backfill.StreamingSource: an events topic or an entity mutation topic),
// or "" when it has none.
func StreamTopic(g *api.GroupBy) string {
	if i := backfill.StreamingSource(g); i >= 0 {
		return g.Sources[i].Topic()
	}
	return ""
}

// Encode returns the job as the JSON its DoFns carry.
func (j *StreamJob) Encode() (string, error) {
	b, err := json.Marshal(j)
	if err != nil {
		return "", fmt.Errorf("encode stream job: %w", err)
	}
	return string(b), nil
}

// DecodeStreamJob is the inverse of Encode.
func DecodeStreamJob(s string) (*StreamJob, error) {
	var j StreamJob
	if err := json.Unmarshal([]byte(s), &j); err != nil {
		return nil, fmt.Errorf("decode stream job: %w", err)
	}
	return &j, nil
}

// CompiledStream is what a worker builds from a StreamJob.
type CompiledStream struct {
	GroupBy   *api.GroupBy
	Table     *arrow.Schema
	Topic     cstream.Topic
	Decoder   *cstream.Decoder
	Streaming *backfill.Streaming
}

// Compile parses the job's definition, topic and table schema and compiles
// the GroupBy's streaming source.
func (j *StreamJob) Compile() (*CompiledStream, error) {
	g, err := api.ParseGroupBy([]byte(j.Definition))
	if err != nil {
		return nil, fmt.Errorf("stream job: decode group by: %w", err)
	}
	name := g.MetaData.GetName()
	table, err := batch.SchemaFromJSON(j.Table)
	if err != nil {
		return nil, fmt.Errorf("%s: source table schema: %w", name, err)
	}
	st, err := backfill.CompileStreaming(g, table, j.WindowTail)
	if err != nil {
		return nil, err
	}
	topic, err := cstream.ParseTopic(j.Topic)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	dec, err := cstream.NewDecoder(topic, table)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &CompiledStream{GroupBy: g, Table: table, Topic: topic, Decoder: dec, Streaming: st}, nil
}

// Subscription is the id of the subscription the pipeline reads,
// chronon-<clean name> (core/stream.SubscriptionName).
func (j *StreamJob) Subscription() (string, error) {
	g, err := api.ParseGroupBy([]byte(j.Definition))
	if err != nil {
		return "", fmt.Errorf("stream job: decode group by: %w", err)
	}
	return cstream.SubscriptionName(g.MetaData.GetName()), nil
}

// DeadLetterTopic is the id of the topic malformed messages go to,
// <topic>-dead-letter.
func (j *StreamJob) DeadLetterTopic() (string, error) {
	t, err := cstream.ParseTopic(j.Topic)
	if err != nil {
		return "", err
	}
	return cstream.DeadLetterTopic(t.ID), nil
}

// StreamEvents adds the Pub/Sub side of job's streaming pipeline: it reads
// the GroupBy's subscription (which must exist: the launcher creates it),
// writes the messages that do not fit the source table to the dead-letter
// topic with their reason, and returns the others as KV<[]byte, iter
// []byte>: the GroupBy key and its events (StreamEvent), grouped.
func StreamEvents(s beam.Scope, job *StreamJob) (beam.PCollection, error) {
	sub, err := job.Subscription()
	if err != nil {
		return beam.PCollection{}, err
	}
	dead, err := job.DeadLetterTopic()
	if err != nil {
		return beam.PCollection{}, err
	}
	msgs := pubsubio.Read(s, job.Project, pubsubio.ReadOptions{Subscription: sub, WithAttributes: true})
	grouped, malformed, err := KeyStreamEvents(s, job, msgs)
	if err != nil {
		return beam.PCollection{}, err
	}
	pubsubio.Write(s, job.Project, dead, malformed)
	return grouped, nil
}

// KeyStreamEvents decodes messages (a PCollection of *pubsub.PubsubMessage)
// into the GroupBy's events and groups them by key, firing every
// StreamFiring. It returns the grouped events (KV<[]byte, iter []byte>)
// and the malformed messages (*pubsub.PubsubMessage, with attributes
// "reason" and "source_message_id"). Messages the source's wheres filter
// out, or with a null key or ts, are dropped.
func KeyStreamEvents(s beam.Scope, job *StreamJob, msgs beam.PCollection) (grouped, malformed beam.PCollection, err error) {
	spec, err := job.Encode()
	if err != nil {
		return beam.PCollection{}, beam.PCollection{}, err
	}
	s = s.Scope("stream")
	keyed, malformed := beam.ParDo2(s, &streamKeyFn{Job: spec}, msgs)
	keyed = beam.WindowInto(s, window.NewGlobalWindows(), keyed,
		beam.Trigger(trigger.Repeat(trigger.AfterProcessingTime().PlusDelay(StreamFiring))),
		beam.PanesDiscard())
	return beam.GroupByKey(s, keyed), malformed, nil
}

// StreamEvent is one message that fits the source table, as the grouped
// events carry it: its id (the Pub/Sub message id), its partition (the day
// of its publish time) and its payload, decoded again by the fold.
type StreamEvent struct {
	ID   string
	DS   string
	Data []byte
}

// Encode returns e as the bytes the grouped events carry.
func (e StreamEvent) Encode() []byte {
	b := make([]byte, 0, len(e.ID)+len(e.DS)+len(e.Data)+6)
	for _, f := range [][]byte{[]byte(e.ID), []byte(e.DS), e.Data} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// DecodeStreamEvent is the inverse of StreamEvent.Encode. Data shares b.
func DecodeStreamEvent(b []byte) (StreamEvent, error) {
	var f [3][]byte
	for i := range f {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return StreamEvent{}, errors.New("decode stream event: truncated")
		}
		f[i], b = b[k:k+int(n)], b[k+int(n):]
	}
	if len(b) > 0 {
		return StreamEvent{}, fmt.Errorf("decode stream event: %d trailing bytes", len(b))
	}
	return StreamEvent{ID: string(f[0]), DS: string(f[1]), Data: f[2]}, nil
}

// messageID is m's id for deduplication: its Pub/Sub message id, or, when
// the runner gave none, a hash of its payload and publish time (a
// redelivery has both unchanged).
func messageID(m *pb.PubsubMessage, et beam.EventTime) string {
	if m.GetMessageId() != "" {
		return m.GetMessageId()
	}
	sum := sha256.Sum256(m.GetData())
	return "sha256:" + hex.EncodeToString(sum[:16]) + "@" + strconv.FormatInt(publishMillis(m, et), 10)
}

// messageDS is m's partition: the day it was published (the element's
// timestamp, which Dataflow sets to the publish time, when m has none).
func messageDS(m *pb.PubsubMessage, et beam.EventTime) string {
	return batch.DSOfMillis(publishMillis(m, et))
}

func publishMillis(m *pb.PubsubMessage, et beam.EventTime) int64 {
	if t := m.GetPublishTime(); t != nil {
		return t.AsTime().UnixMilli()
	}
	return et.Milliseconds()
}

// streamKeyFn decodes a message, dead-letters it when it does not fit the
// source table, and emits the others by GroupBy key.
type streamKeyFn struct {
	Job string
	c   *CompiledStream
}

func (f *streamKeyFn) Setup() error {
	j, err := DecodeStreamJob(f.Job)
	if err != nil {
		return err
	}
	f.c, err = j.Compile()
	return err
}

func (f *streamKeyFn) ProcessElement(ctx context.Context, et beam.EventTime, m *pb.PubsubMessage, emit func([]byte, []byte), dead func(*pb.PubsubMessage)) error {
	id, ds := messageID(m, et), messageDS(m, et)
	row, err := f.c.Decoder.Decode(m.GetData())
	var key []byte
	ok := false
	switch {
	case err != nil:
	case f.c.Streaming.Mutations:
		key, _, ok, err = f.c.Streaming.Mutation(row, ds)
	default:
		key, _, ok, err = f.c.Streaming.Event(row, ds)
	}
	switch {
	case err != nil:
		streamMalformed.Inc(ctx, 1)
		beamlog.Warnf(ctx, "%s: malformed message %s to the dead-letter topic: %v", f.c.GroupBy.MetaData.GetName(), id, err)
		dead(&pb.PubsubMessage{Data: m.GetData(), Attributes: map[string]string{"reason": err.Error(), "source_message_id": id}})
	case !ok:
		streamFiltered.Inc(ctx, 1)
	default:
		emit(key, StreamEvent{ID: id, DS: ds, Data: m.GetData()}.Encode())
	}
	return nil
}
