// SPDX-License-Identifier: Apache-2.0

package consistency

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/compare"
	"github.com/chronon-go/chronon/core/expr"
	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/runners/backfill"
	"github.com/chronon-go/chronon/runners/beamrun"
)

// ErrNotFlattened is returned by Run when the join's _logged table lacks
// the day: the logs were not flattened (yet). Use errors.Is.
var ErrNotFlattened = errors.New("consistency: logs not flattened")

// Options configure a consistency run.
type Options struct {
	// Root is the warehouse root the backfill's workers open (the same
	// warehouse as the one Run is given).
	Root string
	// WindowTail is chronon.yaml's window_tail: the offline recomputation
	// must window as the fetcher did.
	WindowTail string
	// Runner chooses the Beam runner of the recomputation (direct by
	// default).
	Runner beamrun.Options
	// Shards is the backfill's key shard count (backfill.Options).
	Shards int
	// Tolerance bounds floating-point equality (compare.Tolerance; the
	// zero value means its defaults).
	Tolerance compare.Tolerance
	// Log receives progress; nil discards it.
	Log *slog.Logger
}

// Feature is one compared column's metrics.
type Feature struct {
	// Name is the column, as in the join's output and _logged tables.
	Name string
	// GroupBy names the GroupBy whose join part produces the column, or is
	// empty for a derived column.
	GroupBy string
	// Type is the offline column's type.
	Type    arrow.DataType
	Metrics compare.Metrics
}

// Result reports a run.
type Result struct {
	// Join is the join's name; DS the day compared.
	Join, DS string
	// LoggedTable, ComparisonTable and Table are the input, the offline
	// recomputation and the output.
	LoggedTable, ComparisonTable, Table string
	// Recomputed tells whether the comparison partition was computed by
	// this run (false: it existed already for this definition).
	Recomputed bool
	// Rows counts the logged rows compared; Unsampled those left out by
	// the join's consistencySamplePercent.
	Rows, Unsampled int64
	// UnpairedLogged counts logged rows the recomputation had no row for,
	// UnpairedOffline the reverse; both should be 0. Their values count as
	// null on the side that lacks them, as in Chronon's full outer join.
	UnpairedLogged, UnpairedOffline int64
	// Features holds the compared columns, in the join's output order.
	Features []Feature
	// Excluded lists the logged value columns with no offline
	// counterpart (external and contextual parts, _exception entries).
	Excluded []string
}

// Run compares the join's values logged online on day ds with the values
// the offline engine computes for the same keys and timestamps, writes
// the metrics to the join's _consistency table (partition ds) and returns
// them. A dry run (Runner.DryRun) stops after printing the recomputation.
func Run(ctx context.Context, wh warehouse.Warehouse, j *api.Join, ds string, opts Options) (*Result, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	name := j.MetaData.GetName()
	if !batch.ValidDS(ds) {
		return nil, fmt.Errorf("consistency %s: --ds %q is not a YYYY-MM-DD day", name, ds)
	}
	res := &Result{
		Join: name, DS: ds,
		LoggedTable:     j.MetaData.TableWithSuffix(api.SuffixLogged),
		ComparisonTable: j.MetaData.TableWithSuffix(api.SuffixComparison),
		Table:           j.MetaData.TableWithSuffix(api.SuffixConsistency),
	}
	if err := checkLogged(ctx, wh, j, res.LoggedTable, ds); err != nil {
		return nil, err
	}
	cj, err := ComparisonJoin(j)
	if err != nil {
		return nil, err
	}
	log.Info("consistency: recomputing the logged requests offline", "join", name, "ds", ds, "left", res.LoggedTable, "table", res.ComparisonTable)
	br, err := backfill.Join(ctx, wh, cj, backfill.Options{
		Root: opts.Root, Start: ds, End: ds, WindowTail: opts.WindowTail,
		Runner: opts.Runner, Shards: opts.Shards, Log: log,
	})
	if err != nil {
		return nil, fmt.Errorf("consistency %s: offline recomputation into %s: %w", name, res.ComparisonTable, err)
	}
	if opts.Runner.DryRun {
		return res, nil
	}
	res.Recomputed = slices.Contains(br.Computed, ds)
	if err := compareTables(ctx, wh, j, res, opts.Tolerance.EnsureDefaults()); err != nil {
		return nil, fmt.Errorf("consistency %s: %w", name, err)
	}
	if err := write(ctx, wh, res); err != nil {
		return nil, fmt.Errorf("consistency %s: %w", name, err)
	}
	log.Info("consistency: written", "join", name, "table", res.Table, "ds", ds, "rows", res.Rows, "features", len(res.Features))
	return res, nil
}

