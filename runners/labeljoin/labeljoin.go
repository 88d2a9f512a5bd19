// SPDX-License-Identifier: Apache-2.0

package labeljoin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/chronon-go/chronon/core/api"
	core "github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/blob"
	"github.com/chronon-go/chronon/runners/backfill"
	"github.com/chronon-go/chronon/runners/beamrun"
	"github.com/chronon-go/chronon/runners/progress"
	"github.com/chronon-go/chronon/transforms"
)

// Options configure a label join run: those of a backfill, with Start and
// End the label versions (label_ds) to compute, both inclusive and
// required; Strict makes missing partitions of label event tables errors;
// Progress is called after each version with the versions done.
type Options = backfill.Options

// Version says what a run did for one label_ds.
type Version struct {
	// LabelDS is the version.
	LabelDS string
	// LeftStart and LeftEnd bound the left partitions it refreshes.
	LeftStart, LeftEnd string
	// Days are the left partitions that exist in that range.
	Days []string
	// Computed is false when the version was up to date (or had no left
	// partitions, or the run was a dry run).
	Computed bool
	// Rows is the number of label rows of the version written.
	Rows int64
}

// Result says what a label join run did.
type Result struct {
	// Table is the label table, Labeled and LabeledLatest the materialized
	// views.
	Table, Labeled, LabeledLatest string
	// Versions are the label versions of the range, in order.
	Versions []Version
	// Refreshed are the partitions of Labeled and LabeledLatest rewritten.
	Refreshed []string
	// Warnings are problems that did not stop the run.
	Warnings []string
	// Elapsed is the run's wall time.
	Elapsed time.Duration
}

// run is one label join run's state.
type run struct {
	ctx   context.Context
	wh    warehouse.Warehouse
	j     *api.Join
	lj    *core.LabelJoin
	def   string
	opts  Options
	log   *slog.Logger
	store blob.Store
	res   *Result
}

// Run computes j's label versions Options.Start..End into the label table,
// then rewrites the partitions of the `_labeled` and `_labeled_latest`
// tables they touch (see the package documentation).
func Run(ctx context.Context, wh warehouse.Warehouse, j *api.Join, opts Options) (*Result, error) {
	start := time.Now()
	name := j.MetaData.GetName()
	if opts.Start == "" || opts.End == "" {
		return nil, fmt.Errorf("%s: label join: a label_ds range (start and end) is required", name)
	}
	first, err := core.DayOf(opts.Start)
	if err != nil {
		return nil, fmt.Errorf("%s: label join: start %q: %w", name, opts.Start, err)
	}
	last, err := core.DayOf(opts.End)
	if err != nil {
		return nil, fmt.Errorf("%s: label join: end %q: %w", name, opts.End, err)
	}
	if first > last {
		return nil, fmt.Errorf("%s: label join: start %s is after end %s", name, opts.Start, opts.End)
	}
	lj, err := core.CompileLabelJoin(j, transforms.SchemaOf(ctx, wh), opts.WindowTail)
	if err != nil {
		return nil, err
	}
	def, err := api.Marshal(lj.Join.Def)
	if err != nil {
		return nil, fmt.Errorf("%s: label join: %w", name, err)
	}
	store, err := blob.Open(ctx, opts.Root)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	r := &run{ctx: ctx, wh: wh, j: j, lj: lj, def: string(def), opts: opts, log: opts.Log, store: store,
		res: &Result{Table: lj.Table(), Labeled: j.MetaData.TableWithSuffix(api.SuffixLabeled),
			LabeledLatest: j.MetaData.TableWithSuffix(api.SuffixLabeledLatest)}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	var touched []string
	var rows int64
	for d := first; d <= last; d++ {
		v, err := r.version(core.DayString(d))
		if err != nil {
			return nil, err
		}
		r.res.Versions = append(r.res.Versions, v)
		touched = append(touched, v.Days...)
		rows += v.Rows
		if opts.Progress != nil {
			n := int64(last - first + 1)
			opts.Progress(progress.Progress{Phase: "label", Done: int64(len(r.res.Versions)), Total: n, Unit: "versions",
				Rows: rows, Final: d == last})
		}
	}
	if !opts.Runner.DryRun {
		if err := r.refreshViews(touched); err != nil {
			return nil, err
		}
	}
	r.res.Elapsed = time.Since(start)
	return r.res, nil
}

func (r *run) warnf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.res.Warnings = append(r.res.Warnings, msg)
	r.log.Warn(msg, "definition", r.j.MetaData.GetName())
}

