// SPDX-License-Identifier: Apache-2.0

package importer

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// importParquet imports a Parquet file, streaming its row groups in batches.
func importParquet(ctx context.Context, wh warehouse.Warehouse, opts *Options) (res *Result, err error) {
	rdr, err := file.OpenParquetFile(opts.File, false)
	if err != nil {
		return nil, fmt.Errorf("open parquet: %w", err)
	}
	defer func() {
		if cerr := rdr.Close(); err == nil && cerr != nil {
			res, err = nil, fmt.Errorf("close parquet: %w", cerr)
		}
	}()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: int64(opts.BatchRows)}, opts.Mem)
	if err != nil {
		return nil, fmt.Errorf("read parquet: %w", err)
	}
	fileSchema, err := fr.Schema()
	if err != nil {
		return nil, fmt.Errorf("read parquet schema: %w", err)
	}
	in, casts, err := applyOverrides(fileSchema, opts)
	if err != nil {
		return nil, err
	}
	p, err := newPlan(in, opts)
	if err != nil {
		return nil, err
	}
	total := rdr.NumRows()
	prog := newTicker(opts.Progress)

	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("read parquet: %w", err)
	}
	defer rr.Release()
	return writeAll(ctx, wh, opts, p, func(rt *router) error {
		var first int64 // file row number of the current batch's first row
		posErr := func(row int, column, msg string) error {
			return fmt.Errorf("row %d: column %q: %s", first+int64(row)+1, column, msg)
		}
		for rr.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			rec, err := castRecord(ctx, rr.RecordBatch(), in, casts, opts)
			if err != nil {
				return fmt.Errorf("rows %d-%d: %w", first+1, first+rr.RecordBatch().NumRows(), err)
			}
			err = rt.add(ctx, rec, posErr)
			first += rec.NumRows()
			rec.Release()
			if err != nil {
				return err
			}
			prog.report(Progress{Phase: PhaseLoad, Unit: UnitRows, Done: first, Total: total, Rows: rt.rows}, false)
		}
		if err := rr.Err(); err != nil {
			return fmt.Errorf("read parquet: %w", err)
		}
		prog.report(Progress{Phase: PhaseLoad, Unit: UnitRows, Done: first, Total: total, Rows: rt.rows}, true)
		return nil
	})
}

// applyOverrides returns the file schema with metadata dropped and the
// override types applied, and which columns need casting.
func applyOverrides(fileSchema *arrow.Schema, opts *Options) (*arrow.Schema, []bool, error) {
	fields := make([]arrow.Field, fileSchema.NumFields())
	casts := make([]bool, len(fields))
	for i, f := range fileSchema.Fields() {
		fields[i] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: f.Nullable}
		if dt, ok := opts.SchemaOverrides.Lookup(f.Name); ok && !arrow.TypeEqual(dt, f.Type) {
			if !compute.CanCast(f.Type, dt) {
				return nil, nil, fmt.Errorf("column %q: cannot convert %s to %s", f.Name, f.Type, batch.SpecTypeName(dt))
			}
			fields[i] = arrow.Field{Name: f.Name, Type: dt, Nullable: true}
			casts[i] = true
		}
	}
	return arrow.NewSchema(fields, nil), casts, nil
}

// castRecord returns rec under schema, casting the columns marked in casts.
func castRecord(ctx context.Context, rec arrow.RecordBatch, schema *arrow.Schema, casts []bool, opts *Options) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	ctx = compute.WithAllocator(ctx, opts.Mem)
	for i, c := range rec.Columns() {
		if !casts[i] {
			c.Retain()
			cols[i] = c
			continue
		}
		out, err := compute.CastArray(ctx, c, compute.SafeCastOptions(schema.Field(i).Type))
		if err != nil {
			return nil, fmt.Errorf("column %q: cannot convert to %s: %w", schema.Field(i).Name, batch.SpecTypeName(schema.Field(i).Type), err)
		}
		cols[i] = out
	}
	return array.NewRecordBatch(schema, cols, rec.NumRows()), nil
}
