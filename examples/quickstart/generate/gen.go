// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/chronon-go/chronon/core/batch"
)

// config says what to generate. The same config always yields the same
// bytes.
type config struct {
	// endDate is the last partition, YYYY-MM-DD.
	endDate string
	// days is the number of partitions purchases and returns span, ending
	// at endDate.
	days int
	// seed seeds every table's random stream.
	seed uint64
	// users is the number of users, with ids "0".."users-1".
	users int
	// purchases, returns and checkouts are the tables' row counts.
	purchases, returns, checkouts int
	// products is the number of distinct product ids.
	products int
	// snapshots is the number of daily users snapshots, the first on the
	// day before endDate (1: that day only; 2: the end date's own too, so
	// that a run for the end date can upload the users group-by).
	snapshots int
}

// defaultConfig is the quickstart's shape (Chronon's sample data): 500
// purchases and returns over 30 days ending yesterday (UTC, relative to
// now), 100 users, 200 checkouts.
func defaultConfig(now time.Time) config {
	return config{
		endDate: batch.FormatDS(now.UTC().AddDate(0, 0, -1)),
		days:    30, seed: 1, users: 100,
		purchases: 500, returns: 500, checkouts: 200, products: 1000, snapshots: 1,
	}
}

func (c config) validate() error {
	switch {
	case !batch.ValidDS(c.endDate):
		return fmt.Errorf("bad end date %q: want YYYY-MM-DD", c.endDate)
	case c.days < 1:
		return fmt.Errorf("days must be at least 1, not %d", c.days)
	case c.users < 1:
		return fmt.Errorf("users must be at least 1, not %d", c.users)
	case c.products < 1:
		return fmt.Errorf("products must be at least 1, not %d", c.products)
	case c.snapshots < 1:
		return fmt.Errorf("snapshots must be at least 1, not %d", c.snapshots)
	case c.purchases < 0 || c.returns < 0 || c.checkouts < 0:
		return errors.New("row counts cannot be negative")
	}
	return nil
}

// fileStats describes one generated file.
type fileStats struct {
	name            string
	rows            int64
	firstDS, lastDS string
	bytes           int64
}

// Random stream ids, one per table, so that changing one table's size
// leaves the others as they were.
const (
	streamPurchases uint64 = iota + 1
	streamReturns
	streamUsers
	streamCheckouts
)

// eventTable describes an events file: ds, ts, id, user_id, product_id and
// a positive integer amount.
type eventTable struct {
	file      string
	header    string
	rows      int
	firstDS   string
	days      int
	stream    uint64
	idBase    int64
	maxAmount int
}