// describe returns a table's description, nil when it does not exist.
func (r *run) describe(table string) (*warehouse.TableInfo, error) {
	info, err := r.wh.Describe(r.ctx, table)
	if errors.Is(err, warehouse.ErrTableNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: label join: %w", r.j.MetaData.GetName(), err)
	}
	return info, nil
}

func partitionSet(info *warehouse.TableInfo) map[string]bool {
	have := map[string]bool{}
	if info != nil {
		for _, p := range info.Partitions {
			have[p.DS] = true
		}
	}
	return have
}

// version computes label version labelDS unless it is up to date.
func (r *run) version(labelDS string) (Version, error) {
	name := r.j.MetaData.GetName()
	v := Version{LabelDS: labelDS}
	var err error
	if v.LeftStart, v.LeftEnd, err = core.LeftDays(r.j.LabelPart, labelDS); err != nil {
		return v, fmt.Errorf("%s: %w", name, err)
	}
	leftTable := r.j.Left.Table()
	left, err := r.describe(leftTable)
	if err != nil {
		return v, err
	}
	have := partitionSet(left)
	var missing []string
	for ds := v.LeftStart; ds <= v.LeftEnd; ds, _ = batch.ShiftDS(ds, 1) {
		if have[ds] {
			v.Days = append(v.Days, ds)
		} else {
			missing = append(missing, ds)
		}
	}
	if len(missing) > 0 {
		// As in Chronon, a left day without data gets no labels; the version
		// hash lists the days present, so a later run fills it in.
		r.warnf("label_ds %s: left table %s lacks partitions %s: their rows get no labels yet", labelDS, leftTable, strings.Join(missing, ", "))
	}
	if len(v.Days) == 0 {
		return v, nil
	}
	hash := r.lj.VersionHash(r.opts.WindowTail, v.Days)
	labels, err := r.describe(r.lj.Table())
	if err != nil {
		return v, err
	}
	if labels != nil && labels.Properties[core.VersionProperty(labelDS)] == hash {
		r.log.Info("label version up to date", "definition", name, "label_ds", labelDS, "table", r.lj.Table())
		return v, nil
	}
	tasks, err := r.tasks(labelDS, v.Days)
	if err != nil {
		return v, err
	}
	scratch := fmt.Sprintf("%s/job-%d-%s", scratchRoot, os.Getpid(), randomID())
	defer r.store.DeleteAll(context.WithoutCancel(r.ctx), scratch)
	if err := r.pipeline(labelDS, v.Days, tasks, scratch); err != nil {
		return v, err
	}
	if r.opts.Runner.DryRun {
		return v, nil
	}
	if v.Rows, err = r.commitVersion(labelDS, v.Days, hash, labels, scratch+"/"+transforms.ScratchDir(-1)); err != nil {
		return v, err
	}
	v.Computed = true
	r.log.Info("label version committed", "definition", name, "label_ds", labelDS, "table", r.lj.Table(),
		"left_days", len(v.Days), "rows", v.Rows)
	return v, nil
}

// scratchRoot is where runners/backfill keeps job scratch; the same
// "job-<pid>-<id>" names let its dead-scratch cleanup remove ours too.
const scratchRoot = ".scratch"

func randomID() string {
	var id [8]byte
	rand.Read(id[:])
	return hex.EncodeToString(id[:])
}

