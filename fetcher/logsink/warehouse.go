// SPDX-License-Identifier: Apache-2.0

package logsink

import (
	"context"
	"fmt"

	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// Warehouse appends log records to <namespace>.chronon_log_table, one part
// file per ds partition per write, committed atomically (warehouse.Append):
// a reader sees a write whole or not at all, and writers in other
// processes (several servers) all land.
type Warehouse struct {
	wh    warehouse.Warehouse
	table string
}

var _ fetcher.LogSink = (*Warehouse)(nil)

// NewWarehouse returns a sink appending to namespace's log table. The
// caller keeps ownership of wh.
func NewWarehouse(wh warehouse.Warehouse, namespace string) *Warehouse {
	return &Warehouse{wh: wh, table: namespace + "." + fetchlog.LogTable}
}

// Table is the sink's table, "namespace.chronon_log_table".
func (w *Warehouse) Table() string { return w.table }

// WriteLogs appends recs, each to the partition of its ts, in one
// transaction.
func (w *Warehouse) WriteLogs(ctx context.Context, recs []fetchlog.Record) error {
	if len(recs) == 0 {
		return nil
	}
	var days []string
	byDay := map[string][]fetchlog.Record{}
	for _, r := range recs {
		ds := r.DS()
		if _, ok := byDay[ds]; !ok {
			days = append(days, ds)
		}
		byDay[ds] = append(byDay[ds], r)
	}
	txn, err := w.wh.Begin(ctx, w.table, fetchlog.TableSchema(), warehouse.WriteOptions{Mode: warehouse.Append})
	if err != nil {
		return fmt.Errorf("logsink: %s: %w", w.table, err)
	}
	for _, ds := range days {
		rb := fetchlog.ToArrow(byDay[ds])
		err := txn.Write(ctx, ds, rb)
		rb.Release()
		if err != nil {
			txn.Abort()
			return fmt.Errorf("logsink: %s partition %s: %w", w.table, ds, err)
		}
	}
	if err := txn.Commit(ctx); err != nil {
		return fmt.Errorf("logsink: %s: commit %d records: %w", w.table, len(recs), err)
	}
	return nil
}