// checkLogged fails unless the _logged table holds partition ds. The run
// does not flatten the day itself: log flattening never recomputes a
// partition, so flattening a day whose logs still arrive would freeze it
// incomplete; `chronon log-flatten` decides when a day is final.
func checkLogged(ctx context.Context, wh warehouse.Warehouse, j *api.Join, table, ds string) error {
	hint := fmt.Sprintf("run `chronon log-flatten --conf %s --end-ds %s` first", j.MetaData.GetName(), ds)
	info, err := wh.Describe(ctx, table)
	if errors.Is(err, warehouse.ErrTableNotFound) {
		return fmt.Errorf("%w: consistency %s: %s does not exist: %s", ErrNotFlattened, j.MetaData.GetName(), table, hint)
	}
	if err != nil {
		return fmt.Errorf("consistency %s: %w", j.MetaData.GetName(), err)
	}
	if !slices.ContainsFunc(info.Partitions, func(p warehouse.Partition) bool { return p.DS == ds }) {
		return fmt.Errorf("%w: consistency %s: %s has no partition %s: %s", ErrNotFlattened, j.MetaData.GetName(), table, ds, hint)
	}
	return nil
}

// ComparisonJoin is Chronon's ConsistencyJob.buildComparisonJoin: a copy
// of j named <name>_comparison (so its output table is j's _comparison
// table) whose left side is j's _logged table, selecting the left key
// columns of j's parts with the logged ts. It keeps the join parts,
// derivations and skew keys; it drops what has no offline counterpart or
// would compare the logs with themselves: online external parts,
// bootstrap parts (a bootstrap from the log would copy the logged values),
// row ids and the label part. A consistencySamplePercent in (0, 100)
// samples the left rows by a hash of ts (Chronon: RAND()).
func ComparisonJoin(j *api.Join) (*api.Join, error) {
	def, err := api.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("consistency %s: copy the definition: %w", j.MetaData.GetName(), err)
	}
	cj, err := api.ParseJoin(def)
	if err != nil {
		return nil, fmt.Errorf("consistency %s: copy the definition: %w", j.MetaData.GetName(), err)
	}
	keys := leftKeys(j)
	q := api.NewQuery(api.Selects(keys...), api.TimeColumn)
	if lq := j.Left.Query(); lq != nil {
		q.StartPartition = lq.StartPartition
	}
	if pct := samplePercent(j); pct < 100 {
		q.Wheres = []string{sampleWhere(pct)}
	}
	cj.Left = api.EventsSource(j.MetaData.TableWithSuffix(api.SuffixLogged), q)
	cj.MetaData.Name = j.MetaData.GetName() + api.SuffixComparison
	// Keep the output where Chronon's comparisonTable is, whatever
	// sanitizing does to the suffixed name.
	if got, want := cj.MetaData.OutputTable(), j.MetaData.TableWithSuffix(api.SuffixComparison); got != want {
		return nil, fmt.Errorf("consistency %s: comparison table %s, want %s", j.MetaData.GetName(), got, want)
	}
	cj.MetaData.TableProperties = maps.Clone(cj.MetaData.TableProperties)
	if cj.MetaData.TableProperties == nil {
		cj.MetaData.TableProperties = map[string]string{}
	}
	cj.MetaData.TableProperties[OOCTableProperty] = "true"
	cj.OnlineExternalParts = nil
	cj.BootstrapParts = nil
	cj.RowIDs = nil
	cj.LabelPart = nil
	return cj, nil
}

