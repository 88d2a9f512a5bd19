// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/chronon-go/chronon/core/api"
	core "github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/blob"
	"github.com/chronon-go/chronon/runners/beamrun"
	"github.com/chronon-go/chronon/runners/plan"
	"github.com/chronon-go/chronon/runners/progress"
	"github.com/chronon-go/chronon/transforms"
)

// Options configure a backfill.
type Options struct {
	// Root is the warehouse root workers open (the launcher's warehouse).
	Root string
	// Start and End bound the output partitions (plan.Options).
	Start, End string
	// WindowTail is chronon.yaml's window_tail.
	WindowTail string
	// Strict makes missing event partitions errors.
	Strict bool
	// Runner chooses and configures the Beam runner.
	Runner beamrun.Options
	// Shards is the number of key shards (default 16).
	Shards int
	// Log receives progress lines (nil: discarded).
	Log *slog.Logger
	// Progress, when set, is called with the partitions finished so far
	// (phase "compute": the workers wrote them; phase "commit").
	Progress func(progress.Progress)
}

// Result says what a backfill did.
type Result struct {
	Plan *plan.Plan
	// Table is the output table.
	Table string
	// Computed are the partitions written (none when up to date, or for a
	// dry run).
	Computed []string
	// Rows is the number of rows written.
	Rows int64
	// Elapsed is the wall time of the pipeline and commit.
	Elapsed time.Duration
}

