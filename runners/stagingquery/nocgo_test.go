// SPDX-License-Identifier: Apache-2.0

//go:build !cgo

package stagingquery

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/runners/warehousesql"
)

// TestRunWithoutCgo: with partitions to compute, a binary without cgo
// fails clearly, naming the staging query, and writes nothing.
func TestRunWithoutCgo(t *testing.T) {
	wh := openWarehouse(t)
	sq := stagingQuery("SELECT user_id, ds FROM data.purchases WHERE ds BETWEEN '{{ start_date }}' AND '{{ end_date }}'", "2023-11-01")
	_, err := Run(context.Background(), wh, sq, Options{EndDS: "2023-11-02"})
	if !errors.Is(err, warehousesql.ErrNoCgo) || !strings.HasPrefix(err.Error(), "staging query team.daily.v1: ") {
		t.Fatalf("Run = %v, want ErrNoCgo naming the staging query", err)
	}
	if _, err := wh.Describe(context.Background(), sq.MetaData.OutputTable()); !errors.Is(err, warehouse.ErrTableNotFound) {
		t.Errorf("output table: %v, want it absent", err)
	}
}
