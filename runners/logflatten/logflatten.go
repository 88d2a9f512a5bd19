// SPDX-License-Identifier: Apache-2.0

package logflatten

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/runners/beamrun"
	"github.com/chronon-go/chronon/transforms"
)

// Options configure a flattening run.
type Options struct {
	// Root is the warehouse root the workers open (the same warehouse as
	// the one Run is given).
	Root string
	// Namespace holds the log table (chronon.yaml's logging.namespace).
	// The default value is "chronon".
	Namespace string
	// Start and End bound the log partitions flattened, inclusive. The
	// default Start is the first log partition; the default End is
	// yesterday (UTC), the last day no more logs arrive for.
	Start, End string
	// Runner chooses the Beam runner (direct by default).
	Runner beamrun.Options
	// Log receives progress; nil discards it.
	Log *slog.Logger
	// Now is the current time (for the default End); nil means time.Now.
	Now func() time.Time
}

// Result reports a run.
type Result struct {
	// Table is the output table, LogTable the input.
	Table, LogTable string
	// Computed lists the partitions written.
	Computed []string
	// Rows is how many rows they hold.
	Rows int64
	// Schemas is how many schema versions the output's columns cover.
	Schemas int
	// Malformed counts records skipped, and Problems holds one message
	// per day with skipped records (count and first error).
	Malformed int64
	Problems  []string
}

// Run flattens the join's missing log partitions.
func Run(ctx context.Context, wh warehouse.Warehouse, j *api.Join, opts Options) (*Result, error) {
	if opts.Namespace == "" {
		opts.Namespace = "chronon"
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	name := api.NameToFilePath(j.MetaData.GetName())
	res := &Result{Table: j.MetaData.TableWithSuffix(api.SuffixLogged), LogTable: opts.Namespace + "." + fetchlog.LogTable}
	in, err := wh.Describe(ctx, res.LogTable)
	if errors.Is(err, warehouse.ErrTableNotFound) {
		return nil, fmt.Errorf("log-flatten %s: no fetch logs yet: %s does not exist (serve the join with samplePercent > 0 and logging.sink: warehouse, or run chronon log-ingest with logging.sink: pubsub)", name, res.LogTable)
	}
	if err != nil {
		return nil, fmt.Errorf("log-flatten %s: %w", name, err)
	}
	var done map[string]bool
	var props map[string]string
	switch out, err := wh.Describe(ctx, res.Table); {
	case err == nil:
		done, props = map[string]bool{}, out.Properties
		for _, p := range out.Partitions {
			done[p.DS] = true
		}
	case !errors.Is(err, warehouse.ErrTableNotFound):
		return nil, fmt.Errorf("log-flatten %s: %w", name, err)
	}
	end := opts.End
	if end == "" {
		now := time.Now
		if opts.Now != nil {
			now = opts.Now
		}
		end = batch.FormatDS(now().AddDate(0, 0, -1))
	}
	for _, p := range in.Partitions {
		if (opts.Start == "" || p.DS >= opts.Start) && p.DS <= end && !done[p.DS] {
			res.Computed = append(res.Computed, p.DS)
		}
	}
	if len(res.Computed) == 0 {
		log.Info("log-flatten: nothing to compute", "join", name, "table", res.Table, "end", end)
		return res, nil
	}
	schemas, err := gatherSchemas(ctx, wh, res.LogTable, name, props, log)
	if err != nil {
		return nil, fmt.Errorf("log-flatten %s: %w", name, err)
	}
	res.Schemas = len(schemas)
	job := &transforms.LogFlattenJob{Warehouse: opts.Root, LogTable: res.LogTable, Output: res.Table, JoinName: name, Schemas: schemas}
	// Check the schemas here, where the error is clearest, not in workers.
	_, list, err := transforms.ParseLogSchemas(schemas)
	if err == nil {
		_, err = fetchlog.NewFlattener(name, list)
	}
	if err != nil {
		return nil, fmt.Errorf("log-flatten %s: %w", name, err)
	}
	beamrun.Init()
	p, s := beam.NewPipelineWithRoot()
	if err := transforms.LogFlatten(s, job, beam.CreateList(s, res.Computed)); err != nil {
		return nil, err
	}
	log.Info("log-flatten", "join", name, "partitions", len(res.Computed), "schemas", len(schemas), "runner", opts.Runner.Name())
	if err := beamrun.Run(ctx, p, opts.Runner); err != nil {
		return nil, fmt.Errorf("log-flatten %s: %w", name, err)
	}
	if opts.Runner.DryRun {
		return res, nil
	}
	return res, report(ctx, wh, res)
}

// report fills the rows and malformed records of the computed partitions.
func report(ctx context.Context, wh warehouse.Warehouse, res *Result) error {
	out, err := wh.Describe(ctx, res.Table)
	if err != nil {
		return fmt.Errorf("log-flatten: read back %s: %w", res.Table, err)
	}
	for _, p := range out.Partitions {
		if !slices.Contains(res.Computed, p.DS) {
			continue
		}
		res.Rows += p.Rows
		msg, ok := out.Properties[transforms.MalformedProperty+p.DS]
		if !ok {
			continue
		}
		count, _, _ := strings.Cut(msg, ":")
		n, err := strconv.ParseInt(count, 10, 64)
		if err != nil {
			return fmt.Errorf("log-flatten: %s property %s%s = %q: %w", res.Table, transforms.MalformedProperty, p.DS, msg, err)
		}
		res.Malformed += n
		res.Problems = append(res.Problems, p.DS+": "+msg)
	}
	return nil
}

// gatherSchemas returns the join's logging schemas, oldest first: those a
// previous run stored in the output's properties, then those published in
// the log table, by publish time. An unreadable publish event is
// logged and skipped (the records under it will count as malformed).
func gatherSchemas(ctx context.Context, wh warehouse.Warehouse, logTable, join string, props map[string]string, log *slog.Logger) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	add := func(str string) {
		if h := fetchlog.Hash(str); !seen[h] {
			seen[h] = true
			out = append(out, str)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(props)) {
		if strings.HasPrefix(k, transforms.SchemaProperty) {
			add(props[k])
		}
	}
	type published struct {
		ts  int64
		str string
	}
	var events []published
	// Every partition: a schema may be published in a later partition
	// than some records (another process, a dropped event).
	err := transforms.ScanLogRows(ctx, wh, logTable, "", "", func(r *fetchlog.Reader, i int) error {
		if r.Name(i) != fetchlog.SchemaPublishEvent {
			return nil
		}
		rec, err := r.Record(i)
		var s *fetchlog.Schema
		if err == nil {
			s, err = fetchlog.ParseSchema(string(rec.ValueBytes))
		}
		if err == nil && s.Hash() != string(rec.KeyBytes) {
			err = fmt.Errorf("schema event keyed %q hashes to %s", rec.KeyBytes, s.Hash())
		}
		switch {
		case err != nil:
			log.Warn("log-flatten: unreadable schema event skipped", "table", logTable, "err", err)
		case s.JoinName == join:
			events = append(events, published{rec.TsMillis, s.String()})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read schema events of %s: %w", logTable, err)
	}
	slices.SortStableFunc(events, func(a, b published) int { return cmp.Compare(a.ts, b.ts) })
	for _, e := range events {
		add(e.str)
	}
	return out, nil
}
