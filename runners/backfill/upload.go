// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/chronon-go/chronon/core/api"
	core "github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/core/online"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/runners/plan"
	"github.com/chronon-go/chronon/transforms"
)

// UploadResult says what an upload did.
type UploadResult struct {
	// Table is the upload table (`<group by output table>_upload`).
	Table string
	// Keys is the number of keys uploaded.
	Keys int64
	// Dataset is the KV batch dataset loaded ("" when no store was given).
	Dataset string
	// BatchEnd is the timestamp of the loaded values: midnight after ds.
	BatchEnd int64
}

// Upload computes a GroupBy's batch upload of day ds as a Beam pipeline
// into its upload table (one row per key: key bytes, value bytes; see
// core/backfill.Upload), then, when store is not nil, bulk-loads it into
// the store's `<NAME>_BATCH` dataset at the batch end, with the serving
// info. Re-running it for a day rewrites the same values.
func Upload(ctx context.Context, wh warehouse.Warehouse, g *api.GroupBy, ds string, store kv.Store, opts Options) (*UploadResult, error) {
	name := g.MetaData.GetName()
	p, err := plan.PlanGroupBy(g, describe(ctx, wh), plan.Options{Start: ds, End: ds, WindowTail: opts.WindowTail, Strict: opts.Strict})
	if err != nil {
		return nil, err
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	u, err := core.CompileUpload(g, transforms.SchemaOf(ctx, wh), opts.WindowTail, ds)
	if err != nil {
		return nil, err
	}
	def, err := api.Marshal(g)
	if err != nil {
		return nil, err
	}
	tasks, err := partTasks(ctx, wh, p, 0, u.Part)
	if err != nil {
		return nil, err
	}
	// The upload table takes the plan's place as the output.
	table := g.MetaData.TableWithSuffix(api.SuffixUpload)
	up := *p
	up.Compute = []string{ds}
	up.Schema = arrow.NewSchema(append(core.UploadSchema().Fields(),
		arrow.Field{Name: api.PartitionColumn, Type: arrow.BinaryTypes.String, Nullable: true}), nil)
	up.Outputs = []*plan.Output{{Table: table, Compute: []string{ds}, SemanticHash: p.Outputs[0].SemanticHash}}
	job := &transforms.Job{Kind: transforms.KindUpload, Definition: string(def), UploadDS: ds}
	res, err := run(ctx, wh, &up, job, tasks, nil, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: upload %s: %w", name, ds, err)
	}
	out := &UploadResult{Table: table, Keys: res.Rows, BatchEnd: u.BatchEnd}
	if store == nil {
		return out, nil
	}
	out.Dataset = g.MetaData.BatchDataset()
	si, err := u.ServingInfo()
	if err != nil {
		return nil, err
	}
	info, err := online.MarshalServingInfo(si)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := loadKV(ctx, wh, store, g, table, ds, u.BatchEnd, info); err != nil {
		return nil, fmt.Errorf("%s: load %s into %s: %w", name, ds, out.Dataset, err)
	}
	return out, nil
}

// loadChunk is how many entries one BulkLoad call carries.
const loadChunk = 10000

// loadKV bulk-loads a day of the upload table, then the serving info (so a
// fetcher never sees serving info newer than the values).
func loadKV(ctx context.Context, wh warehouse.Warehouse, store kv.Store, g *api.GroupBy, table, ds string, batchEnd int64, info []byte) error {
	dataset := g.MetaData.BatchDataset()
	if err := store.CreateDataset(ctx, dataset); err != nil {
		return err
	}
	sc, err := wh.Scan(ctx, table, warehouse.ScanOptions{StartDS: ds, EndDS: ds, Columns: []string{core.KeyBytesColumn, core.ValueBytesColumn}})
	if err != nil {
		return err
	}
	defer sc.Close()
	var chunk []kv.Entry
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		err := store.BulkLoad(ctx, dataset, chunk)
		chunk = chunk[:0]
		return err
	}
	for {
		rec, err := sc.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		keys, kok := rec.Column(0).(*array.Binary)
		vals, vok := rec.Column(1).(*array.Binary)
		if !kok || !vok {
			rec.Release()
			return fmt.Errorf("%s: key and value columns must be binary", table)
		}
		for i := 0; i < int(rec.NumRows()); i++ {
			// Copies: the batch's buffers are released below.
			chunk = append(chunk, kv.Entry{Key: bytes.Clone(keys.Value(i)), Value: bytes.Clone(vals.Value(i)), TsMillis: batchEnd})
			if len(chunk) == loadChunk {
				if err := flush(); err != nil {
					rec.Release()
					return err
				}
			}
		}
		rec.Release()
	}
	if err := flush(); err != nil {
		return err
	}
	return store.MultiPut(ctx, dataset, []kv.Entry{{Key: []byte(api.ServingInfoKey), Value: info, TsMillis: batchEnd}})
}
