// SPDX-License-Identifier: Apache-2.0

package orchestrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/runners/backfill"
	"github.com/chronon-go/chronon/runners/consistency"
	"github.com/chronon-go/chronon/runners/labeljoin"
	"github.com/chronon-go/chronon/runners/logflatten"
	"github.com/chronon-go/chronon/runners/metadata"
	"github.com/chronon-go/chronon/runners/orchestrate/graph"
	"github.com/chronon-go/chronon/runners/plan"
	"github.com/chronon-go/chronon/runners/stagingquery"
)

// Env is what the steps of a run share: the warehouse, the KV store and
// the options of the jobs they call in process.
type Env struct {
	// DS is the day being run.
	DS string
	// Warehouse holds the tables. Required.
	Warehouse warehouse.Warehouse
	// KV is the online store uploads, metadata and retention write to.
	// Required for those steps.
	KV kv.Store
	// Backfill carries the warehouse root, window tail, runner and logger
	// of backfills and uploads; Start and End are set per step.
	Backfill backfill.Options
	// Retention says what retention keeps.
	Retention Retention
	// LogNamespace holds the raw fetch log table (chronon.yaml's
	// logging.namespace). The default value "" means "chronon".
	LogNamespace string
	// Now stamps metadata uploads. The default value nil means time.Now.
	Now func() time.Time
}

// Retention says how much old data the retention steps keep.
type Retention struct {
	// BatchVersions is how many daily batch uploads of a group-by the KV
	// store keeps (the latest always stays). The default value 0 means 3.
	BatchVersions int
	// StreamingSlackDays keeps streaming data this many days older than
	// the latest batch end, for fetchers still serving the previous
	// upload. The default value 0 means 1; a negative value keeps none.
	StreamingSlackDays int
	// LogTTLDays is how many days of log table partitions are kept. The
	// default value 0 means 30.
	LogTTLDays int
}

func (r Retention) withDefaults() Retention {
	if r.BatchVersions <= 0 {
		r.BatchVersions = 3
	}
	if r.StreamingSlackDays == 0 {
		r.StreamingSlackDays = 1
	} else if r.StreamingSlackDays < 0 {
		r.StreamingSlackDays = 0
	}
	if r.LogTTLDays <= 0 {
		r.LogTTLDays = 30
	}
	return r
}

// Step adapts a node to its job; it is the StepFunc of `chronon run`.
func (e *Env) Step(n *graph.Node) (Step, error) {
	switch n.Kind {
	case graph.JoinBackfill:
		return joinStep(e, n.Defs[0].(*api.Join)), nil
	case graph.GroupByBackfill:
		return groupByStep(e, n.Defs[0].(*api.GroupBy)), nil
	case graph.Upload:
		return e.needKV(&uploadStep{e, n.Defs[0].(*api.GroupBy)})
	case graph.StagingQuery:
		return &stagingStep{e, n.Defs[0].(*api.StagingQuery)}, nil
	case graph.MetadataUpload:
		return e.needKV(&metadataStep{e, n.Defs})
	case graph.KVRetention:
		return e.needKV(&kvRetentionStep{e, n.Defs[0].(*api.GroupBy)})
	case graph.LogRetention:
		return &logRetentionStep{e, n.Reads[0].Table}, nil
	case graph.LabelJoin:
		return &labelStep{e, n.Defs[0].(*api.Join)}, nil
	case graph.LogFlatten:
		return &flattenStep{e, n.Defs[0].(*api.Join)}, nil
	case graph.Consistency:
		return &consistencyStep{e, n.Defs[0].(*api.Join)}, nil
	}
	return nil, fmt.Errorf("orchestrate: step %s: unknown kind %q", n.ID, n.Kind)
}

func (e *Env) needKV(s Step) (Step, error) {
	if e.KV == nil {
		return nil, errors.New("orchestrate: no KV store configured")
	}
	return s, nil
}

func (e *Env) describe(ctx context.Context) plan.DescribeFunc {
	return func(table string) (*warehouse.TableInfo, error) { return e.Warehouse.Describe(ctx, table) }
}

func (e *Env) planOptions(start string) plan.Options {
	return plan.Options{Start: start, End: e.DS, WindowTail: e.Backfill.WindowTail, Strict: e.Backfill.Strict}
}

func (e *Env) backfillOptions() backfill.Options {
	o := e.Backfill
	o.Start, o.End = "", e.DS
	return o
}

// backfillStep front-fills a join's or group-by's missing partitions up
// to DS.
type backfillStep struct {
	e    *Env
	plan func(plan.DescribeFunc, plan.Options) (*plan.Plan, error)
	run  func(context.Context, warehouse.Warehouse, backfill.Options) (*backfill.Result, error)
}

func joinStep(e *Env, j *api.Join) *backfillStep {
	return &backfillStep{e,
		func(d plan.DescribeFunc, o plan.Options) (*plan.Plan, error) { return plan.PlanJoin(j, d, o) },
		func(ctx context.Context, wh warehouse.Warehouse, o backfill.Options) (*backfill.Result, error) {
			return backfill.Join(ctx, wh, j, o)
		}}
}

