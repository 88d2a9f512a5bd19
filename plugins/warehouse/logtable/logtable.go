// SPDX-License-Identifier: Apache-2.0

// Package logtable appends fetch-log records to a warehouse's log table,
// <namespace>.chronon_log_table (core/fetchlog's table format). The
// fetcher's warehouse log sink and chronon log-ingest share it, so both
// write the same files; it lives under plugins/warehouse because the
// serving path may import it and offline code may too, which neither
// fetcher/ nor runners/ allows for the other.
package logtable

import (
	"context"
	"fmt"

	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// Table is the log table of namespace: "namespace.chronon_log_table".
func Table(namespace string) string { return namespace + "." + fetchlog.LogTable }

// Append adds recs to table in one transaction (warehouse.Append), each to
// the partition of its ts, one part file per partition, in the order
// given. props are merged into the table's properties by the same commit,
// so they change if and only if the records land. A reader sees the write
// whole or not at all; appends of other writers are kept. Appending no
// records does nothing.
func Append(ctx context.Context, wh warehouse.Warehouse, table string, recs []fetchlog.Record, props map[string]string) error {
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
	txn, err := wh.Begin(ctx, table, fetchlog.TableSchema(), warehouse.WriteOptions{Mode: warehouse.Append, Properties: props})
	if err != nil {
		return fmt.Errorf("logtable: %s: %w", table, err)
	}
	for _, ds := range days {
		rb := fetchlog.ToArrow(byDay[ds])
		err := txn.Write(ctx, ds, rb)
		rb.Release()
		if err != nil {
			txn.Abort()
			return fmt.Errorf("logtable: %s partition %s: %w", table, ds, err)
		}
	}
	if err := txn.Commit(ctx); err != nil {
		return fmt.Errorf("logtable: %s: commit %d records: %w", table, len(recs), err)
	}
	return nil
}
