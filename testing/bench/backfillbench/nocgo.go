// SPDX-License-Identifier: Apache-2.0

//go:build !cgo

// Backfillbench measures a Join backfill against DuckDB SQL on the same
// Parquet files. DuckDB is a cgo library: built without cgo, it only says so.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "backfillbench: needs cgo for DuckDB (build with CGO_ENABLED=1 and a C compiler)")
	os.Exit(1)
}
