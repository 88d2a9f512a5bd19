// SPDX-License-Identifier: Apache-2.0

// Importbench measures `chronon import` on a generated CSV of purchases (1M
// rows by default): throughput in rows/s and the peak memory (max RSS) of the
// chronon process, against DuckDB converting the same CSV into ds-partitioned
// Parquet in the same run.
//
//	go run ./testing/bench/importbench --chronon bin/chronon [--rows 1000000]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
	"github.com/chronon-go/chronon/runners/warehousesql"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "importbench:", err)
		os.Exit(1)
	}
}

func run() error {
	chronon := flag.String("chronon", "bin/chronon", "chronon binary to measure")
	rows := flag.Int("rows", 1_000_000, "purchase rows to generate")
	keep := flag.Bool("keep", false, "keep the work directory")
	flag.Parse()

	bin, err := filepath.Abs(*chronon)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "importbench-")
	if err != nil {
		return err
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	fmt.Printf("importbench: %d rows in %s\n", *rows, dir)
	gen := exec.Command("go", "run", "./examples/quickstart/generate", "--out", dir, "--end-date", "2023-11-30",
		"--purchases", strconv.Itoa(*rows), "--returns", "1", "--checkouts", "1")
	gen.Stderr = os.Stderr
	if err := gen.Run(); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	csv := filepath.Join(dir, "purchases.csv")
	st, err := os.Stat(csv)
	if err != nil {
		return err
	}

	// chronon import, as a user runs it.
	imp := exec.Command(bin, "import", "--table", "data.purchases", "--file", csv, "--ds-column", "ds",
		"--schema", "purchase_id:string,user_id:string,product_id:string", "--log-format", "json")
	imp.Dir = dir
	imp.Stderr = nil
	start := time.Now()
	out, err := imp.Output()
	chrononTime := time.Since(start)
	if err != nil {
		return fmt.Errorf("chronon import: %w\n%s", err, out)
	}
	maxRSS := imp.ProcessState.SysUsage().(*syscall.Rusage).Maxrss // KiB on Linux

	// DuckDB baseline: the same CSV to ds-partitioned Parquet.
	wh, err := parquet.Open(filepath.Join(dir, "duck-wh"), nil)
	if err != nil {
		return err
	}
	defer wh.Close()
	db, err := warehousesql.Open(context.Background(), wh)
	if err != nil {
		return err
	}
	defer db.Close()
	start = time.Now()
	q := fmt.Sprintf(`COPY (SELECT * FROM read_csv('%s', header = true, types = {'purchase_id': 'VARCHAR', 'user_id': 'VARCHAR', 'product_id': 'VARCHAR', 'ds': 'VARCHAR'}))
		TO '%s' (FORMAT parquet, PARTITION_BY (ds), COMPRESSION snappy)`, csv, filepath.Join(dir, "duck-out"))
	if err := db.Exec(context.Background(), q); err != nil {
		return fmt.Errorf("duckdb baseline: %w", err)
	}
	duckTime := time.Since(start)

	n := float64(*rows)
	fmt.Printf("input: %d rows, %.1f MiB CSV\n", *rows, float64(st.Size())/(1<<20))
	fmt.Printf("chronon import: %8.0f rows/s  (%v)  peak RSS %.0f MiB\n", n/chrononTime.Seconds(), chrononTime.Round(time.Millisecond), float64(maxRSS)/1024)
	fmt.Printf("duckdb COPY:    %8.0f rows/s  (%v)\n", n/duckTime.Seconds(), duckTime.Round(time.Millisecond))
	fmt.Printf("ratio chronon/duckdb time: %.2fx\n", chrononTime.Seconds()/duckTime.Seconds())
	return nil
}