// tasks lists the partitions a label version reads: the left days, and of
// each label part's sources the snapshot partition labelDS (entities) or
// the partitions of the label window ending on labelDS (events).
func (r *run) tasks(labelDS string, days []string) ([]transforms.ReadTask, error) {
	name := r.j.MetaData.GetName()
	var tasks []transforms.ReadTask
	for _, ds := range days {
		tasks = append(tasks, transforms.ReadTask{Table: r.j.Left.Table(), DS: ds, Role: transforms.RoleLeft})
	}
	for pi, p := range r.lj.Join.Parts {
		g := p.GroupBy.Def
		for si, s := range g.Sources {
			what := fmt.Sprintf("%s: labelPart.labels[%d] (%s) sources[%d]", name, pi, g.MetaData.GetName(), si)
			if s.JoinSource != nil || s.Events != nil && s.Events.IsCumulative {
				return nil, fmt.Errorf("%s: label sources must be plain events or entities tables", what)
			}
			info, err := r.describe(s.Table())
			if err != nil {
				return nil, err
			}
			have := partitionSet(info)
			want := []string{labelDS}
			if s.Events != nil {
				w := int(g.Aggregations[0].Windows[0].Length)
				want = want[:0]
				for i := w - 1; i >= 0; i-- {
					ds, _ := batch.ShiftDS(labelDS, -i)
					want = append(want, ds)
				}
			}
			var absent []string
			for _, ds := range want {
				if !have[ds] {
					absent = append(absent, ds)
					continue
				}
				tasks = append(tasks, transforms.ReadTask{Table: s.Table(), DS: ds, Role: transforms.RoleEvents, Part: pi, Source: si})
			}
			switch {
			case len(absent) == 0:
			case s.Entities != nil || r.opts.Strict:
				// A label snapshot that has not landed would store null labels
				// as if they were final.
				return nil, fmt.Errorf("%s: missing partitions of %s: %s", what, s.Table(), strings.Join(absent, ", "))
			default:
				r.warnf("label_ds %s: %s lacks partitions %s; each is read as a day without events", labelDS, s.Table(), strings.Join(absent, ", "))
			}
		}
	}
	return transforms.MergeReads(tasks), nil
}

// pipeline runs the Beam pipeline of one label version.
func (r *run) pipeline(labelDS string, days []string, tasks []transforms.ReadTask, scratch string) error {
	job := &transforms.Job{Kind: api.KindJoin, Definition: r.def, Warehouse: r.opts.Root,
		Scratch: r.store.URI(scratch), WindowTail: r.opts.WindowTail, Shards: r.opts.Shards, Days: days}
	if job.Shards <= 0 {
		job.Shards = 16
	}
	r.log.Info("label join", "definition", r.j.MetaData.GetName(), "label_ds", labelDS, "left_from", days[0],
		"left_to", days[len(days)-1], "inputs", len(tasks), "runner", r.opts.Runner.Name())
	beamrun.Init()
	pipe, s := beam.NewPipelineWithRoot()
	if _, err := transforms.LabelJoin(s, job, labelDS, tasks); err != nil {
		return fmt.Errorf("%s: %w", r.j.MetaData.GetName(), err)
	}
	ropts := r.opts.Runner
	ropts.Log = r.log
	if err := beamrun.Run(r.ctx, pipe, ropts); err != nil {
		return fmt.Errorf("%s: label_ds %s: %w", r.j.MetaData.GetName(), labelDS, err)
	}
	return nil
}

// commitVersion replaces version labelDS in every left day's partition of
// the label table, in one transaction: the rows of the other versions stay,
// so the partition is rewritten whole, and the version's hash is stored as
// a table property in the same commit.
func (r *run) commitVersion(labelDS string, days []string, hash string, labels *warehouse.TableInfo, dir string) (int64, error) {
	table := r.lj.Table()
	var stored *arrow.Schema
	if labels != nil {
		stored = labels.Schema
	}
	schema, err := core.UnionSchema(r.lj.TableSchema(), stored)
	if err != nil {
		return 0, fmt.Errorf("%s: %s: %w", r.j.MetaData.GetName(), table, err)
	}
	txn, err := r.wh.Begin(r.ctx, table, schema, warehouse.WriteOptions{Mode: warehouse.Overwrite,
		Properties: map[string]string{core.VersionProperty(labelDS): hash}})
	if err != nil {
		return 0, fmt.Errorf("%s: write %s: %w", r.j.MetaData.GetName(), table, err)
	}
	defer txn.Abort()
	have := partitionSet(labels)
	var rows int64
	for _, ds := range days {
		n, err := r.mergeDay(txn, schema, labelDS, ds, have[ds], dir+"/ds="+ds)
		if err != nil {
			return 0, fmt.Errorf("%s: write %s/ds=%s: %w", r.j.MetaData.GetName(), table, ds, err)
		}
		rows += n
	}
	if err := txn.Commit(r.ctx); err != nil {
		return 0, fmt.Errorf("%s: commit %s: %w", r.j.MetaData.GetName(), table, err)
	}
	return rows, nil
}

