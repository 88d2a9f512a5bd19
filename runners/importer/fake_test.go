// SPDX-License-Identifier: Apache-2.0

package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/plugins/warehouse"
)

// fakeWarehouse records the transactions begun on it. Only Begin is
// implemented.
type fakeWarehouse struct {
	mu   sync.Mutex
	txns []*fakeTxn
	// failWriteAt, when > 0, makes the n-th Write of a transaction fail.
	failWriteAt int
}

var _ warehouse.Warehouse = (*fakeWarehouse)(nil)

func (w *fakeWarehouse) Tables(context.Context) ([]string, error) { return nil, errors.ErrUnsupported }
func (w *fakeWarehouse) Describe(context.Context, string) (*warehouse.TableInfo, error) {
	return nil, errors.ErrUnsupported
}
func (w *fakeWarehouse) Scan(context.Context, string, warehouse.ScanOptions) (warehouse.Scanner, error) {
	return nil, errors.ErrUnsupported
}
func (w *fakeWarehouse) Close() error { return nil }

func (w *fakeWarehouse) Begin(_ context.Context, table string, schema *arrow.Schema, opts warehouse.WriteOptions) (warehouse.Txn, error) {
	if _, ok := schema.FieldsByName(warehouse.PartitionColumn); ok {
		return nil, fmt.Errorf("schema has a %s column", warehouse.PartitionColumn)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t := &fakeTxn{table: table, schema: schema, opts: opts, rows: map[string][]string{}, failWriteAt: w.failWriteAt}
	w.txns = append(w.txns, t)
	return t, nil
}

// only returns the single transaction begun, or nil.
func (w *fakeWarehouse) only() *fakeTxn {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.txns) != 1 {
		return nil
	}
	return w.txns[0]
}

// checkTxn checks txn, the only transaction begun (nil if none), against
// want: "" (none begun), "committed" or "aborted".
func checkTxn(t *testing.T, txn *fakeTxn, want string) {
	t.Helper()
	switch want {
	case "":
		if txn != nil {
			t.Error("a transaction was begun")
		}
	case "committed":
		if txn == nil || !txn.committed || txn.aborted {
			t.Fatalf("transaction not committed: %+v", txn)
		}
	case "aborted":
		if txn == nil || txn.committed || !txn.aborted {
			t.Fatalf("transaction not aborted: %+v", txn)
		}
	}
}

// fakeTxn keeps each partition's rows as "v1|v2|..." strings (nulls "∅").
type fakeTxn struct {
	table       string
	schema      *arrow.Schema
	opts        warehouse.WriteOptions
	rows        map[string][]string
	writes      int
	failWriteAt int
	committed   bool
	aborted     bool
}

func (t *fakeTxn) Write(_ context.Context, ds string, rec arrow.RecordBatch) error {
	if t.committed || t.aborted {
		return errors.New("write after commit or abort")
	}
	if !rec.Schema().Equal(t.schema) {
		return fmt.Errorf("record schema %v differs from the txn's %v", rec.Schema(), t.schema)
	}
	t.writes++
	if t.writes == t.failWriteAt {
		return errors.New("disk full")
	}
	if _, ok := t.rows[ds]; !ok {
		t.rows[ds] = []string{}
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		cells := make([]string, rec.NumCols())
		for c, col := range rec.Columns() {
			if col.IsNull(i) {
				cells[c] = "∅"
			} else {
				cells[c] = col.ValueStr(i)
			}
		}
		t.rows[ds] = append(t.rows[ds], strings.Join(cells, "|"))
	}
	return nil
}

func (t *fakeTxn) Commit(context.Context) error {
	if t.aborted {
		return errors.New("commit after abort")
	}
	t.committed = true
	return nil
}

func (t *fakeTxn) Abort() error {
	if !t.committed {
		t.aborted = true
	}
	return nil
}

// schemaString formats a schema as "name:type,...".
func schemaString(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = f.Name + ":" + f.Type.String()
	}
	return strings.Join(parts, ",")
}
