// SPDX-License-Identifier: Apache-2.0

package transforms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/blob"
)

func init() {
	register.DoFn4x1[context.Context, string, func(string, []byte), func(string, []byte), error](&readFn{})
	register.DoFn4x1[context.Context, string, func(*[]byte) bool, func(string, []byte), error](&sweepFn{})
	register.DoFn4x1[context.Context, string, func(*[]byte) bool, func(string), error](&assembleFn{})
	register.Emitter2[string, []byte]()
	register.Emitter1[string]()
	register.Iter1[[]byte]()
}

// Backfill adds a GroupBy or Join backfill to the pipeline: it reads the
// tasks' partitions, sweeps each key shard and writes every output
// partition to the job's scratch directory. It returns the files written.
func Backfill(s beam.Scope, job *Job, tasks []ReadTask) (beam.PCollection, error) {
	spec, err := job.Encode()
	if err != nil {
		return beam.PCollection{}, err
	}
	s = s.Scope("backfill")
	tasksCol, ok := createTasks(s, tasks)
	if !ok {
		return beam.Create(s, ""), nil
	}
	shards, days := beam.ParDo2(s, &readFn{Job: spec}, tasksCol)
	values := beam.ParDo(s, &sweepFn{Job: spec}, beam.GroupByKey(s, shards))
	if job.Kind != api.KindJoin {
		// A GroupBy's (or upload's) rows are whole after the sweep.
		return beam.ParDo(s, &assembleFn{Job: spec}, beam.GroupByKey(s, values)), nil
	}
	all := beam.Flatten(s, values, days)
	return beam.ParDo(s, &assembleFn{Job: spec}, beam.GroupByKey(s, all)), nil
}

// createTasks returns the tasks' encodings as a PCollection reshuffled
// over the workers; ok is false without tasks.
func createTasks(s beam.Scope, tasks []ReadTask) (col beam.PCollection, ok bool) {
	if len(tasks) == 0 {
		return beam.PCollection{}, false
	}
	elems := make([]string, len(tasks))
	for i, t := range tasks {
		elems[i] = t.Encode()
	}
	return beam.Reshuffle(s, beam.CreateList(s, elems)), true
}

// readFn reads one partition and emits its rows: query and event batches
// by key shard, and a join's left rows by day.
type readFn struct {
	Job   string
	c     *compiled
	async *async
}

func (f *readFn) Setup() (err error) {
	f.async = newAsync()
	f.c, err = compileJob(f.Job)
	return err
}

// FinishBundle emits what the bundle's reads produced.
func (f *readFn) FinishBundle(_ context.Context, byShard, byDay func(string, []byte)) error {
	return f.async.finish(byShard, byDay)
}

func (f *readFn) Teardown() { f.c.close() }

func (f *readFn) ProcessElement(ctx context.Context, elem string, _, _ func(string, []byte)) error {
	if elem == "" {
		return nil
	}
	t, err := decodeTask(elem)
	if err != nil {
		return err
	}
	f.async.run(func(emit func(int, string, []byte)) error {
		return f.read(ctx, t,
			func(k string, v []byte) { emit(0, k, v) },
			func(k string, v []byte) { emit(1, k, v) })
	})
	return nil
}

// read reads one task's partition.
func (f *readFn) read(ctx context.Context, t ReadTask, byShard, byDay func(string, []byte)) error {
	day, err := backfill.DayOf(t.DS)
	if err != nil {
		return fmt.Errorf("read %s/ds=%s: %w", t.Table, t.DS, err)
	}
	sc, err := f.c.wh.Scan(ctx, t.Table, warehouse.ScanOptions{StartDS: t.DS, EndDS: t.DS})
	if err != nil {
		return fmt.Errorf("read %s/ds=%s: %w", t.Table, t.DS, err)
	}
	defer sc.Close()
	shards := f.c.job.Shards
	ordinal := 0
	var boot *backfill.BootstrapDay
	if t.Role == RoleLeft && f.c.join.Bootstrap() != nil {
		if boot, err = loadBootstrapDay(ctx, f.c.wh, f.c.join.Bootstrap(), t.DS); err != nil {
			return fmt.Errorf("%s: %w", f.c.join.Def.MetaData.GetName(), err)
		}
		defer boot.Release()
	}
	for {
		rec, err := sc.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s/ds=%s: %w", t.Table, t.DS, err)
		}
		err = f.emit(t, day, rec, &ordinal, shards, boot, byShard, byDay)
		rec.Release()
		if err != nil {
			return fmt.Errorf("read %s/ds=%s: %w", t.Table, t.DS, err)
		}
	}
}