// mergeDay writes one label table partition: its other versions and the
// version's fresh rows from the scratch files in dir.
func (r *run) mergeDay(txn warehouse.Txn, schema *arrow.Schema, labelDS, ds string, exists bool, dir string) (int64, error) {
	assembled, err := readScratch(r.ctx, r.store, dir)
	defer releaseAll(assembled)
	if err != nil {
		return 0, err
	}
	// A retried bundle may have left a day's rows in two files: LabelRows
	// keeps one row per key of the whole day.
	all, err := core.Concat(assembled)
	if err != nil {
		return 0, err
	}
	var day arrow.RecordBatch
	var rows int64
	if all != nil {
		day, err = r.lj.LabelRows(all, labelDS)
		all.Release()
		if err != nil {
			return 0, err
		}
		defer day.Release()
		rows = day.NumRows()
	}
	var existing []arrow.RecordBatch
	if exists {
		if existing, err = transforms.ScanDay(r.ctx, r.wh, r.lj.Table(), ds); err != nil {
			return 0, err
		}
		defer releaseAll(existing)
	}
	merged, err := core.MergeLabelVersion(schema, existing, day, labelDS)
	if err != nil {
		return 0, err
	}
	defer releaseAll(merged)
	if len(merged) == 0 && exists {
		// Every row of the partition was this version's: it becomes empty.
		merged = append(merged, array.NewRecordBatch(schema, emptyColumns(schema), 0))
	}
	for _, m := range merged {
		if err := txn.Write(r.ctx, ds, m); err != nil {
			return 0, err
		}
	}
	return rows, nil
}