func groupByStep(e *Env, g *api.GroupBy) *backfillStep {
	return &backfillStep{e,
		func(d plan.DescribeFunc, o plan.Options) (*plan.Plan, error) { return plan.PlanGroupBy(g, d, o) },
		func(ctx context.Context, wh warehouse.Warehouse, o backfill.Options) (*backfill.Result, error) {
			return backfill.GroupBy(ctx, wh, g, o)
		}}
}

func (s *backfillStep) UpToDate(ctx context.Context) (bool, error) {
	p, err := s.plan(s.e.describe(ctx), s.e.planOptions(""))
	return err == nil && len(p.Compute) == 0, err
}

func (s *backfillStep) Run(ctx context.Context) (Outcome, error) {
	res, err := s.run(ctx, s.e.Warehouse, s.e.backfillOptions())
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Partitions: res.Computed, Changed: len(res.Computed) > 0, Detail: fmt.Sprintf("%d rows", res.Rows)}, nil
}

// uploadStep uploads a group-by's batch values of DS. It is up to date
// when the upload table holds DS for this definition and the KV store
// serves a batch at least that recent: a crash between the two reloads.
type uploadStep struct {
	e *Env
	g *api.GroupBy
}

func (s *uploadStep) UpToDate(ctx context.Context) (bool, error) {
	mode, err := s.g.EffectiveWindowTail(s.e.Backfill.WindowTail)
	if err != nil {
		return false, err
	}
	info, err := s.e.Warehouse.Describe(ctx, s.g.MetaData.TableWithSuffix(api.SuffixUpload))
	if errors.Is(err, warehouse.ErrTableNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if missing, _ := plan.OutputPartitions(info, []string{s.e.DS}, s.g.SemanticHash(mode)); len(missing) > 0 {
		return false, nil
	}
	served, err := servedBatch(ctx, s.e.KV, s.g)
	return err == nil && served >= s.e.DS, err
}

func (s *uploadStep) Run(ctx context.Context) (Outcome, error) {
	res, err := backfill.Upload(ctx, s.e.Warehouse, s.g, s.e.DS, s.e.KV, s.e.backfillOptions())
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Partitions: []string{s.e.DS}, Changed: true, Detail: fmt.Sprintf("%d keys to %s", res.Keys, res.Dataset)}, nil
}

// servedBatch returns the last day the KV store serves g's batch values
// of, "" when none.
func servedBatch(ctx context.Context, store kv.Store, g *api.GroupBy) (string, error) {
	res, err := store.MultiGet(ctx, []kv.GetRequest{{Dataset: g.MetaData.BatchDataset(), Key: []byte(api.ServingInfoKey)}})
	if err != nil {
		return "", fmt.Errorf("%s: read serving info: %w", g.MetaData.GetName(), err)
	}
	if errors.Is(res[0].Err, kv.ErrNoDataset) || res[0].Err == nil && len(res[0].Values) == 0 {
		return "", nil
	}
	if res[0].Err != nil {
		return "", fmt.Errorf("%s: read serving info: %w", g.MetaData.GetName(), res[0].Err)
	}
	info, err := api.ParseGroupByServingInfo(res[0].Values[len(res[0].Values)-1].Value)
	if err != nil {
		return "", fmt.Errorf("%s: serving info: %w", g.MetaData.GetName(), err)
	}
	return info.BatchEndDate, nil
}

// stagingStep runs a staging query up to DS.
type stagingStep struct {
	e  *Env
	sq *api.StagingQuery
}

func (s *stagingStep) UpToDate(ctx context.Context) (bool, error) {
	info, err := s.e.Warehouse.Describe(ctx, s.sq.MetaData.OutputTable())
	if errors.Is(err, warehouse.ErrTableNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	days := []string{s.e.DS}
	if s.sq.StartPartition != "" && s.sq.StartPartition <= s.e.DS {
		if days, err = batch.DSRange(s.sq.StartPartition, s.e.DS); err != nil {
			return false, err
		}
	}
	missing, _ := plan.OutputPartitions(info, days, s.sq.SemanticHash())
	return len(missing) == 0, nil
}

func (s *stagingStep) Run(ctx context.Context) (Outcome, error) {
	res, err := stagingquery.Run(ctx, s.e.Warehouse, s.sq, stagingquery.Options{EndDS: s.e.DS})
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{Changed: len(res.Partitions) > 0, Detail: fmt.Sprintf("%d rows", res.Rows)}
	for _, p := range res.Partitions {
		out.Partitions = append(out.Partitions, p.DS)
	}
	return out, nil
}

// metadataStep stores a team's online definitions for the fetcher. It is
// up to date when the store holds exactly these definitions.
type metadataStep struct {
	e    *Env
	defs []any
}

func (s *metadataStep) UpToDate(ctx context.Context) (bool, error) {
	want := map[string][]byte{}
	add := func(kind api.Kind, name string, def any) error {
		b, err := api.Marshal(def)
		want[api.MetadataKey(kind, name)] = b
		return err
	}
	for _, d := range s.defs {
		var err error
		switch def := d.(type) {
		case *api.Join:
			err = add(api.KindJoin, def.MetaData.GetName(), def)
			for _, jp := range def.JoinParts {
				err = errors.Join(err, add(api.KindGroupBy, jp.GroupBy.MetaData.GetName(), jp.GroupBy))
			}
		case *api.GroupBy:
			err = add(api.KindGroupBy, def.MetaData.GetName(), def)
		}
		if err != nil {
			return false, err
		}
	}
	var reqs []kv.GetRequest
	var keys []string
	for k := range want {
		keys = append(keys, k)
		reqs = append(reqs, kv.GetRequest{Dataset: api.MetadataDataset, Key: []byte(k)})
	}
	res, err := s.e.KV.MultiGet(ctx, reqs)
	if err != nil {
		return false, err
	}
	for i, r := range res {
		if r.Err != nil || len(r.Values) == 0 || !bytes.Equal(r.Values[len(r.Values)-1].Value, want[keys[i]]) {
			return false, nil
		}
	}
	return true, nil
}

func (s *metadataStep) Run(ctx context.Context) (Outcome, error) {
	if up, err := s.UpToDate(ctx); err != nil || up {
		return Outcome{}, err
	}
	now := time.Now
	if s.e.Now != nil {
		now = s.e.Now
	}
	keys, err := metadata.Upload(ctx, s.e.KV, s.defs, now().UnixMilli())
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Changed: true, Detail: fmt.Sprintf("%d definitions", len(keys))}, nil
}