func (f *readFn) emit(t ReadTask, day int64, rec arrow.RecordBatch, ordinal *int, shards int, boot *backfill.BootstrapDay, byShard, byDay func(string, []byte)) error {
	if t.Role == RolePartTable {
		b, err := encodeElement(tagPartTable, t.Part, rec)
		if err != nil {
			return err
		}
		byDay(t.DS, b)
		return nil
	}
	if t.Role == RoleLeft {
		lb, err := f.c.join.LeftRowsBootstrapped(rec, day, *ordinal, boot)
		if err != nil || lb == nil {
			return err
		}
		defer lb.Release()
		*ordinal += int(lb.Rows.NumRows())
		b, err := encodeElement(tagLeft, 0, lb.Rows)
		if err != nil {
			return err
		}
		byDay(t.DS, b)
		for pi, q := range lb.Queries {
			if !f.c.job.computes(pi, t.DS) {
				continue
			}
			if err := emitShards(q, f.c.join.Parts[pi].RightKeys, pi, tagQueries, shards, byShard); err != nil {
				return err
			}
		}
		return nil
	}
	parts := f.c.parts()
	mutation := t.Role == RoleMutations
	tag := tagEvents
	if mutation {
		tag = tagMutations
	}
	for _, r := range t.Readers() {
		if r.Part < 0 || r.Part >= len(parts) {
			return fmt.Errorf("read task names part %d of %d", r.Part, len(parts))
		}
		p := parts[r.Part]
		rows, err := p.EventRows(r.Source, mutation, rec, day)
		if err != nil {
			return err
		}
		if rows == nil {
			continue
		}
		err = emitShards(rows, p.GroupBy.Keys, r.Part, tag, shards, byShard)
		rows.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

func emitShards(rec arrow.RecordBatch, keys []string, part int, tag byte, shards int, emit func(string, []byte)) error {
	split, err := backfill.SplitByShard(rec, keys, shards, tag == tagQueries)
	if err != nil {
		return err
	}
	for s, sub := range split {
		b, err := encodeElement(tag, part, sub)
		sub.Release()
		if err != nil {
			return err
		}
		emit(shardKey(part, s), b)
	}
	return nil
}

// sweepFn evaluates one key shard of one join part (or of the GroupBy) and
// emits its values by output day.
type sweepFn struct {
	Job   string
	c     *compiled
	async *async
}

func (f *sweepFn) Setup() (err error) {
	f.async = newAsync()
	f.c, err = compileJob(f.Job)
	return err
}

// FinishBundle emits the values of the bundle's shards.
func (f *sweepFn) FinishBundle(_ context.Context, emit func(string, []byte)) error {
	return f.async.finish(emit)
}

func (f *sweepFn) Teardown() { f.c.close() }

func (f *sweepFn) ProcessElement(ctx context.Context, key string, values func(*[]byte) bool, _ func(string, []byte)) error {
	part, _, err := parseShardKey(key)
	if err != nil {
		return err
	}
	// The iterator is valid only until ProcessElement returns.
	var elems [][]byte
	var b []byte
	for values(&b) {
		elems = append(elems, b)
		b = nil
	}
	f.async.run(func(emit func(int, string, []byte)) error {
		return f.sweep(key, part, elems, func(k string, v []byte) { emit(0, k, v) })
	})
	return nil
}

// sweep evaluates one shard.
func (f *sweepFn) sweep(key string, part int, elems [][]byte, emit func(string, []byte)) error {
	var in backfill.Shard
	for _, b := range elems {
		e, err := decodeElement(b)
		if err != nil {
			return fmt.Errorf("shard %s: %w", key, err)
		}
		switch e.tag {
		case tagQueries:
			in.Queries = append(in.Queries, e.recs...)
		case tagEvents:
			in.Events = append(in.Events, e.recs...)
		case tagMutations:
			in.Mutations = append(in.Mutations, e.recs...)
		default:
			return fmt.Errorf("shard %s: unexpected element tag %q", key, e.tag)
		}
	}
	defer releaseRecs(in.Queries)
	defer releaseRecs(in.Events)
	defer releaseRecs(in.Mutations)
	var out map[int64]arrow.RecordBatch
	var err error
	switch {
	case f.c.upload != nil:
		var rec arrow.RecordBatch
		if rec, err = f.c.upload.Evaluate(in.Events); err == nil {
			day, _ := backfill.DayOf(f.c.job.UploadDS)
			out = map[int64]arrow.RecordBatch{day: rec}
		}
	case f.c.gb != nil:
		out, err = f.c.gb.Evaluate(f.c.days, in.Events)
	default:
		p := f.c.join.Parts[part]
		out, err = p.GroupBy.Evaluate(p.Rule, in)
	}
	if err != nil {
		return fmt.Errorf("shard %s: %w", key, err)
	}
	for day, rec := range out {
		b, err := encodeElement(tagValues, part, rec)
		rec.Release()
		if err != nil {
			return err
		}
		emit(backfill.DayString(day), b)
	}
	return nil
}

// assembleFn builds one output partition from its left rows and values and
// writes it to the scratch directory.
type assembleFn struct {
	Job     string
	c       *compiled
	scratch blob.Store
}

func (f *assembleFn) Setup(ctx context.Context) error {
	c, err := compileJob(f.Job)
	f.c = c
	if err != nil {
		return err
	}
	f.scratch, err = blob.Open(ctx, c.job.Scratch)
	return err
}

func (f *assembleFn) Teardown() {
	f.c.close()
	if f.scratch != nil {
		f.scratch.Close()
	}
}

func (f *assembleFn) ProcessElement(ctx context.Context, ds string, values func(*[]byte) bool, emit func(string)) error {
	var left []arrow.RecordBatch
	parts := make([]backfill.PartValues, len(f.c.parts()))
	for i := range parts {
		parts[i].FromTable = f.c.join != nil && !f.c.job.computes(i, ds)
	}
	defer func() {
		releaseRecs(left)
		for _, p := range parts {
			releaseRecs(p.Computed)
			releaseRecs(p.Table)
		}
	}()
	var b []byte
	for values(&b) {
		e, err := decodeElement(b)
		if err != nil {
			return fmt.Errorf("partition %s: %w", ds, err)
		}
		switch e.tag {
		case tagLeft:
			left = append(left, e.recs...)
		case tagValues:
			parts[e.part].Computed = append(parts[e.part].Computed, e.recs...)
		case tagPartTable:
			parts[e.part].Table = append(parts[e.part].Table, e.recs...)
		default:
			return fmt.Errorf("partition %s: unexpected element tag %q", ds, e.tag)
		}
	}
	var rec arrow.RecordBatch
	var partRows []arrow.RecordBatch
	var err error
	if f.c.join != nil {
		rec, partRows, err = f.c.join.Assemble(left, parts)
	} else {
		rec, err = backfill.Concat(parts[0].Computed)
	}
	if err != nil || rec == nil {
		return err
	}
	defer rec.Release()
	defer releaseRecs(partRows)
	path, err := writeScratch(ctx, f.scratch, ScratchDir(-1), ds, rec)
	if err != nil {
		return err
	}
	emit(path)
	if f.c.join != nil && f.c.join.Bootstrap() != nil {
		if err := writeBootstrap(ctx, f.scratch, f.c.join, ds, left, emit); err != nil {
			return err
		}
	}
	for pi, pr := range partRows {
		if pr == nil {
			continue
		}
		if path, err = writeScratch(ctx, f.scratch, ScratchDir(pi), ds, pr); err != nil {
			return err
		}
		emit(path)
	}
	return nil
}

// ScratchDir is where, under a job's scratch root, it writes the output
// table's partitions (part -1) or a join part's table's partitions.
func ScratchDir(part int) string {
	if part < 0 {
		return "output"
	}
	return fmt.Sprintf("part-%d", part)
}

// writeScratch writes rec (without its ds column) as an Arrow IPC file
// under dir/ds=DS/ of the scratch store. The file becomes visible only
// once complete (blob.Writer), so the launcher never sees half of one.
func writeScratch(ctx context.Context, store blob.Store, dir, ds string, rec arrow.RecordBatch) (string, error) {
	rec = dropColumn(rec, api.PartitionColumn)
	defer rec.Release()
	var id [8]byte
	rand.Read(id[:])
	path := dir + "/ds=" + ds + "/" + hex.EncodeToString(id[:]) + ".arrow"
	bw, err := store.Create(ctx, path)
	if err != nil {
		return "", fmt.Errorf("write partition %s: %w", ds, err)
	}
	w, err := ipc.NewFileWriter(bw, ipc.WithSchema(rec.Schema()))
	if err == nil {
		err = w.Write(rec)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		bw.Abort()
		return "", fmt.Errorf("write partition %s: %w", ds, err)
	}
	if err := bw.Close(); err != nil {
		return "", fmt.Errorf("write partition %s: %w", ds, err)
	}
	return store.URI(path), nil
}

// dropColumn returns rec without the named column (rec itself, retained,
// when it has none).
func dropColumn(rec arrow.RecordBatch, name string) arrow.RecordBatch {
	idx := rec.Schema().FieldIndices(name)
	if len(idx) == 0 {
		rec.Retain()
		return rec
	}
	var fields []arrow.Field
	var cols []arrow.Array
	for i, f := range rec.Schema().Fields() {
		if i != idx[0] {
			fields = append(fields, f)
			cols = append(cols, rec.Column(i))
		}
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rec.NumRows())
}
