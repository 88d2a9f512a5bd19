// SPDX-License-Identifier: Apache-2.0

//go:build cgo

// Backfillbench measures a point-in-time Join backfill (runners/backfill on
// the direct runner) against DuckDB computing the same values with SQL
// (join.sql) over the same Parquet files, in the same run, and checks that
// the two agree row for row.
//
// It generates a warehouse with a deterministic RNG: data.checkouts, the
// left (1M rows over 30 days: row_id, user_id, ts), and data.events (10M
// rows over 100K users, the same 30 days and the 30 before: key, amount,
// ts). It then backfills a Join of the left with a TEMPORAL GroupBy of the
// events (SUM, COUNT and AVERAGE of amount over 3d, 14d and 30d, exact
// tails), runs join.sql, compares, and times joins without a SQL baseline:
// LAST_K(10), three GroupBys, and the first join over 1M events (scaling).
//
// Every measured step runs in a child process (the same binary with -step),
// so its peak RSS (VmHWM) and CPU time are its own, not the data
// generation's. The join checked against DuckDB, the SQL and the scaling run
// are run -repeat times (default 2, interleaved) and the best counts.
//
//	go run ./testing/bench/backfillbench [-quick] [-left N] [-events N] [-keys N] [-days N]
//		[-repeat N] [-shards N] [-cpuprofile FILE] [-keep] [-v]
//
// A kept warehouse (-keep) can be backfilled again by hand, e.g. to profile
// CPU or allocations:
//
//	go build -o /tmp/backfillbench ./testing/bench/backfillbench
//	/tmp/backfillbench -keep
//	/tmp/backfillbench -step ours -root DIR/warehouse -join main -cpuprofile cpu.out -memprofile mem.out -v
package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
	"github.com/chronon-go/chronon/runners/backfill"
	"github.com/chronon-go/chronon/runners/beamrun"
	"github.com/chronon-go/chronon/runners/warehousesql"
)

// joinSQL is the SQL baseline of the join joinMain, with {left} and
// {events} standing for the tables.
//
//go:embed join.sql
var joinSQL string

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "backfillbench:", err)
		os.Exit(1)
	}
}

// stepResult is what a child step prints on its standard output, as JSON.
type stepResult struct {
	Seconds float64 // wall time of the measured work
	Rows    int64   // output rows
	Threads int     `json:",omitempty"` // DuckDB's threads
	// PeakRSS is the child's peak resident set, bytes: VmHWM, read by the
	// child at its end. (The rusage ru_maxrss the parent gets from wait4 is
	// no good here: Linux starts an exec'ed child's ru_maxrss from the
	// high-water mark of the memory it was forked with, the parent's.)
	PeakRSS int64
	// CPU is the child's user and system time, seconds, the whole process
	// (set by the parent). Less sensitive than Seconds to other load on the
	// machine.
	CPU float64 `json:"-"`
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("backfillbench", flag.ContinueOnError)
	var c config
	fs.IntVar(&c.Left, "left", 1_000_000, "left rows")
	fs.IntVar(&c.Events, "events", 10_000_000, "events")
	fs.IntVar(&c.Keys, "keys", 100_000, "distinct users")
	fs.IntVar(&c.Days, "days", 30, "left days (events cover 30 more days before)")
	quick := fs.Bool("quick", false, "small sizes for a smoke run (20K left rows, 200K events, 2K users)")
	keep := fs.Bool("keep", false, "keep the warehouse directory")
	repeat := fs.Int("repeat", 2, "runs of the join checked against DuckDB and of the SQL (the best counts)")
	verbose := fs.Bool("v", false, "log the backfills' progress on stderr")
	shards := fs.Int("shards", 0, "key shards of the backfill (0: the default)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured backfill (-join main) to this file")
	memProfile := fs.String("memprofile", "", "with -step ours: write an allocation profile of the backfill to this file")
	step := fs.String("step", "", "run one measured step in this process: ours, duck or idle (used by the parent run)")
	root := fs.String("root", "", "warehouse root of -step")
	join := fs.String("join", joinMain, "join of -step ours: main, small, lastk or three")
	table := fs.String("table", eventsTable, "events table of -step duck")
	out := fs.String("out", "", "Parquet file -step duck writes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *step != "" {
		if *root == "" {
			return errors.New("-step needs -root")
		}
		var res stepResult
		var err error
		switch *step {
		case "ours":
			res, err = stepOurs(ctx, *root, *join, *shards, *cpuProfile, *verbose)
			if err == nil && *memProfile != "" {
				err = writeHeapProfile(*memProfile)
			}
		case "duck":
			res, err = stepDuck(ctx, *root, *table, *out)
		case "idle":
			// The peak RSS of a child that does nothing: the binary's own.
		default:
			err = fmt.Errorf("unknown step %q (ours, duck or idle)", *step)
		}
		if err != nil {
			return err
		}
		if res.PeakRSS, err = peakRSS(); err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(res)
	}
	if *quick {
		c = config{Left: 20_000, Events: 200_000, Keys: 2_000, Days: 30}
	}
	if c.Left <= 0 || c.Events <= 0 || c.Keys <= 0 || c.Days <= 0 {
		return errors.New("-left, -events, -keys and -days must be positive")
	}
	c.Small = c.Events / 10
	return parent(ctx, c, max(*repeat, 1), *keep, *verbose, *shards, *cpuProfile)
}