// generate writes purchases.csv, returns.csv, users.csv and checkouts.csv
// into dir (created if needed) and describes them.
func generate(dir string, c config) ([]fileStats, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create output directory: %w", err)
	}
	firstDS, err := batch.ShiftDS(c.endDate, 1-c.days)
	if err != nil {
		return nil, err
	}
	usersDS, err := batch.ShiftDS(c.endDate, -1)
	if err != nil {
		return nil, err
	}
	tables := []eventTable{
		{file: "purchases.csv", header: "ds,ts,purchase_id,user_id,product_id,purchase_price",
			rows: c.purchases, firstDS: firstDS, days: c.days, stream: streamPurchases, idBase: 100_000_000, maxAmount: 500},
		{file: "returns.csv", header: "ds,ts,return_id,user_id,product_id,refund_amt",
			rows: c.returns, firstDS: firstDS, days: c.days, stream: streamReturns, idBase: 200_000_000, maxAmount: 300},
		// Chronon's checkouts have the returns' columns, return_id included.
		{file: "checkouts.csv", header: "ds,ts,return_id,user_id,product_id,refund_amt",
			rows: c.checkouts, firstDS: c.endDate, days: 1, stream: streamCheckouts, idBase: 300_000_000, maxAmount: 300},
	}
	var out []fileStats
	for _, t := range tables {
		st, err := writeFile(dir, t.file, func(w io.Writer) error { return writeEvents(w, c, t) })
		if err != nil {
			return nil, err
		}
		st.firstDS, st.lastDS = t.firstDS, batch.FormatDS(mustParseDS(t.firstDS).AddDate(0, 0, t.days-1))
		st.rows = int64(t.rows)
		out = append(out, st)
	}
	st, err := writeFile(dir, "users.csv", func(w io.Writer) error {
		for i := range c.snapshots {
			if err := writeUsers(w, c, batch.FormatDS(mustParseDS(usersDS).AddDate(0, 0, i)), i == 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	st.rows, st.firstDS, st.lastDS = int64(c.users*c.snapshots), usersDS, batch.FormatDS(mustParseDS(usersDS).AddDate(0, 0, c.snapshots-1))
	// Report in the order the quickstart lists the tables.
	out = slices.Insert(out, 2, st)
	return out, nil
}

func mustParseDS(ds string) time.Time {
	t, err := batch.ParseDS(ds)
	if err != nil {
		panic(err)
	}
	return t
}

// writeFile creates dir/name and streams write's output into it.
func writeFile(dir, name string, write func(io.Writer) error) (fileStats, error) {
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		return fileStats{}, fmt.Errorf("create %s: %w", path, err)
	}
	cw := &countWriter{w: f}
	bw := bufio.NewWriterSize(cw, 256*1024)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fileStats{}, fmt.Errorf("write %s: %w", path, err)
	}
	return fileStats{name: name, bytes: cw.n}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// dayCounts splits rows over days with random weights between 0.5 and 1.5,
// so that every day gets about its share and the total is exact.
func dayCounts(rng *rand.Rand, rows, days int) []int {
	weights := make([]float64, days)
	var sum float64
	for i := range weights {
		weights[i] = 0.5 + rng.Float64()
		sum += weights[i]
	}
	counts := make([]int, days)
	left := rows
	for i, w := range weights {
		counts[i] = int(float64(rows) * w / sum)
		left -= counts[i]
	}
	for i := 0; left > 0; i = (i + 1) % days {
		counts[i]++
		left--
	}
	return counts
}

// writeEvents streams t's rows, day by day and in ts order within a day.
// Each row's ds is the UTC day of its ts.
func writeEvents(w io.Writer, c config, t eventTable) error {
	rng := rand.New(rand.NewPCG(c.seed, t.stream))
	if _, err := io.WriteString(w, t.header+"\n"); err != nil {
		return err
	}
	start := mustParseDS(t.firstDS)
	id := t.idBase
	var (
		secs []int64
		line []byte
	)
	for d, n := range dayCounts(rng, t.rows, t.days) {
		day := start.AddDate(0, 0, d)
		ds := batch.FormatDS(day)
		dayMillis := day.UnixMilli()
		secs = secs[:0]
		for range n {
			secs = append(secs, rng.Int64N(24*60*60))
		}
		slices.Sort(secs)
		for _, s := range secs {
			line = append(line[:0], ds...)
			line = append(line, ',')
			line = strconv.AppendInt(line, dayMillis+s*1000, 10)
			line = append(line, ',')
			line = strconv.AppendInt(line, id, 10)
			line = append(line, ',')
			line = strconv.AppendInt(line, rng.Int64N(int64(c.users)), 10)
			line = append(line, ',')
			line = strconv.AppendInt(line, rng.Int64N(int64(c.products)), 10)
			line = append(line, ',')
			line = strconv.AppendInt(line, 1+rng.Int64N(int64(t.maxAmount)), 10)
			line = append(line, '\n')
			if _, err := w.Write(line); err != nil {
				return err
			}
			id++
		}
	}
	return nil
}

// writeUsers writes one row per user, all in partition ds (after the
// header when header is set): the account's creation day (up to two years
// before the first snapshot) and whether the email is verified (0 or 1).
// Every snapshot holds the same users.
func writeUsers(w io.Writer, c config, ds string, header bool) error {
	rng := rand.New(rand.NewPCG(c.seed, streamUsers))
	if header {
		if _, err := io.WriteString(w, "ds,user_id,account_created_ds,email_verified\n"); err != nil {
			return err
		}
	}
	day, err := batch.ShiftDS(c.endDate, -1)
	if err != nil {
		return err
	}
	for u := range c.users {
		created := batch.FormatDS(mustParseDS(day).AddDate(0, 0, -rng.IntN(730)))
		if _, err := fmt.Fprintf(w, "%s,%d,%s,%d\n", ds, u, created, rng.IntN(2)); err != nil {
			return err
		}
	}
	return nil
}
