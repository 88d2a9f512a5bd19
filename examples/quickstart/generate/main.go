// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"time"
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr, time.Now())
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(2)
	}
}

// run parses args, generates the files and prints what it wrote.
func run(args []string, stdout, stderr io.Writer, now time.Time) error {
	c := defaultConfig(now)
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "output directory (required)")
	fs.StringVar(&c.endDate, "end-date", c.endDate, "last partition, YYYY-MM-DD (default: yesterday, UTC)")
	fs.Uint64Var(&c.seed, "seed", c.seed, "random seed")
	fs.IntVar(&c.users, "users", c.users, "number of users")
	fs.IntVar(&c.days, "days", c.days, "days of purchases and returns, ending at the end date")
	fs.IntVar(&c.purchases, "purchases", c.purchases, "purchases rows (before --rows-scale)")
	fs.IntVar(&c.returns, "returns", c.returns, "returns rows (before --rows-scale)")
	fs.IntVar(&c.checkouts, "checkouts", c.checkouts, "checkouts rows (before --rows-scale)")
	fs.IntVar(&c.products, "products", c.products, "number of products")
	fs.IntVar(&c.snapshots, "snapshots", c.snapshots, "daily users snapshots, from the day before the end date on (2 adds the end date's)")
	scale := fs.Float64("rows-scale", 1, "multiply the purchases, returns and checkouts row counts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *out == "" {
		return errors.New("--out is required")
	}
	if *scale <= 0 || math.IsInf(*scale, 0) || math.IsNaN(*scale) {
		return fmt.Errorf("--rows-scale must be positive, not %v", *scale)
	}
	for _, n := range []*int{&c.purchases, &c.returns, &c.checkouts} {
		*n = int(math.Round(float64(*n) * *scale))
	}
	files, err := generate(*out, c)
	if err != nil {
		return err
	}
	for _, f := range files {
		span := f.firstDS
		if f.lastDS != f.firstDS {
			span += ".." + f.lastDS
		}
		fmt.Fprintf(stdout, "wrote %s: %d rows, ds %s, %d bytes\n", f.name, f.rows, span, f.bytes)
	}
	return nil
}