// readScratch reads the Arrow IPC files the workers wrote under dir.
func readScratch(ctx context.Context, store blob.Store, dir string) ([]arrow.RecordBatch, error) {
	entries, err := store.List(ctx, dir)
	if err != nil {
		return nil, err
	}
	var out []arrow.RecordBatch
	for _, e := range entries {
		if e.Dir || !strings.HasSuffix(e.Path, ".arrow") {
			continue
		}
		recs, err := readIPCFile(ctx, store, e.Path)
		out = append(out, recs...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func readIPCFile(ctx context.Context, store blob.Store, path string) ([]arrow.RecordBatch, error) {
	fh, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	rd, err := ipc.NewFileReader(io.NewSectionReader(fh, 0, fh.Size()))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer rd.Close()
	var out []arrow.RecordBatch
	for i := 0; i < rd.NumRecords(); i++ {
		rec, err := rd.RecordBatch(i)
		if err != nil {
			return out, fmt.Errorf("read %s: %w", path, err)
		}
		rec.Retain() // valid only until the next RecordBatch call otherwise
		out = append(out, rec)
	}
	return out, nil
}

// releaseAll releases batches, skipping nil ones.
func releaseAll(recs []arrow.RecordBatch) {
	for _, r := range recs {
		if r != nil {
			r.Release()
		}
	}
}

func emptyColumns(s *arrow.Schema) []arrow.Array {
	cols := make([]arrow.Array, s.NumFields())
	for i, f := range s.Fields() {
		cols[i] = array.MakeArrayOfNull(nil, f.Type, 0)
	}
	return cols
}

// refreshViews rewrites the partitions of the labeled tables for the left
// days touched whose labels were computed now or that the tables lack.
func (r *run) refreshViews(touched []string) error {
	computed := map[string]bool{}
	for _, v := range r.res.Versions {
		for _, ds := range v.Days {
			computed[ds] = computed[ds] || v.Computed
		}
	}
	labeled, err := r.describe(r.res.Labeled)
	if err != nil {
		return err
	}
	features, err := r.describe(r.j.MetaData.OutputTable())
	if err != nil {
		return err
	}
	labels, err := r.describe(r.lj.Table())
	if err != nil || labels == nil {
		return err
	}
	inLabeled, inFeatures, inLabels := partitionSet(labeled), partitionSet(features), partitionSet(labels)
	slices.Sort(touched)
	var days, noFeatures []string
	for _, ds := range slices.Compact(touched) {
		switch {
		case !inLabels[ds] || !computed[ds] && inLabeled[ds]:
		case !inFeatures[ds]:
			noFeatures = append(noFeatures, ds)
		default:
			days = append(days, ds)
		}
	}
	if len(noFeatures) > 0 {
		r.warnf("the join's output table %s lacks partitions %s (run its backfill): %s and %s skip them",
			r.j.MetaData.OutputTable(), strings.Join(noFeatures, ", "), r.res.Labeled, r.res.LabeledLatest)
	}
	if len(days) == 0 {
		return nil
	}
	schema, err := core.LabeledSchema(features.Schema, labels.Schema, r.lj.RowKeys)
	if err != nil {
		return fmt.Errorf("%s: %w", r.j.MetaData.GetName(), err)
	}
	all, err := r.beginView(r.res.Labeled, schema)
	if err != nil {
		return err
	}
	defer all.Abort()
	latest, err := r.beginView(r.res.LabeledLatest, schema)
	if err != nil {
		return err
	}
	defer latest.Abort()
	for _, ds := range days {
		if err := r.viewDay(ds, schema, features.Name, all, latest); err != nil {
			return fmt.Errorf("%s: labeled views ds=%s: %w", r.j.MetaData.GetName(), ds, err)
		}
	}
	for _, t := range []warehouse.Txn{all, latest} {
		if err := t.Commit(r.ctx); err != nil {
			return fmt.Errorf("%s: commit labeled views: %w", r.j.MetaData.GetName(), err)
		}
	}
	r.res.Refreshed = days
	r.log.Info("labeled views refreshed", "definition", r.j.MetaData.GetName(), "tables",
		r.res.Labeled+", "+r.res.LabeledLatest, "partitions", len(days))
	return nil
}

func (r *run) beginView(table string, schema *arrow.Schema) (warehouse.Txn, error) {
	txn, err := r.wh.Begin(r.ctx, table, schema, warehouse.WriteOptions{Mode: warehouse.Overwrite,
		Properties: map[string]string{"label_table": r.lj.Table(), "feature_table": r.j.MetaData.OutputTable()}})
	if err != nil {
		return nil, fmt.Errorf("%s: write %s: %w", r.j.MetaData.GetName(), table, err)
	}
	return txn, nil
}

// viewDay writes one partition of both labeled tables.
func (r *run) viewDay(ds string, schema *arrow.Schema, featureTable string, all, latest warehouse.Txn) error {
	features, err := scanConcat(r.ctx, r.wh, featureTable, ds)
	if err != nil {
		return err
	}
	defer features.Release()
	labels, err := scanConcat(r.ctx, r.wh, r.lj.Table(), ds)
	if err != nil {
		return err
	}
	defer labels.Release()
	for _, w := range []struct {
		txn    warehouse.Txn
		latest bool
	}{{all, false}, {latest, true}} {
		rec, err := core.LabeledRows(schema, features, labels, r.lj.RowKeys, w.latest)
		if err != nil {
			return err
		}
		err = w.txn.Write(r.ctx, ds, rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// scanConcat reads one partition of a table as one record.
func scanConcat(ctx context.Context, wh warehouse.Warehouse, table, ds string) (arrow.RecordBatch, error) {
	recs, err := transforms.ScanDay(ctx, wh, table, ds)
	if err != nil {
		return nil, fmt.Errorf("read %s/ds=%s: %w", table, ds, err)
	}
	defer releaseAll(recs)
	rec, err := core.Concat(recs)
	if err != nil || rec != nil {
		return rec, err
	}
	info, err := wh.Describe(ctx, table)
	if err != nil {
		return nil, err
	}
	s := core.ScanSchema(info.Schema)
	return array.NewRecordBatch(s, emptyColumns(s), 0), nil
}
