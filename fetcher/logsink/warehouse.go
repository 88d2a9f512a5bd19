// SPDX-License-Identifier: Apache-2.0

package logsink

import (
	"context"

	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/fetcher"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/logtable"
)

// Warehouse appends log records to <namespace>.chronon_log_table, one part
// file per ds partition per write, committed atomically (logtable.Append):
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
	return &Warehouse{wh: wh, table: logtable.Table(namespace)}
}

// Table is the sink's table, "namespace.chronon_log_table".
func (w *Warehouse) Table() string { return w.table }

// WriteLogs appends recs, each to the partition of its ts, in one
// transaction.
func (w *Warehouse) WriteLogs(ctx context.Context, recs []fetchlog.Record) error {
	return logtable.Append(ctx, w.wh, w.table, recs, nil)
}
