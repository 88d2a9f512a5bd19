// SPDX-License-Identifier: Apache-2.0

package transforms

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/backfill"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/blob"
)

// BootstrapScratchDir is where, under a job's scratch root, a join with
// bootstrap parts writes its `_bootstrap` table's partitions.
const BootstrapScratchDir = "bootstrap"

// TablesOf looks up table schemas and properties in a warehouse (a log
// table's properties hold its logging schemas).
func TablesOf(ctx context.Context, wh warehouse.Warehouse) backfill.TableFunc {
	return func(table string) (*arrow.Schema, map[string]string, error) {
		info, err := wh.Describe(ctx, table)
		if errors.Is(err, warehouse.ErrTableNotFound) {
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, err
		}
		return info.Schema, info.Properties, nil
	}
}

// loadBootstrapDay scans partition ds of every bootstrap source that reads
// it and indexes the rows. A source lacking the partition bootstraps
// nothing that day.
func loadBootstrapDay(ctx context.Context, wh warehouse.Warehouse, b *backfill.Bootstrap, ds string) (*backfill.BootstrapDay, error) {
	scanned := make([][]arrow.RecordBatch, len(b.Sources))
	defer func() {
		for _, recs := range scanned {
			releaseRecs(recs)
		}
	}()
	for i, src := range b.Sources {
		if !src.Reads(ds) {
			continue
		}
		recs, err := ScanDay(ctx, wh, src.Table, ds)
		if err != nil {
			return nil, fmt.Errorf("bootstrapParts[%d]: %w", i, err)
		}
		scanned[i] = recs
	}
	return b.LoadDay(scanned)
}

// ScanDay reads one partition of a table whole; the caller releases the
// batches.
func ScanDay(ctx context.Context, wh warehouse.Warehouse, table, ds string) ([]arrow.RecordBatch, error) {
	sc, err := wh.Scan(ctx, table, warehouse.ScanOptions{StartDS: ds, EndDS: ds})
	if err != nil {
		return nil, fmt.Errorf("read %s/ds=%s: %w", table, ds, err)
	}
	defer sc.Close()
	var out []arrow.RecordBatch
	for {
		rec, err := sc.Next(ctx)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			releaseRecs(out)
			return nil, fmt.Errorf("read %s/ds=%s: %w", table, ds, err)
		}
		out = append(out, rec)
	}
}

// writeBootstrap writes the day's `_bootstrap` rows (the enriched left
// rows) to the scratch directory.
func writeBootstrap(ctx context.Context, store blob.Store, j *backfill.Join, ds string, left []arrow.RecordBatch, emit func(string)) error {
	rows, err := j.BootstrapRows(left)
	if err != nil || rows == nil {
		return err
	}
	defer rows.Release()
	path, err := writeScratch(ctx, store, BootstrapScratchDir, ds, rows)
	if err != nil {
		return err
	}
	emit(path)
	return nil
}
