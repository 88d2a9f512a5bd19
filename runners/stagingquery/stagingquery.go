// SPDX-License-Identifier: Apache-2.0

package stagingquery

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/runners/plan"
	"github.com/chronon-go/chronon/runners/warehousesql"
)

// DefaultStepDays is the most days one run of the query covers when
// Options.StepDays is zero (Chronon's default step).
const DefaultStepDays = 30

// Options configure a run.
type Options struct {
	// StartDS is the first partition to compute ("YYYY-MM-DD"). The default
	// value "" means the staging query's startPartition.
	StartDS string
	// EndDS is the last partition to compute, and the value of
	// {{ latest_date }}. It is required.
	EndDS string
	// StepDays is the most partitions one run of the query computes. The
	// default value 0 means DefaultStepDays.
	StepDays int
	// Mem allocates the converted record batches. The default value nil
	// means memory.DefaultAllocator.
	Mem memory.Allocator
}

// Result describes a run.
type Result struct {
	// Name is the staging query's name; Table its output table.
	Name, Table string
	// SemanticHash is the hash stored with the written partitions.
	SemanticHash string
	// Stale reports that the table had been written by a definition with
	// another semantic hash, so every partition of the range was recomputed.
	Stale bool
	// Partitions are the partitions written, sorted by DS; empty when the
	// table was up to date.
	Partitions []PartitionRows
	// Rows is the number of rows written.
	Rows int64
	// Steps are the runs of the query, in order.
	Steps []Step
	// Warnings are problems that did not stop the run.
	Warnings []string
}

// PartitionRows is the number of rows written to one partition.
type PartitionRows struct {
	DS   string // YYYY-MM-DD
	Rows int64  // 0 for a partition written empty
}

// Step is one run of the query.
type Step struct {
	// Start and End are the step's first and last partition, the values of
	// {{ start_date }} and {{ end_date }}; both are empty when a query
	// without a start partition ran once over all data.
	Start, End string
	// Query is the rendered query.
	Query string
	// Rows is the number of rows written; Dropped the number of rows whose
	// ds was outside the step.
	Rows, Dropped int64
}

// Run computes the partitions of sq's output table that are missing (or
// stale) in [opts.StartDS, opts.EndDS], as the package documentation
// describes, in one transaction on wh. wh must stay open during the call.
// Errors name the staging query; on any error nothing is written.
func Run(ctx context.Context, wh warehouse.Warehouse, sq *api.StagingQuery, opts Options) (*Result, error) {
	if sq == nil {
		return nil, errors.New("stagingquery: nil StagingQuery")
	}
	res, err := run(ctx, wh, sq, opts)
	if err != nil {
		return nil, fmt.Errorf("staging query %s: %w", sq.MetaData.GetName(), err)
	}
	return res, nil
}

