// SPDX-License-Identifier: Apache-2.0

//go:build cgo

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
)

// The generated tables.
const (
	leftTable        = "data.checkouts"    // the Join's left: row_id, user_id, ts
	eventsTable      = "data.events"       // the GroupBys' events: key, amount, ts
	eventsTableSmall = "data.events_small" // as eventsTable with fewer rows (the scaling run)
)

// lastDay is the last left partition; the data is fixed, not relative to today.
const lastDay = "2024-01-31"

// historyDays is how many days of events precede the first left day: the
// longest window, so that every left row's windows are full.
const historyDays = 30

// onTheHour: one timestamp in onTheHour is a whole hour.
const onTheHour = 20

// genBatchRows is the number of rows built per Arrow batch.
const genBatchRows = 64 * 1024

// seed makes every generated row a function of the sizes only.
const seed = 20240131

// config sizes a run.
type config struct {
	Left   int // left rows over Days days
	Events int // events over historyDays+Days days
	Small  int // events of the scaling run's smaller table (0: none)
	Keys   int // distinct users
	Days   int // left days, ending lastDay
}

var (
	leftSchema = arrow.NewSchema([]arrow.Field{
		{Name: "row_id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "user_id", Type: arrow.BinaryTypes.String},
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	eventsSchema = arrow.NewSchema([]arrow.Field{
		{Name: "key", Type: arrow.BinaryTypes.String},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
)

// firstDay returns the midnight (epoch ms) of the first left day.
func (c config) firstDay() int64 {
	end, err := batch.MillisOfDS(lastDay)
	if err != nil {
		panic(err)
	}
	return end - int64(c.Days-1)*batch.DayMillis
}

// leftDays returns the left's partitions, first to last.
func (c config) leftDays() (start, end string) {
	return batch.DSOfMillis(c.firstDay()), lastDay
}

// userIDs returns the key strings, user_0000000 and so on.
func userIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("user_%07d", i)
	}
	return ids
}

// spread returns how many of total rows fall on day i of n (every day
// gets total/n, the first total%n days one more).
func spread(total, n, i int) int {
	m := total / n
	if i < total%n {
		m++
	}
	return m
}

// generate writes the tables of c to the warehouse at root. Users are
// uniform over Keys ids, timestamps uniform within each day (see
// timestamp); about 1% of amounts are null. Each day comes from its own RNG
// stream, so the data depends on c only, whatever the parallelism.
func generate(ctx context.Context, root string, c config) (rows int64, err error) {
	wh, err := parquet.Open(root, nil)
	if err != nil {
		return 0, err
	}
	defer wh.Close()
	ids := userIDs(c.Keys)
	first := c.firstDay()

	type table struct {
		name   string
		schema *arrow.Schema
		rows   int
		from   int64 // first day's midnight
		days   int
		gen    func(r *rand.Rand, n int, day int64, rowID int64, b *array.RecordBuilder)
	}
	left := func(r *rand.Rand, n int, day, rowID int64, b *array.RecordBuilder) {
		rid := b.Field(0).(*array.Int64Builder)
		user := b.Field(1).(*array.StringBuilder)
		ts := b.Field(2).(*array.Int64Builder)
		for i := 0; i < n; i++ {
			rid.UnsafeAppend(rowID + int64(i))
			user.Append(ids[r.IntN(len(ids))])
			ts.UnsafeAppend(timestamp(r, day))
		}
	}
	events := func(r *rand.Rand, n int, day, _ int64, b *array.RecordBuilder) {
		key := b.Field(0).(*array.StringBuilder)
		amount := b.Field(1).(*array.Float64Builder)
		ts := b.Field(2).(*array.Int64Builder)
		for i := 0; i < n; i++ {
			key.Append(ids[r.IntN(len(ids))])
			if r.IntN(100) == 0 {
				amount.AppendNull()
			} else {
				amount.UnsafeAppend(float64(r.IntN(50_000)) / 100) // 0.00 to 499.99
			}
			ts.UnsafeAppend(timestamp(r, day))
		}
	}
	evFrom := first - historyDays*batch.DayMillis
	tables := []table{
		{leftTable, leftSchema, c.Left, first, c.Days, left},
		{eventsTable, eventsSchema, c.Events, evFrom, historyDays + c.Days, events},
	}
	if c.Small > 0 {
		tables = append(tables, table{eventsTableSmall, eventsSchema, c.Small, evFrom, historyDays + c.Days, events})
	}
	for ti, t := range tables {
		// Row ids are global: day d's first id is the sum of the days before.
		firstID := make([]int64, t.days)
		for d := 1; d < t.days; d++ {
			firstID[d] = firstID[d-1] + int64(spread(t.rows, t.days, d-1))
		}
		workers := min(runtime.GOMAXPROCS(0), t.days)
		errs := make([]error, workers)
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Each worker writes days w, w+workers, ... in its own
				// transaction; overwrites of disjoint partitions all survive.
				errs[w] = writeDays(ctx, wh, t.name, t.schema, func(yield func(ds string, r *rand.Rand, n int, day, rowID int64) error) error {
					for d := w; d < t.days; d += workers {
						day := t.from + int64(d)*batch.DayMillis
						r := rand.New(rand.NewPCG(seed, uint64(ti)<<32|uint64(d)))
						if err := yield(batch.DSOfMillis(day), r, spread(t.rows, t.days, d), day, firstID[d]); err != nil {
							return err
						}
					}
					return nil
				}, t.gen)
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return 0, fmt.Errorf("generate %s: %w", t.name, err)
			}
		}
		rows += int64(t.rows)
	}
	return rows, nil
}

// timestamp returns a time in the day starting at day (epoch ms): uniform,
// or one time in onTheHour a whole hour, so that some events fall exactly on
// a left row's time or window tail and the check covers both bounds.
func timestamp(r *rand.Rand, day int64) int64 {
	if r.IntN(onTheHour) == 0 {
		return day + r.Int64N(24)*3600_000
	}
	return day + r.Int64N(batch.DayMillis)
}

// writeDays writes the days days yields in one transaction, genBatchRows
// rows per batch.
func writeDays(ctx context.Context, wh warehouse.Warehouse, table string, schema *arrow.Schema,
	days func(yield func(ds string, r *rand.Rand, n int, day, rowID int64) error) error,
	gen func(r *rand.Rand, n int, day, rowID int64, b *array.RecordBuilder)) (err error) {
	txn, err := wh.Begin(ctx, table, schema, warehouse.WriteOptions{})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			txn.Abort()
		}
	}()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	err = days(func(ds string, r *rand.Rand, n int, day, rowID int64) error {
		for done := 0; done < n; {
			m := min(genBatchRows, n-done)
			b.Reserve(m)
			gen(r, m, day, rowID+int64(done), b)
			rec := b.NewRecordBatch()
			err := txn.Write(ctx, ds, rec)
			rec.Release()
			if err != nil {
				return err
			}
			done += m
		}
		return nil
	})
	if err != nil {
		return err
	}
	return txn.Commit(ctx)
}

// since formats the time since start.
func since(start time.Time) time.Duration { return time.Since(start).Round(time.Millisecond) }
