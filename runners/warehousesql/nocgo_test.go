// SPDX-License-Identifier: Apache-2.0

//go:build !cgo

package warehousesql

import (
	"context"
	"errors"
	"testing"
)

func TestOpenWithoutCgo(t *testing.T) {
	db, err := Open(context.Background(), nil)
	if db != nil || !errors.Is(err, ErrNoCgo) {
		t.Fatalf("Open = %v, %v; want ErrNoCgo", db, err)
	}
	if err.Error() != "warehousesql: DuckDB needs cgo (built with CGO_ENABLED=0)" {
		t.Errorf("error text %q", err)
	}
}