func run(ctx context.Context, wh warehouse.Warehouse, sq *api.StagingQuery, opts Options) (*Result, error) {
	if wh == nil {
		return nil, errors.New("nil warehouse")
	}
	if err := checkOptions(sq, &opts); err != nil {
		return nil, err
	}
	res := &Result{Name: sq.MetaData.GetName(), Table: sq.MetaData.OutputTable(), SemanticHash: sq.SemanticHash()}
	if bool(sq.CreateView) {
		res.warnf("createView is set but the warehouse has no views: %s is written as a table", res.Table)
	}
	info, err := wh.Describe(ctx, res.Table)
	if errors.Is(err, warehouse.ErrTableNotFound) {
		info, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe output table %s: %w", res.Table, err)
	}

	start := opts.StartDS
	if start == "" {
		start = sq.StartPartition
	}
	// Check the template up front, so that a mistake shows even when the
	// table is up to date.
	if err := checkTemplate(sq.Query, start == ""); err != nil {
		return nil, err
	}
	var steps []Step
	var compute []string // partitions written even without rows
	switch {
	case start == "":
		steps = []Step{{}}
	case start > opts.EndDS && opts.StartDS == "":
		res.warnf("startPartition %s is after the end %s: nothing to compute", start, opts.EndDS)
		return res, nil
	default:
		days, err := batch.DSRange(start, opts.EndDS)
		if err != nil {
			return nil, err
		}
		compute, res.Stale = plan.OutputPartitions(info, days, res.SemanticHash)
		switch {
		case res.Stale:
			res.warnStale(info, start, opts.EndDS)
		case info != nil && info.SemanticHash == "" && len(compute) < len(days):
			res.warnf("%s has no semantic hash: its existing partitions are kept as they are", res.Table)
		}
		if steps, err = planSteps(compute, opts.StepDays); err != nil {
			return nil, err
		}
	}
	if len(steps) == 0 {
		return res, nil
	}

	db, err := warehousesql.Open(ctx, wh)
	if err != nil {
		return nil, fmt.Errorf("open DuckDB over the warehouse: %w", err)
	}
	defer db.Close()
	// Setups run once, before the first step, as in Chronon.
	for i, s := range sq.Setups {
		if err := db.Exec(ctx, s); err != nil {
			return nil, fmt.Errorf("setups[%d]: %w", i, err)
		}
	}

	w := &writer{wh: wh, table: res.Table, mem: opts.Mem, rows: map[string]int64{}, valid: map[string]bool{},
		wopts: warehouse.WriteOptions{Mode: warehouse.Overwrite, Properties: sq.MetaData.TableProperties, SemanticHash: res.SemanticHash}}
	defer w.abort()
	vars := api.QueryVars{LatestDate: opts.EndDS, MaxDate: maxDate(ctx, wh)}
	for i := range steps {
		st := &steps[i]
		what := "query"
		if st.Start != "" {
			what = fmt.Sprintf("query for %s..%s", st.Start, st.End)
		}
		vars.StartDate, vars.EndDate = st.Start, st.End
		if st.Query, err = api.RenderQuery(sq.Query, vars); err != nil {
			return nil, fmt.Errorf("render %s: %w", what, err)
		}
		err = db.QueryEach(ctx, st.Query, func(schema *arrow.Schema, rec arrow.RecordBatch) error {
			return w.add(ctx, st, schema, rec)
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if st.Dropped > 0 {
			res.warnf("query for %s..%s returned %d rows of partitions outside that range; they were not written (filter on {{ start_date }} and {{ end_date }})",
				st.Start, st.End, st.Dropped)
		}
	}
	res.Steps = steps

	if compute == nil && len(w.rows) == 0 {
		res.warnf("the query returned no rows: nothing written")
		return res, nil
	}
	if err := w.commit(ctx, compute); err != nil {
		return nil, err
	}
	for _, ds := range slices.Sorted(maps.Keys(w.rows)) {
		res.Partitions = append(res.Partitions, PartitionRows{DS: ds, Rows: w.rows[ds]})
		res.Rows += w.rows[ds]
	}
	return res, nil
}

// checkOptions validates the definition and the options, filling defaults.
func checkOptions(sq *api.StagingQuery, opts *Options) error {
	if err := sq.Validate(); err != nil {
		return err
	}
	if sq.MetaData.OutputNamespace == "" {
		return errors.New("metaData.outputNamespace is empty: the output table needs a namespace")
	}
	switch {
	case opts.EndDS == "":
		return errors.New("no end partition given")
	case !batch.ValidDS(opts.EndDS):
		return fmt.Errorf("bad end partition %q: want YYYY-MM-DD", opts.EndDS)
	case opts.StartDS != "" && !batch.ValidDS(opts.StartDS):
		return fmt.Errorf("bad start partition %q: want YYYY-MM-DD", opts.StartDS)
	case opts.StartDS > opts.EndDS:
		return fmt.Errorf("start partition %s is after end partition %s", opts.StartDS, opts.EndDS)
	case opts.StepDays < 0:
		return fmt.Errorf("step days %d: want a positive number", opts.StepDays)
	}
	if opts.StepDays == 0 {
		opts.StepDays = DefaultStepDays
	}
	if opts.Mem == nil {
		opts.Mem = memory.DefaultAllocator
	}
	return nil
}

// checkTemplate checks the query's template references. A query that runs
// once over all data (whole: no start partition) cannot use the step's
// dates, which it has none of.
func checkTemplate(query string, whole bool) error {
	refs, err := api.ParseTemplate(query)
	if err != nil || !whole {
		return err
	}
	for _, r := range refs {
		if r.Name == api.VarStartDate || r.Name == api.VarEndDate {
			return fmt.Errorf("the query uses {{ %s }} but the staging query has no startPartition: set one, or give a start partition (--start-ds)", r.Name)
		}
	}
	return nil
}

// maxDate returns the function giving {{ max_date(table=...) }}: the latest
// committed partition of a table.
func maxDate(ctx context.Context, wh warehouse.Warehouse) func(string) (string, error) {
	return func(table string) (string, error) {
		info, err := wh.Describe(ctx, table)
		if errors.Is(err, warehouse.ErrTableNotFound) {
			return "", fmt.Errorf("max_date: table %s does not exist", table)
		}
		if err != nil {
			return "", fmt.Errorf("max_date: describe %s: %w", table, err)
		}
		if len(info.Partitions) == 0 {
			return "", fmt.Errorf("max_date: table %s has no partitions", table)
		}
		return info.Partitions[len(info.Partitions)-1].DS, nil
	}
}

// planSteps cuts sorted partitions into steps: runs of consecutive days,
// each cut every stepDays days.
func planSteps(days []string, stepDays int) ([]Step, error) {
	var steps []Step
	var prev int64
	n := 0 // days in the last step
	for i, ds := range days {
		ms, err := batch.MillisOfDS(ds)
		if err != nil {
			return nil, err
		}
		if i > 0 && ms == prev+batch.DayMillis && n < stepDays {
			steps[len(steps)-1].End = ds
			n++
		} else {
			steps = append(steps, Step{Start: ds, End: ds})
			n = 1
		}
		prev = ms
	}
	return steps, nil
}

func (r *Result) warnf(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// warnStale notes that a stale table's partitions outside [start, end] are
// kept: the warehouse cannot drop a table, and they are not recomputed.
func (r *Result) warnStale(info *warehouse.TableInfo, start, end string) {
	var outside []string
	for _, p := range info.Partitions {
		if p.DS < start || p.DS > end {
			outside = append(outside, p.DS)
		}
	}
	msg := fmt.Sprintf("%s was written by a different definition (semantic hash changed): recomputing %s..%s", r.Table, start, end)
	if len(outside) > 0 {
		msg += fmt.Sprintf("; its partitions outside that range (%s) are kept as they are", plan.FormatPartitions(outside, 5))
	}
	r.Warnings = append(r.Warnings, msg)
}

// columnList renders a schema's columns as "a bigint, b utf8" for errors.
func columnList(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = f.Name + " " + f.Type.String()
	}
	return strings.Join(parts, ", ")
}