// Join backfills j's output table, after the joins its parts read through
// JoinSources.
func Join(ctx context.Context, wh warehouse.Warehouse, j *api.Join, opts Options) (*Result, error) {
	p, err := plan.PlanJoin(j, describe(ctx, wh), planOptions(opts))
	if err != nil {
		return nil, err
	}
	var sources []*api.Source
	for _, jp := range j.JoinParts {
		sources = append(sources, jp.GroupBy.Sources...)
	}
	if ran, err := backfillJoinSources(ctx, wh, j.MetaData.GetName(), sources, p, opts); err != nil {
		return nil, err
	} else if ran {
		if p, err = plan.PlanJoin(j, describe(ctx, wh), planOptions(opts)); err != nil {
			return nil, err
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	// Compile here too: a bad select or key fails before any worker starts.
	cj, err := core.CompileJoin(j, transforms.SchemaOf(ctx, wh), opts.WindowTail)
	if err != nil {
		return nil, err
	}
	if err := cj.CompileBootstrap(transforms.TablesOf(ctx, wh)); err != nil {
		return nil, err
	}
	if b := cj.Bootstrap(); b != nil && len(b.Missing) > 0 && opts.Log != nil {
		opts.Log.Warn("bootstrap tables do not exist (yet): they bootstrap nothing", "definition", j.MetaData.GetName(), "tables", b.Missing)
	}
	def, err := api.Marshal(j)
	if err != nil {
		return nil, err
	}
	var tasks []transforms.ReadTask
	for _, ds := range p.Compute {
		tasks = append(tasks, transforms.ReadTask{Table: j.Left.Table(), DS: ds, Role: transforms.RoleLeft})
	}
	job := &transforms.Job{Kind: api.KindJoin, Definition: string(def)}
	var outputs []output
	for pi, part := range cj.Parts {
		more, err := partTasks(ctx, wh, p, pi, part)
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, more...)
		// A part whose table already holds a day (for this definition) is
		// read back rather than recomputed.
		po := p.Outputs[1+pi]
		job.PartDays = append(job.PartDays, po.Compute)
		for _, ds := range p.Compute {
			if !slices.Contains(po.Compute, ds) {
				tasks = append(tasks, transforms.ReadTask{Table: po.Table, DS: ds, Role: transforms.RolePartTable, Part: pi})
			}
		}
		outputs = append(outputs, output{Output: po, schema: cj.PartTableSchema(part), dir: transforms.ScratchDir(pi)})
	}
	if p.Bootstrap != nil {
		outputs = append(outputs, output{Output: p.Bootstrap, schema: cj.BootstrapTableSchema(), dir: transforms.BootstrapScratchDir})
	}
	return run(ctx, wh, p, job, transforms.MergeReads(tasks), outputs, opts)
}

// output is a table a job writes besides its main output: a join part's,
// or the `_bootstrap` table; dir is its scratch directory.
type output struct {
	*plan.Output
	schema *arrow.Schema
	dir    string
}

// GroupBy backfills g's daily snapshot table, after the joins it reads
// through JoinSources.
func GroupBy(ctx context.Context, wh warehouse.Warehouse, g *api.GroupBy, opts Options) (*Result, error) {
	if len(g.Sources) > 0 && g.Sources[0].JoinSource != nil && g.Sources[0].JoinSource.Join != nil && opts.End == "" {
		// The join's output may not exist yet: end where its left table
		// ends.
		if info, err := wh.Describe(ctx, g.Sources[0].JoinSource.Join.Left.Table()); err == nil && len(info.Partitions) > 0 {
			opts.End = info.Partitions[len(info.Partitions)-1].DS
		}
	}
	p, err := plan.PlanGroupBy(g, describe(ctx, wh), planOptions(opts))
	if err != nil {
		return nil, err
	}
	if ran, err := backfillJoinSources(ctx, wh, g.MetaData.GetName(), g.Sources, p, opts); err != nil {
		return nil, err
	} else if ran {
		if p, err = plan.PlanGroupBy(g, describe(ctx, wh), planOptions(opts)); err != nil {
			return nil, err
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	cg, err := core.CompileGroupByBackfill(g, transforms.SchemaOf(ctx, wh), opts.WindowTail)
	if err != nil {
		return nil, err
	}
	def, err := api.Marshal(g)
	if err != nil {
		return nil, err
	}
	tasks, err := partTasks(ctx, wh, p, 0, cg.Part)
	if err != nil {
		return nil, err
	}
	return run(ctx, wh, p, &transforms.Job{Kind: api.KindGroupBy, Definition: string(def)}, tasks, nil, opts)
}

// backfillJoinSources backfills the joins that sources read through
// JoinSources, over the days the plan needs from their output tables
// (within the range their left tables cover). It reports whether it ran
// any.
func backfillJoinSources(ctx context.Context, wh warehouse.Warehouse, name string, sources []*api.Source, p *plan.Plan, opts Options) (bool, error) {
	ran := false
	for i, s := range sources {
		if s.JoinSource == nil || s.JoinSource.Join == nil {
			continue
		}
		parent := s.JoinSource.Join
		days := p.Required[s.Table()]
		if len(days) == 0 {
			continue
		}
		left, err := wh.Describe(ctx, parent.Left.Table())
		if err != nil {
			return false, fmt.Errorf("%s: sources[%d].joinSource: %s: left: %w", name, i, parent.MetaData.GetName(), err)
		}
		if len(left.Partitions) == 0 {
			continue
		}
		o := opts
		o.Start = max(days[0], left.Partitions[0].DS)
		o.End = min(days[len(days)-1], left.Partitions[len(left.Partitions)-1].DS)
		if o.Start > o.End {
			continue
		}
		if opts.Log != nil {
			opts.Log.Info("backfilling a join source first", "definition", name, "join", parent.MetaData.GetName(), "from", o.Start, "to", o.End)
		}
		if _, err := Join(ctx, wh, parent, o); err != nil {
			return false, fmt.Errorf("%s: joinSource %s: %w", name, parent.MetaData.GetName(), err)
		}
		ran = true
	}
	return ran, nil
}

func planOptions(o Options) plan.Options {
	return plan.Options{Start: o.Start, End: o.End, WindowTail: o.WindowTail, Strict: o.Strict}
}

func describe(ctx context.Context, wh warehouse.Warehouse) plan.DescribeFunc {
	return func(table string) (*warehouse.TableInfo, error) { return wh.Describe(ctx, table) }
}

// partTasks lists the partitions a GroupBy's sources contribute: those the
// plan requires of each table that exist. A snapshot (or mutation) table is
// also read a day either side: the plan counts days by the left's ds, but a
// left row near midnight may have its ts on the neighbouring day, and an
// events left reads the snapshot before the day of its ts.
func partTasks(ctx context.Context, wh warehouse.Warehouse, p *plan.Plan, part int, cp *core.Part) ([]transforms.ReadTask, error) {
	var out []transforms.ReadTask
	add := func(table string, role transforms.Role, source int) error {
		info, err := wh.Describe(ctx, table)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		have := map[string]bool{}
		for _, pt := range info.Partitions {
			have[pt.DS] = true
		}
		want := map[string]bool{}
		for _, ds := range p.Required[table] {
			want[ds] = true
			if cp.Rule.Snapshot() {
				for _, shift := range []int{-1, 1} {
					if n, err := batch.ShiftDS(ds, shift); err == nil {
						want[n] = true
					}
				}
			}
		}
		for _, ds := range slices.Sorted(maps.Keys(want)) {
			if have[ds] {
				out = append(out, transforms.ReadTask{Table: table, DS: ds, Role: role, Part: part, Source: source})
			}
		}
		return nil
	}
	for si, s := range cp.GroupBy.Def.Sources {
		if err := add(s.Table(), transforms.RoleEvents, si); err != nil {
			return nil, err
		}
		if cp.Mutations[si] != nil {
			if err := add(s.Entities.MutationTable, transforms.RoleMutations, si); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// run executes the pipeline and commits its output.
func run(ctx context.Context, wh warehouse.Warehouse, p *plan.Plan, job *transforms.Job, tasks []transforms.ReadTask, parts []output, opts Options) (*Result, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	res := &Result{Plan: p, Table: p.Outputs[0].Table}
	for _, w := range p.Warnings {
		log.Warn(w, "definition", p.Name)
	}
	store, err := blob.Open(ctx, opts.Root)
	if err != nil {
		return nil, err
	}
	defer store.Close()
	// Even a run with nothing to do clears what killed runs left: one may
	// have died after its commit, before removing its scratch.
	if err := removeDeadScratch(ctx, store, log); err != nil {
		return nil, err
	}
	if len(p.Compute) == 0 {
		log.Info("up to date", "definition", p.Name, "table", res.Table, "partitions", 0)
		return res, nil
	}
	start := time.Now()
	scratch := newScratch(store)
	defer store.DeleteAll(context.WithoutCancel(ctx), scratch.dir)
	job.Warehouse = opts.Root
	job.Scratch = store.URI(scratch.dir)
	job.WindowTail = opts.WindowTail
	job.Shards = opts.Shards
	if job.Shards <= 0 {
		job.Shards = 16
	}
	job.Days = p.Compute
	log.Info("backfill", "definition", p.Name, "table", res.Table, "partitions", len(p.Compute),
		"from", p.Compute[0], "to", p.Compute[len(p.Compute)-1], "inputs", len(tasks), "runner", opts.Runner.Name())

	beamrun.Init()
	pipe, s := beam.NewPipelineWithRoot()
	if _, err := transforms.Backfill(s, job, tasks); err != nil {
		return nil, err
	}
	ropts := opts.Runner
	ropts.Log = log
	stop := watchPartitions(ctx, scratch.sub(transforms.ScratchDir(-1)), len(p.Compute), opts.Progress)
	err = beamrun.Run(ctx, pipe, ropts)
	stop(err == nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Name, err)
	}
	if opts.Runner.DryRun {
		return res, nil
	}
	log.Info("pipeline done", "definition", p.Name, "elapsed", time.Since(start).Round(time.Millisecond))
	main := *p.Outputs[0]
	main.Compute = p.Compute
	writes := []write{{out: &main, schema: batch.WithoutColumn(p.Schema, api.PartitionColumn), dir: scratch.sub(transforms.ScratchDir(-1))}}
	for _, po := range parts {
		if len(po.Compute) > 0 {
			writes = append(writes, write{out: po.Output, schema: po.schema, dir: scratch.sub(po.dir)})
		}
	}
	rows, err := commitAll(ctx, wh, writes)
	if err != nil {
		return nil, err
	}
	if opts.Progress != nil {
		n := int64(len(p.Compute))
		opts.Progress(progress.Progress{Phase: "commit", Done: n, Total: n, Unit: "partitions", Rows: rows, Final: true})
	}
	res.Computed = p.Compute
	res.Rows = rows
	res.Elapsed = time.Since(start)
	log.Info("committed", "definition", p.Name, "table", res.Table, "partitions", len(p.Compute), "rows", rows,
		"elapsed", res.Elapsed.Round(time.Millisecond))
	return res, nil
}

// watchPartitions reports, while the pipeline runs, how many output
// partitions the workers have written to dir (one ds= directory each). The
// returned stop ends the watch, with a final report when the run succeeded.
func watchPartitions(ctx context.Context, dir scratchDir, total int, report func(progress.Progress)) (stop func(ok bool)) {
	if report == nil {
		return func(bool) {}
	}
	count := func() int64 {
		entries, _ := dir.store.List(ctx, dir.dir)
		return int64(len(entries))
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				report(progress.Progress{Phase: "compute", Done: count(), Total: int64(total), Unit: "partitions"})
			}
		}
	}()
	return func(ok bool) {
		close(done)
		<-finished
		if ok {
			report(progress.Progress{Phase: "compute", Done: int64(total), Total: int64(total), Unit: "partitions", Final: true})
		}
	}
}

// scratchRoot holds the workers' finished partitions under the warehouse
// root (a hidden name the warehouse never lists as a table).
const scratchRoot = ".scratch"

// staleScratch is how old the scratch of a backfill launched from another
// machine must be before a launcher removes it: nothing tells whether that
// launcher still runs.
const staleScratch = 24 * time.Hour

// scratchDir is a directory of a blob store.
type scratchDir struct {
	store blob.Store
	dir   string
}

func (d scratchDir) sub(name string) scratchDir { return scratchDir{d.store, d.dir + "/" + name} }

// removeDeadScratch removes the scratch directories of launchers that died
// (killed mid-run): what they hold was committed already or never will be.
// On a local root a dead launcher is a pid that no longer runs; on object
// storage, scratch untouched for staleScratch.
func removeDeadScratch(ctx context.Context, store blob.Store, log *slog.Logger) error {
	entries, err := store.List(ctx, scratchRoot)
	if err != nil {
		return fmt.Errorf("list scratch directories: %w", err)
	}
	local := blob.IsLocal(store.Root())
	for _, e := range entries {
		var pid int
		var rest string
		if _, err := fmt.Sscanf(e.Name(), "job-%d-%s", &pid, &rest); err != nil {
			continue
		}
		dir := scratchRoot + "/" + e.Name()
		if local && processAlive(pid) || !local && !stale(ctx, store, dir) {
			continue
		}
		if err := store.DeleteAll(ctx, dir); err == nil {
			log.Info("removed the scratch of a dead backfill", "dir", e.Name())
		}
	}
	return nil
}

// newScratch names this job's scratch directory after the launcher's pid.
func newScratch(store blob.Store) scratchDir {
	var id [8]byte
	rand.Read(id[:])
	return scratchDir{store, fmt.Sprintf("%s/job-%d-%s", scratchRoot, os.Getpid(), hex.EncodeToString(id[:]))}
}

// stale reports whether nothing under dir was written for staleScratch.
func stale(ctx context.Context, store blob.Store, dir string) bool {
	files, err := store.ListAll(ctx, dir)
	if err != nil {
		return false
	}
	for _, f := range files {
		if time.Since(f.ModTime) < staleScratch {
			return false
		}
	}
	return true
}

// processAlive reports whether a process with pid runs on this machine.
func processAlive(pid int) bool {
	if pid == os.Getpid() {
		return true
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	return p.Signal(syscall.Signal(0)) == nil
}

// write is one table's computed partitions: the scratch directory holding
// them and the table's schema.
type write struct {
	out    *plan.Output
	schema *arrow.Schema
	dir    scratchDir
	txn    warehouse.Txn
	rows   int64
	err    error
}

// commitAll writes the tables' partitions concurrently, then commits the
// join part tables before the output table (writes[0]): a launcher dying in
// between leaves parts a rerun reads back instead of recomputing. It
// returns the output table's row count.
func commitAll(ctx context.Context, wh warehouse.Warehouse, writes []write) (int64, error) {
	var wg sync.WaitGroup
	for i := range writes {
		w := &writes[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.txn, w.rows, w.err = stage(ctx, wh, w.out, w.schema, w.dir)
		}()
	}
	wg.Wait()
	var errs []error
	for _, w := range writes {
		errs = append(errs, w.err)
	}
	if err := errors.Join(errs...); err != nil {
		for _, w := range writes {
			if w.txn != nil {
				w.txn.Abort()
			}
		}
		return 0, err
	}
	order := append(writes[1:len(writes):len(writes)], writes[0])
	for i, w := range order {
		if err := w.txn.Commit(ctx); err != nil {
			for _, rest := range order[i+1:] {
				rest.txn.Abort()
			}
			return 0, fmt.Errorf("commit %s: %w", w.out.Table, err)
		}
	}
	return writes[0].rows, nil
}

// stage writes every computed partition of out from the scratch files into
// a transaction on its table, left for the caller to commit; a partition
// without files is written empty, so it counts as computed.
func stage(ctx context.Context, wh warehouse.Warehouse, out *plan.Output, schema *arrow.Schema, scratch scratchDir) (_ warehouse.Txn, rows int64, err error) {
	// A table another definition computed is replaced whole: its old
	// columns and partitions go, as Chronon drops such a table.
	mode := warehouse.Overwrite
	if out.Stale {
		mode = warehouse.Replace
	}
	txn, err := wh.Begin(ctx, out.Table, schema, warehouse.WriteOptions{Mode: mode, SemanticHash: out.SemanticHash})
	if err != nil {
		return nil, 0, fmt.Errorf("write %s: %w", out.Table, err)
	}
	defer func() {
		if err != nil {
			txn.Abort()
		}
	}()
	for _, ds := range out.Compute {
		entries, err := scratch.store.List(ctx, scratch.dir+"/ds="+ds)
		if err != nil {
			return nil, 0, err
		}
		var files []string
		for _, e := range entries {
			if !e.Dir && strings.HasSuffix(e.Path, ".arrow") {
				files = append(files, e.Path)
			}
		}
		slices.Sort(files)
		wrote := false
		for _, f := range files {
			n, err := copyFile(ctx, txn, ds, scratch.store, f, schema)
			if err != nil {
				return nil, 0, fmt.Errorf("write %s/ds=%s: %w", out.Table, ds, err)
			}
			rows += n
			wrote = wrote || n > 0
		}
		if !wrote {
			empty := array.NewRecordBatch(schema, emptyColumns(schema), 0)
			err := txn.Write(ctx, ds, empty)
			empty.Release()
			if err != nil {
				return nil, 0, fmt.Errorf("write %s/ds=%s: %w", out.Table, ds, err)
			}
		}
	}
	return txn, rows, nil
}

func emptyColumns(s *arrow.Schema) []arrow.Array {
	cols := make([]arrow.Array, s.NumFields())
	for i, f := range s.Fields() {
		b := array.NewBuilder(memory.DefaultAllocator, f.Type)
		cols[i] = b.NewArray()
		b.Release()
	}
	return cols
}

// copyFile writes one scratch file's batches under the table's schema: the
// engine's column types must be the planned ones.
func copyFile(ctx context.Context, txn warehouse.Txn, ds string, store blob.Store, path string, schema *arrow.Schema) (int64, error) {
	fh, err := store.Open(ctx, path)
	if err != nil {
		return 0, err
	}
	defer fh.Close()
	r, err := ipc.NewFileReader(io.NewSectionReader(fh, 0, fh.Size()))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	defer r.Close()
	var rows int64
	for i := 0; i < r.NumRecords(); i++ {
		rec, err := r.RecordBatch(i)
		if err != nil {
			return rows, fmt.Errorf("read %s: %w", path, err)
		}
		typed, err := conform(rec, schema)
		if err != nil {
			return rows, err
		}
		err = txn.Write(ctx, ds, typed)
		typed.Release()
		if err != nil {
			return rows, err
		}
		rows += rec.NumRows()
	}
	return rows, nil
}

// conform returns rec's columns under schema, by name.
func conform(rec arrow.RecordBatch, schema *arrow.Schema) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, schema.NumFields())
	var bad []string
	for i, f := range schema.Fields() {
		idx := rec.Schema().FieldIndices(f.Name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("computed rows lack column %s (have %s)", f.Name, strings.Join(names(rec.Schema()), ", "))
		}
		c := rec.Column(idx[0])
		if !arrow.TypeEqual(c.DataType(), f.Type) {
			bad = append(bad, fmt.Sprintf("%s is %s, planned %s", f.Name, c.DataType(), f.Type))
			continue
		}
		cols[i] = c
	}
	if len(bad) > 0 {
		return nil, errors.New("computed column types differ from the planned schema: " + strings.Join(bad, "; "))
	}
	return array.NewRecordBatch(schema, cols, rec.NumRows()), nil
}

func names(s *arrow.Schema) []string {
	out := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = f.Name
	}
	return out
}
