// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/batch"
)

// Take returns the rows of rec at the given indices, in that order.
func Take(rec arrow.RecordBatch, rows []int32) (arrow.RecordBatch, error) {
	return batch.Take(context.Background(), rec, rows, memory.DefaultAllocator)
}

// takeColumns gathers each column at idx (a null index gives a null).
func takeColumns(cols []arrow.Array, idx arrow.Array) ([]arrow.Array, error) {
	out := make([]arrow.Array, 0, len(cols))
	for _, c := range cols {
		t, err := compute.TakeArray(context.Background(), c, idx)
		if err != nil {
			releaseAll(out)
			return nil, fmt.Errorf("take %s: %w", c.DataType(), err)
		}
		out = append(out, t)
	}
	return out, nil
}

func releaseAll(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

// Concat concatenates records of one schema (nil when recs is empty).
func Concat(recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	switch len(recs) {
	case 0:
		return nil, nil
	case 1:
		recs[0].Retain()
		return recs[0], nil
	}
	schema := recs[0].Schema()
	cols := make([]arrow.Array, schema.NumFields())
	var n int64
	for _, r := range recs {
		n += r.NumRows()
	}
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i := range cols {
		parts := make([]arrow.Array, len(recs))
		for j, r := range recs {
			if !r.Schema().Equal(schema) {
				return nil, fmt.Errorf("concat: record %d has schema %s, want %s", j, r.Schema(), schema)
			}
			parts[j] = r.Column(i)
		}
		c, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			return nil, fmt.Errorf("concat %s: %w", schema.Field(i).Name, err)
		}
		cols[i] = c
	}
	return array.NewRecordBatch(schema, cols, n), nil
}