// parent generates the data and runs every measured step as a child.
func parent(ctx context.Context, c config, repeat int, keep, verbose bool, shards int, cpuProfile string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if cpuProfile != "" {
		if cpuProfile, err = filepath.Abs(cpuProfile); err != nil {
			return err
		}
	}
	dir, err := os.MkdirTemp("", "backfillbench-")
	if err != nil {
		return err
	}
	if keep {
		fmt.Printf("warehouse kept in %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	root := filepath.Join(dir, "warehouse")
	first, last := c.leftDays()
	fmt.Printf("backfillbench: %d left rows over %d days (%s to %s), %d events (%d for scaling) over %d users and %d days\n",
		c.Left, c.Days, first, last, c.Events, c.Small, c.Keys, c.Days+historyDays)
	fmt.Printf("machine: %d CPUs, load average %s (other load slows both sides, DuckDB's threads most)\n", runtime.NumCPU(), loadAverage())

	start := time.Now()
	rows, err := generate(ctx, root, c)
	if err != nil {
		return err
	}
	size, err := dirSize(root)
	if err != nil {
		return err
	}
	fmt.Printf("%-34s %9s  %d rows, %.0f MiB of Parquet\n", "generate:", since(start), rows, float64(size)/(1<<20))

	child := func(args ...string) (stepResult, error) {
		var res stepResult
		args = append([]string{"-root", root}, args...)
		if shards > 0 {
			args = append(args, "-shards", fmt.Sprint(shards))
		}
		if verbose {
			args = append(args, "-v")
		}
		cmd := exec.CommandContext(ctx, self, args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return res, fmt.Errorf("step %s: %w", strings.Join(args, " "), err)
		}
		if err := json.Unmarshal(bytes.TrimSpace(out), &res); err != nil {
			return res, fmt.Errorf("step %s: bad result %q: %w", strings.Join(args, " "), out, err)
		}
		res.CPU = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
		return res, nil
	}
	line := func(what string, r stepResult, note string) {
		fmt.Printf("%-34s %8.3fs  peak RSS %5.0f MiB  CPU %6.2fs  %8d rows  %s\n", what, r.Seconds, float64(r.PeakRSS)/(1<<20), r.CPU, r.Rows, note)
	}

	idle, err := child("-step", "idle")
	if err != nil {
		return err
	}
	fmt.Printf("%-34s %9s  peak RSS %5.0f MiB  (in every peak RSS below)\n", "idle child process:", "", float64(idle.PeakRSS)/(1<<20))

	// The join checked against DuckDB, best of repeat runs each,
	// interleaved so that both see the same machine.
	mainArgs := []string{"-step", "ours", "-join", joinMain}
	if cpuProfile != "" {
		mainArgs = append(mainArgs, "-cpuprofile", cpuProfile)
	}
	duckOut := filepath.Join(dir, "duckdb.parquet")
	var ours, duck stepResult
	for i := 0; i < repeat; i++ {
		o, err := child(mainArgs...)
		if err != nil {
			return err
		}
		d, err := child("-step", "duck", "-table", eventsTable, "-out", duckOut)
		if err != nil {
			return err
		}
		ours, duck = best(ours, o, i), best(duck, d, i)
	}
	runs := ""
	if repeat > 1 {
		runs = fmt.Sprintf(", best of %d", repeat)
	}
	line("chronon backfill (direct runner):", ours, "SUM, COUNT, AVERAGE over 3d, 14d, 30d"+runs)
	line(fmt.Sprintf("duckdb join.sql (%d threads):", duck.Threads), duck, "the same, as a range join"+runs)
	rep, err := compareOutputs(ctx, root, joinMain, duckOut)
	if err != nil {
		return err
	}
	fmt.Printf("%-34s %d rows x %d columns, %d mismatches (floats within %g relative)\n", "agreement:", rep.Rows, rep.Columns, rep.Mismatches, relTol)
	for _, m := range rep.First {
		fmt.Printf("  mismatch: %s\n", m)
	}
	ratio := ours.Seconds / duck.Seconds
	verdict := "required met, goal not yet"
	switch {
	case ratio > 1:
		verdict = "required NOT MET"
	case ratio <= 0.5:
		verdict = "required and goal met"
	}
	fmt.Printf("%-34s %8.2fx  (required <= 1.0, goal 0.5: %s)\n", "ratio chronon/duckdb time:", ratio, verdict)
	fmt.Printf("%-34s %8.2fx  (user+system of the whole child processes)\n", "ratio chronon/duckdb CPU time:", ours.CPU/duck.CPU)
	if cpuProfile != "" {
		fmt.Printf("%-34s %s (of the last run; go tool pprof -top %s)\n", "CPU profile of the backfill:", cpuProfile, cpuProfile)
	}

	// No SQL baseline from here on.
	lastK, err := child("-step", "ours", "-join", joinLastK)
	if err != nil {
		return err
	}
	line("chronon LAST_K(10) join:", lastK, "LAST_K(10), unbounded")
	three, err := child("-step", "ours", "-join", joinThree)
	if err != nil {
		return err
	}
	line("chronon three-GroupBy join:", three, "the first join's + SUM/COUNT 1h/1d/7d, MAX 7d + LAST_K(10)")
	if c.Small > 0 {
		var small stepResult
		for i := 0; i < repeat; i++ {
			r, err := child("-step", "ours", "-join", joinSmall)
			if err != nil {
				return err
			}
			small = best(small, r, i)
		}
		line(fmt.Sprintf("chronon backfill, %s events:", count(c.Small)), small, "the first join over fewer events"+runs)
		fmt.Printf("%-34s %8.3fs -> %.3fs: %.2fx the time for %.0fx the events\n",
			fmt.Sprintf("scaling %s -> %s events:", count(c.Small), count(c.Events)),
			small.Seconds, ours.Seconds, ours.Seconds/small.Seconds, float64(c.Events)/float64(c.Small))
	}

	if rep.Mismatches > 0 {
		return fmt.Errorf("%d values differ between chronon and DuckDB", rep.Mismatches)
	}
	return nil
}

// best keeps the lesser wall and CPU time of two runs of a step (r is run
// i, 0 first) and the larger peak RSS.
func best(b, r stepResult, i int) stepResult {
	if i > 0 {
		r.Seconds = min(r.Seconds, b.Seconds)
		r.CPU = min(r.CPU, b.CPU)
		r.PeakRSS = max(r.PeakRSS, b.PeakRSS)
	}
	return r
}

// compareOutputs compares join's output table with DuckDB's Parquet file.
func compareOutputs(ctx context.Context, root, join, duckOut string) (*report, error) {
	j, err := benchJoin(join)
	if err != nil {
		return nil, err
	}
	wh, err := parquet.Open(root, nil)
	if err != nil {
		return nil, err
	}
	defer wh.Close()
	ours, err := readTable(ctx, wh, j.MetaData.OutputTable())
	if err != nil {
		return nil, err
	}
	want, err := readParquet(ctx, duckOut)
	if err != nil {
		return nil, err
	}
	return diff(ours, want, 10)
}

// stepOurs backfills a join from scratch and times it.
func stepOurs(ctx context.Context, root, name string, shards int, cpuProfile string, verbose bool) (stepResult, error) {
	var res stepResult
	j, err := benchJoin(name)
	if err != nil {
		return res, err
	}
	// A backfill skips the partitions already computed and reads a part's
	// values back from its part table: start from no tables at all.
	tables := []string{j.MetaData.OutputTable()}
	for _, jp := range j.JoinParts {
		tables = append(tables, j.PartOutputTable(jp))
	}
	for _, t := range tables {
		ns, tbl, _ := strings.Cut(t, ".")
		if err := os.RemoveAll(filepath.Join(root, ns, tbl)); err != nil {
			return res, err
		}
	}
	wh, err := parquet.Open(root, nil)
	if err != nil {
		return res, err
	}
	defer wh.Close()
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return res, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, err
		}
		defer pprof.StopCPUProfile()
	}
	var log *slog.Logger
	if verbose {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	start := time.Now()
	r, err := backfill.Join(ctx, wh, j, backfill.Options{
		Root:       root,
		WindowTail: "exact",
		Runner:     beamrun.Options{Runner: beamrun.Direct},
		Shards:     shards,
		Log:        log,
	})
	if err != nil {
		return res, err
	}
	res.Seconds = time.Since(start).Seconds()
	res.Rows = r.Rows
	return res, nil
}

// stepDuck runs join.sql over the warehouse's files with DuckDB, writes
// its result to out as Parquet, and times it.
func stepDuck(ctx context.Context, root, table, out string) (stepResult, error) {
	var res stepResult
	if out == "" {
		return res, errors.New("-step duck needs -out")
	}
	wh, err := parquet.Open(root, nil)
	if err != nil {
		return res, err
	}
	defer wh.Close()
	start := time.Now()
	db, err := warehousesql.Open(ctx, wh)
	if err != nil {
		return res, err
	}
	defer db.Close()
	q := strings.NewReplacer("{left}", leftTable, "{events}", table).Replace(joinSQL)
	copyQ := fmt.Sprintf("COPY (\n%s\n) TO '%s' (FORMAT parquet)", q, strings.ReplaceAll(out, "'", "''"))
	if err := db.Exec(ctx, copyQ); err != nil {
		return res, err
	}
	res.Seconds = time.Since(start).Seconds()
	// Not timed: how many rows and threads.
	r, err := db.Query(ctx, fmt.Sprintf("SELECT count(*)::BIGINT, current_setting('threads')::BIGINT FROM read_parquet('%s')", strings.ReplaceAll(out, "'", "''")))
	if err != nil {
		return res, err
	}
	defer r.Release()
	if r.NumRows() != 1 {
		return res, fmt.Errorf("count of the output: %d rows", r.NumRows())
	}
	vals := r.Batches[0]
	res.Rows = vals.Column(0).(interface{ Value(int) int64 }).Value(0)
	res.Threads = int(vals.Column(1).(interface{ Value(int) int64 }).Value(0))
	return res, nil
}

// peakRSS returns the process's peak resident set size (VmHWM), in bytes.
func peakRSS() (int64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}

// writeHeapProfile writes the allocations made so far (go tool pprof
// -sample_index=alloc_space shows who allocated the most bytes).
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// loadAverage returns the 1-minute load average, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

// dirSize returns the bytes of the files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	return n, err
}

// count formats a row count: 1M, 10M, 200K, 1500.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dK", n/1000)
	}
	return fmt.Sprint(n)
}