// labelStep computes a join's label version (label_ds) DS; the label job
// itself skips a version already computed for this definition.
type labelStep struct {
	e *Env
	j *api.Join
}

func (s *labelStep) UpToDate(context.Context) (bool, error) { return false, nil }

func (s *labelStep) Run(ctx context.Context) (Outcome, error) {
	o := s.e.Backfill
	o.Start, o.End = s.e.DS, s.e.DS
	res, err := labeljoin.Run(ctx, s.e.Warehouse, s.j, o)
	if err != nil {
		return Outcome{}, err
	}
	out := Outcome{}
	var rows int64
	for _, v := range res.Versions {
		if v.Computed {
			out.Partitions = append(out.Partitions, v.LabelDS)
			rows += v.Rows
		}
	}
	out.Changed = len(out.Partitions) > 0
	out.Detail = fmt.Sprintf("%d label rows", rows)
	return out, nil
}

// flattenStep flattens an online join's fetch logs up to DS into its
// _logged table. A join without any fetch logs yet has nothing to do.
type flattenStep struct {
	e *Env
	j *api.Join
}

func (s *flattenStep) namespace() string {
	if s.e.LogNamespace == "" {
		return "chronon"
	}
	return s.e.LogNamespace
}

func (s *flattenStep) UpToDate(ctx context.Context) (bool, error) {
	_, err := s.e.Warehouse.Describe(ctx, s.namespace()+"."+api.LogTable)
	if errors.Is(err, warehouse.ErrTableNotFound) {
		return true, nil
	}
	return false, err
}

func (s *flattenStep) Run(ctx context.Context) (Outcome, error) {
	res, err := logflatten.Run(ctx, s.e.Warehouse, s.j, logflatten.Options{Root: s.e.Backfill.Root, Namespace: s.namespace(),
		End: s.e.DS, Runner: s.e.Backfill.Runner, Log: s.e.Backfill.Log})
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Partitions: res.Computed, Changed: len(res.Computed) > 0, Detail: fmt.Sprintf("%d rows", res.Rows)}, nil
}

// consistencyStep compares an online join's logged values of DS with the
// values recomputed offline. A day without logs (nothing was served, or
// sampled) has nothing to compare: it is done with a note, not waited on.
type consistencyStep struct {
	e *Env
	j *api.Join
}

func (s *consistencyStep) UpToDate(ctx context.Context) (bool, error) {
	info, err := s.e.Warehouse.Describe(ctx, s.j.MetaData.TableWithSuffix(api.SuffixConsistency))
	if errors.Is(err, warehouse.ErrTableNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(info.Partitions, func(p warehouse.Partition) bool { return p.DS == s.e.DS }), nil
}

func (s *consistencyStep) Run(ctx context.Context) (Outcome, error) {
	o := s.e.Backfill
	res, err := consistency.Run(ctx, s.e.Warehouse, s.j, s.e.DS, consistency.Options{Root: o.Root, WindowTail: o.WindowTail, Runner: o.Runner, Shards: o.Shards, Log: o.Log})
	if errors.Is(err, consistency.ErrNotFlattened) {
		return Outcome{Detail: "no fetch logs on " + s.e.DS}, nil
	}
	if err != nil {
		return Outcome{}, err
	}
	bad := 0
	for _, f := range res.Features {
		if m := f.Metrics; m.Mismatch+m.Missing+m.Extra > 0 {
			bad++
		}
	}
	return Outcome{Partitions: []string{s.e.DS}, Changed: true, Detail: fmt.Sprintf("%d of %d features inconsistent", bad, len(res.Features))}, nil
}