// OOCTableProperty marks the comparison table (Chronon's
// Constants.ChrononOOCTable).
const OOCTableProperty = "chronon_ooc_table"

// leftKeys are the left columns j's parts join on (Chronon's
// leftKeyCols), sorted.
func leftKeys(j *api.Join) []string {
	set := map[string]bool{}
	for _, jp := range j.JoinParts {
		for l := range jp.LeftToRight() {
			set[l] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// samplePercent is the join's consistencySamplePercent, 100 when unset
// (Chronon migrates unset configs to 100; a zero here cannot be told from
// unset, so it is 100 too).
func samplePercent(j *api.Join) float64 {
	pct := j.MetaData.ConsistencySamplePercent
	if pct <= 0 || pct > 100 {
		return 100
	}
	return pct
}

// sampleModulus is the resolution of the consistency sample (1/1000 %).
const sampleModulus = 100000

// sampleWhere is the left filter keeping pct percent of the logged rows,
// deterministically by ts; sampled is the same rule in Go, to tell rows
// left out from rows the recomputation lost.
func sampleWhere(pct float64) string {
	return fmt.Sprintf("pmod(crc32(cast(%s as string)), %d) < %d", api.TimeColumn, sampleModulus, sampleLimit(pct))
}

func sampled(ts int64, pct float64) bool {
	return int64(crc32.ChecksumIEEE([]byte(strconv.FormatInt(ts, 10))))%sampleModulus < sampleLimit(pct)
}

func sampleLimit(pct float64) int64 { return int64(pct * sampleModulus / 100) }

// compareTables pairs the comparison partition's rows with the logged
// rows by (ts, left keys) and fills res's metrics.
func compareTables(ctx context.Context, wh warehouse.Warehouse, j *api.Join, res *Result, tol compare.Tolerance) error {
	offInfo, err := wh.Describe(ctx, res.ComparisonTable)
	if err != nil {
		return err
	}
	logInfo, err := wh.Describe(ctx, res.LoggedTable)
	if err != nil {
		return err
	}
	keys := append(leftKeys(j), api.TimeColumn)
	for _, k := range keys {
		if logInfo.Schema.FieldIndices(k) == nil {
			return fmt.Errorf("%s has no key column %s", res.LoggedTable, k)
		}
	}
	if err := selectFeatures(j, res, offInfo.Schema, logInfo.Schema, keys); err != nil {
		return err
	}
	cols := slices.Clone(keys)
	for _, f := range res.Features {
		cols = append(cols, f.Name)
	}
	// The recomputation's rows, by pairing key. Rows with equal keys and
	// ts have equal values (they were computed alike), so pairing them in
	// any order is exact.
	offline := map[string][][]any{}
	err = scanRows(ctx, wh, res.ComparisonTable, res.DS, cols, func(row []any) {
		k := pairKey(row[:len(keys)])
		offline[k] = append(offline[k], row[len(keys):])
	})
	if err != nil {
		return err
	}
	nulls := make([]any, len(res.Features))
	add := func(off, on []any) {
		for i := range res.Features {
			res.Features[i].Metrics.Add(off[i], on[i], tol)
		}
	}
	pct := samplePercent(j)
	err = scanRows(ctx, wh, res.LoggedTable, res.DS, cols, func(row []any) {
		k := pairKey(row[:len(keys)])
		rows := offline[k]
		if len(rows) == 0 {
			if ts, ok := row[len(keys)-1].(int64); ok && !sampled(ts, pct) {
				res.Unsampled++
				return
			}
			res.UnpairedLogged++
			add(nulls, row[len(keys):])
			res.Rows++
			return
		}
		offline[k] = rows[1:]
		add(rows[0], row[len(keys):])
		res.Rows++
	})
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(offline)) {
		for _, off := range offline[k] {
			res.UnpairedOffline++
			add(off, nulls)
		}
	}
	return nil
}

// selectFeatures sets res.Features to the value columns both tables have
// (Chronon: the logged columns the comparison has) and res.Excluded to the
// logged value columns the comparison lacks. Types must agree up to
// numeric widths (Chronon's CompareBaseJob.checkConsistency).
func selectFeatures(j *api.Join, res *Result, offline, logged *arrow.Schema, keys []string) error {
	skip := map[string]bool{api.PartitionColumn: true, fetchlog.ColSchemaHash: true, fetchlog.ColExtraValues: true}
	for _, k := range keys {
		skip[k] = true
	}
	owner := map[string]string{}
	for _, jp := range j.JoinParts {
		for _, c := range jp.ValueColumns() {
			owner[c] = jp.GroupBy.MetaData.GetName()
		}
	}
	for _, f := range offline.Fields() {
		idx := logged.FieldIndices(f.Name)
		if skip[f.Name] || idx == nil {
			continue
		}
		if lt := logged.Field(idx[0]).Type; !compatible(f.Type, lt) {
			return fmt.Errorf("column %s: type %s in %s, %s in %s", f.Name, f.Type, res.ComparisonTable, lt, res.LoggedTable)
		}
		res.Features = append(res.Features, Feature{Name: f.Name, GroupBy: owner[f.Name], Type: f.Type})
	}
	for _, f := range logged.Fields() {
		if !skip[f.Name] && offline.FieldIndices(f.Name) == nil {
			res.Excluded = append(res.Excluded, f.Name)
		}
	}
	return nil
}

// compatible reports whether values of the two types can be compared:
// equal types, numbers of any width, or lists, maps and structs of
// compatible types.
func compatible(a, b arrow.DataType) bool {
	numeric := func(t arrow.DataType) bool { return arrow.IsInteger(t.ID()) || arrow.IsFloating(t.ID()) }
	if arrow.TypeEqual(a, b) || numeric(a) && numeric(b) {
		return true
	}
	switch at := a.(type) {
	case arrow.ListLikeType:
		bt, ok := b.(arrow.ListLikeType)
		return ok && compatible(at.Elem(), bt.Elem())
	case *arrow.StructType:
		bt, ok := b.(*arrow.StructType)
		if !ok || at.NumFields() != bt.NumFields() {
			return false
		}
		for i, f := range at.Fields() {
			if f.Name != bt.Field(i).Name || !compatible(f.Type, bt.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}

// pairKey encodes a row's pairing columns (left keys, ts), typed, so that
// "1" and 1 differ.
func pairKey(vals []any) string {
	var b strings.Builder
	for _, v := range vals {
		fmt.Fprintf(&b, "%T:%v\x1f", v, v)
	}
	return b.String()
}

// scanRows calls fn with every row of cols in one partition of table. The
// row slice is fn's to keep.
func scanRows(ctx context.Context, wh warehouse.Warehouse, table, ds string, cols []string, fn func([]any)) error {
	sc, err := wh.Scan(ctx, table, warehouse.ScanOptions{StartDS: ds, EndDS: ds, Columns: cols})
	if err != nil {
		return fmt.Errorf("read %s partition %s: %w", table, ds, err)
	}
	defer sc.Close()
	for {
		rec, err := sc.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s partition %s: %w", table, ds, err)
		}
		for i := range int(rec.NumRows()) {
			row := make([]any, len(cols))
			for c := range cols {
				row[c] = expr.ValueAt(rec.Column(c), i)
			}
			fn(row)
		}
		rec.Release()
	}
}

// Columns of the _consistency table (partition ds): one row per compared
// feature.
const (
	ColFeature          = "feature"
	ColGroupBy          = "group_by"
	ColDataType         = "data_type"
	ColTotal            = "total"
	ColBothNull         = "both_null"
	ColMissing          = "missing"
	ColExtra            = "extra"
	ColMismatch         = "mismatch"
	ColMismatchRate     = "mismatch_rate"
	ColInconsistentRate = "inconsistent_rate"
	ColSMAPE            = "smape"
)

// Schema is the _consistency table's schema (without ds).
func Schema() *arrow.Schema {
	str, i64, f64 := arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64
	fields := []arrow.Field{{Name: ColFeature, Type: str}, {Name: ColGroupBy, Type: str, Nullable: true}, {Name: ColDataType, Type: str}}
	for _, n := range []string{ColTotal, ColBothNull, ColMissing, ColExtra, ColMismatch} {
		fields = append(fields, arrow.Field{Name: n, Type: i64})
	}
	for _, n := range []string{ColMismatchRate, ColInconsistentRate, ColSMAPE} {
		fields = append(fields, arrow.Field{Name: n, Type: f64, Nullable: true})
	}
	return arrow.NewSchema(fields, nil)
}

// Record returns res's metrics as rows of the _consistency table (without
// ds), in Features order. The caller releases it.
func (res *Result) Record() (arrow.RecordBatch, error) {
	schema := Schema()
	cols := make([][]any, schema.NumFields())
	opt := func(v float64, ok bool) any {
		if !ok {
			return nil
		}
		return v
	}
	for _, f := range res.Features {
		m := f.Metrics
		var gb any
		if f.GroupBy != "" {
			gb = f.GroupBy
		}
		row := []any{f.Name, gb, f.Type.String(), m.Total, m.BothNull, m.Missing, m.Extra, m.Mismatch,
			opt(m.MismatchRate()), opt(m.InconsistentRate()), opt(m.SMAPE())}
		for i, v := range row {
			cols[i] = append(cols[i], v)
		}
	}
	arrs := make([]arrow.Array, len(cols))
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, f := range schema.Fields() {
		a, err := batch.NewArrayOf(f.Type, cols[i])
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		arrs[i] = a
	}
	return array.NewRecordBatch(schema, arrs, int64(len(res.Features))), nil
}

// write replaces partition ds of the _consistency table with res's rows,
// atomically.
func write(ctx context.Context, wh warehouse.Warehouse, res *Result) error {
	rec, err := res.Record()
	if err != nil {
		return err
	}
	defer rec.Release()
	txn, err := wh.Begin(ctx, res.Table, rec.Schema(), warehouse.WriteOptions{Properties: map[string]string{
		"chronon_generated":         "true",
		"chronon_table_type":        "consistency",
		propertyRows + res.DS:       strconv.FormatInt(res.Rows, 10),
		propertyUnpaired + res.DS:   fmt.Sprintf("%d logged, %d offline", res.UnpairedLogged, res.UnpairedOffline),
		propertyComputedAt + res.DS: time.Now().UTC().Format(time.RFC3339),
	}})
	if err != nil {
		return fmt.Errorf("write %s: %w", res.Table, err)
	}
	if err := txn.Write(ctx, res.DS, rec); err != nil {
		txn.Abort()
		return fmt.Errorf("write %s partition %s: %w", res.Table, res.DS, err)
	}
	if err := txn.Commit(ctx); err != nil {
		return fmt.Errorf("commit %s partition %s: %w", res.Table, res.DS, err)
	}
	return nil
}

// Properties of the _consistency table, per day (suffixed with ds): the
// logged rows compared, the unpaired rows, and when the day was computed.
const (
	propertyRows       = "consistency_rows_"
	propertyUnpaired   = "consistency_unpaired_"
	propertyComputedAt = "consistency_computed_at_"
)
