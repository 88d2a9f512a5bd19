// SPDX-License-Identifier: Apache-2.0

package stream

// The streaming job on Dataflow (chronon stream --runner dataflow) runs the
// same fold as the local consumer (Run), as Beam DoFns.
//
// Where the DoFns live: transforms holds the Beam side that needs only core
// (transforms.StreamEvents: pubsubio read, decode, dead letters, grouping
// by key), and this file the fold (FoldFn), which wraps Processor. The fold
// stays here, next to Processor, rather than in transforms, because
// dependencies point inward (runners -> transforms -> core): transforms
// cannot import this package, and moving Processor out would split the
// tile logic the local consumer and its tests are built on. One Processor
// thus writes the _STREAMING tiles whichever way a GroupBy streams; the
// chronon binary, which is its own Dataflow worker, links both packages,
// so both sets of DoFns are registered on the workers.

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"cloud.google.com/go/pubsub/v2"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/config"
	cstream "github.com/chronon-go/chronon/core/stream"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/bigtable"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
	"github.com/chronon-go/chronon/runners/beamrun"
	"github.com/chronon-go/chronon/runners/pubsubdev"
	"github.com/chronon-go/chronon/transforms"
)

func init() {
	register.DoFn3x1[context.Context, []byte, func(*[]byte) bool, error](&FoldFn{})
	register.Iter1[[]byte]()
}

var (
	foldEvents     = beam.NewCounter(transforms.StreamNamespace, "events")
	foldDuplicates = beam.NewCounter(transforms.StreamNamespace, "duplicates")
	foldMalformed  = beam.NewCounter(transforms.StreamNamespace, "malformed")
	foldFiltered   = beam.NewCounter(transforms.StreamNamespace, "filtered")
	foldTiles      = beam.NewCounter(transforms.StreamNamespace, "tiles")
)

// Store kinds a worker can open (config.KV.Store).
const (
	storeSQLite   = "sqlite"
	storeBigtable = "bigtable"
)

// Pipeline adds job's streaming pipeline to s: transforms.StreamEvents
// (Pub/Sub, so Dataflow only) and the fold into the KV store's tiles.
func Pipeline(s beam.Scope, job *transforms.StreamJob) error {
	grouped, err := transforms.StreamEvents(s, job)
	if err != nil {
		return err
	}
	return Fold(s, job, grouped)
}

// Fold adds the fold of grouped events (KV<[]byte, iter []byte>, as
// transforms.KeyStreamEvents returns them) into job's _STREAMING tiles.
func Fold(s beam.Scope, job *transforms.StreamJob, grouped beam.PCollection) error {
	spec, err := job.Encode()
	if err != nil {
		return err
	}
	beam.ParDo0(s.Scope("stream"), &FoldFn{Job: spec}, grouped)
	return nil
}

// maxFoldBatch bounds the events FoldFn folds per store write.
const maxFoldBatch = 500

// FoldFn folds a key's grouped events into the GroupBy's _STREAMING tiles
// with a Processor. It batches the events of a bundle (up to maxFoldBatch
// per write) and writes them before the bundle ends, so Dataflow commits
// (acknowledges) a bundle's messages only once their tiles are written; a
// failed write fails the bundle, which Dataflow retries (redelivered
// events count once). Its Beam counters (transforms.StreamNamespace) count
// events, duplicates and tiles written.
type FoldFn struct {
	// Job is the transforms.StreamJob, encoded.
	Job string

	c       *transforms.CompiledStream
	store   kv.Store
	proc    *Processor
	pending []Message
}

// Setup compiles the job and opens its KV store.
func (f *FoldFn) Setup(ctx context.Context) error {
	j, err := transforms.DecodeStreamJob(f.Job)
	if err != nil {
		return err
	}
	if f.c, err = j.Compile(); err != nil {
		return err
	}
	if f.store, err = openStore(ctx, j.KV); err != nil {
		return err
	}
	f.proc, err = NewProcessor(ctx, f.c.GroupBy, f.c.Table, j.WindowTail, f.store)
	return err
}

// StartBundle forgets the tiles cached by earlier bundles: Dataflow may
// have moved their keys to another worker and back since, so the store
// holds the truth.
func (f *FoldFn) StartBundle(context.Context) {
	clear(f.proc.tiles)
	f.pending = f.pending[:0]
}

