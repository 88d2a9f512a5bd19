// SPDX-License-Identifier: Apache-2.0

package testkit

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// LogRecords reads every record of a fetch-log table (core/fetchlog's
// format, as plugins/warehouse/logtable writes it), sorted by
// SortRecords, or nil when the table does not exist yet. A row outside the
// partition of its ts is an error. It may be called from any goroutine
// (failures are t.Error).
func LogRecords(t testing.TB, wh warehouse.Warehouse, table string) []fetchlog.Record {
	t.Helper()
	ctx := context.Background()
	sc, err := wh.Scan(ctx, table, warehouse.ScanOptions{})
	if errors.Is(err, warehouse.ErrTableNotFound) {
		return nil
	}
	if err != nil {
		t.Error(err)
		return nil
	}
	defer sc.Close()
	var out []fetchlog.Record
	for {
		rb, err := sc.Next(ctx)
		if err == io.EOF {
			SortRecords(out)
			return out
		}
		if err != nil {
			t.Error(err)
			return nil
		}
		out, err = appendLogRecords(out, rb)
		rb.Release()
		if err != nil {
			t.Error(err)
			return nil
		}
	}
}

// appendLogRecords appends rb's records, checking their partitions.
func appendLogRecords(out []fetchlog.Record, rb arrow.RecordBatch) ([]fetchlog.Record, error) {
	r, err := fetchlog.NewReader(rb)
	if err != nil {
		return nil, err
	}
	idx := rb.Schema().FieldIndices(warehouse.PartitionColumn)
	if len(idx) == 0 {
		return nil, errors.New("log table scan without ds")
	}
	ds := rb.Column(idx[0])
	for i := range int(rb.NumRows()) {
		rec, err := r.Record(i)
		if err != nil {
			return nil, err
		}
		if got := ds.ValueStr(i); got != rec.DS() {
			return nil, fmt.Errorf("record at %d in partition %s", rec.TsMillis, got)
		}
		out = append(out, rec)
	}
	return out, nil
}

// SortRecords sorts log records by ts, name, key and value bytes.
func SortRecords(rs []fetchlog.Record) {
	slices.SortStableFunc(rs, func(a, b fetchlog.Record) int {
		return cmp.Or(cmp.Compare(a.TsMillis, b.TsMillis), strings.Compare(a.JoinName, b.JoinName),
			bytes.Compare(a.KeyBytes, b.KeyBytes), bytes.Compare(a.ValueBytes, b.ValueBytes))
	})
}