// ProcessElement decodes a key's events and folds them once the batch is
// full.
func (f *FoldFn) ProcessElement(ctx context.Context, _ []byte, events func(*[]byte) bool) error {
	var b []byte
	for events(&b) {
		e, err := transforms.DecodeStreamEvent(b)
		b = nil
		if err != nil {
			return err
		}
		row, err := f.c.Decoder.Decode(e.Data)
		if err != nil {
			// transforms' keying decoded it: only a changed decoder
			// (a worker update) gets here.
			foldMalformed.Inc(ctx, 1)
			beamlog.Warnf(ctx, "%s: message %s no longer decodes, dropped: %v", f.c.GroupBy.MetaData.GetName(), e.ID, err)
			continue
		}
		f.pending = append(f.pending, Message{ID: e.ID, Row: row, DS: e.DS})
		if len(f.pending) >= maxFoldBatch {
			if err := f.flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// FinishBundle folds what the bundle left.
func (f *FoldFn) FinishBundle(ctx context.Context) error { return f.flush(ctx) }

// Teardown closes the store.
func (f *FoldFn) Teardown() {
	if f.store != nil {
		f.store.Close()
	}
}

func (f *FoldFn) flush(ctx context.Context) error {
	if len(f.pending) == 0 {
		return nil
	}
	msgs := f.pending
	f.pending = f.pending[:0]
	stats, err := f.proc.Process(ctx, msgs)
	if err != nil {
		return fmt.Errorf("%s: fold %d events: %w", f.c.GroupBy.MetaData.GetName(), len(msgs), err)
	}
	for id, e := range stats.Errors {
		beamlog.Warnf(ctx, "%s: message %s no longer fits the source table, dropped: %v", f.c.GroupBy.MetaData.GetName(), id, e)
	}
	foldEvents.Inc(ctx, int64(stats.Events))
	foldDuplicates.Inc(ctx, int64(stats.Duplicates))
	foldMalformed.Inc(ctx, int64(stats.Malformed))
	foldFiltered.Inc(ctx, int64(stats.Filtered))
	foldTiles.Inc(ctx, int64(stats.Tiles))
	return nil
}

// openStore opens the KV store a worker writes tiles to: Bigtable on
// Dataflow (kv.store: bigtable), or a SQLite file (for tests and runners
// whose workers share a disk).
func openStore(ctx context.Context, c config.KV) (kv.Store, error) {
	switch c.Store {
	case storeBigtable:
		s, err := bigtable.Open(ctx, bigtable.Options{Project: c.Project, Instance: c.Instance, Emulator: c.Emulator})
		if err != nil {
			return nil, fmt.Errorf("open kv store: %w", err)
		}
		return s, nil
	case "", storeSQLite:
		s, err := sqlite.Open(c.Path, nil)
		if err != nil {
			return nil, fmt.Errorf("open kv store: %w", err)
		}
		return s, nil
	}
	return nil, fmt.Errorf("open kv store: kv.store %q cannot be opened by pipeline workers (bigtable or sqlite)", c.Store)
}

// DataflowOptions configure RunDataflow.
type DataflowOptions struct {
	// Table is the data schema of the streaming source's table.
	Table      *arrow.Schema
	WindowTail string
	// KV is the store the workers write tiles to; it must be Bigtable.
	KV config.KV
	// PubSubProject is the project of the topic, the subscription and the
	// dead-letter topic.
	PubSubProject string
	// Connect, when set, connects to Pub/Sub in PubSubProject to create the
	// topic, the subscription and the dead-letter topic when missing (as
	// Run does) before the job is submitted; a dry run never calls it.
	Connect func(context.Context) (*pubsub.Client, error)
	// Runner must name Dataflow. JobName defaults to
	// chronon-stream-<clean name>, stable so that a job can be updated.
	Runner beamrun.Options
	Log    *slog.Logger
}

// RunDataflow builds g's streaming pipeline and submits it to Dataflow,
// waiting while the job runs (stopping the wait does not stop the job:
// drain it in Dataflow). With o.Runner.DryRun it only logs the job (INFO,
// as Beam prints it) and touches nothing.
func RunDataflow(ctx context.Context, g *api.GroupBy, o DataflowOptions) error {
	name := g.MetaData.GetName()
	if o.Runner.Runner != beamrun.Dataflow {
		return fmt.Errorf("%s: runner %q: streaming reads Pub/Sub with Beam's pubsubio, which only Dataflow runs (use --runner dataflow, or no --runner for the in-process consumer)", name, o.Runner.Name())
	}
	if o.KV.Plugin != "" || o.KV.Store != storeBigtable {
		store := o.KV.Store
		if o.KV.Plugin != "" {
			store = "plugin"
		}
		if store == "" {
			store = storeSQLite
		}
		return fmt.Errorf("%s: streaming on Dataflow writes tiles from its workers: kv.store must be bigtable (is %s)", name, store)
	}
	if o.PubSubProject == "" {
		return fmt.Errorf("%s: streaming on Dataflow: no Pub/Sub project (set pubsub.project in chronon.yaml, or the runner's project)", name)
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	job, err := transforms.NewStreamJob(g, o.Table, o.WindowTail, o.PubSubProject, o.KV)
	if err != nil {
		return err
	}
	sub, err := job.Subscription()
	if err != nil {
		return err
	}
	dead, err := job.DeadLetterTopic()
	if err != nil {
		return err
	}
	beamrun.Init()
	p, s := beam.NewPipelineWithRoot()
	if err := Pipeline(s, job); err != nil {
		return err
	}
	if !o.Runner.DryRun && o.Connect != nil {
		if err := ensureResources(ctx, o.Connect, job.Topic, sub, dead); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	ropts := o.Runner
	ropts.Log = o.Log
	if ropts.JobName == "" {
		ropts.JobName = JobName(name)
	}
	o.Log.Info("streaming", "group_by", name, "runner", ropts.Name(), "job", ropts.JobName, "dry_run", ropts.DryRun,
		"subscription", "projects/"+job.Project+"/subscriptions/"+sub, "dead_letter", dead, "dataset", g.MetaData.StreamingDataset())
	if err := beamrun.Run(ctx, p, ropts); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// ensureResources creates the topic, the dead-letter topic and the
// subscription when missing.
func ensureResources(ctx context.Context, connect func(context.Context) (*pubsub.Client, error), topicStr, sub, dead string) error {
	topic, err := cstream.ParseTopic(topicStr)
	if err != nil {
		return err
	}
	c, err := connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, id := range []string{topic.ID, dead} {
		if err := pubsubdev.EnsureTopic(ctx, c, id); err != nil {
			return err
		}
	}
	return ensureSubscription(ctx, c, sub, topic.ID)
}

// JobName is the Dataflow job name of a GroupBy's streaming job:
// chronon-stream- and its name, lower-cased, with every character Dataflow
// does not allow ([-a-z0-9]) replaced by "-".
func JobName(groupByName string) string {
	var b strings.Builder
	b.WriteString("chronon-stream-")
	for _, r := range strings.ToLower(groupByName) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	return strings.TrimRight(b.String(), "-")
}
