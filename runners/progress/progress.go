// SPDX-License-Identifier: Apache-2.0

package progress

import (
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Units of Progress.Done and Progress.Total with their own display.
const (
	// UnitBytes counts bytes (shown in KiB/MiB on bars).
	UnitBytes = "bytes"
)

// Progress is a snapshot of a job's progress in one phase.
type Progress struct {
	// Phase names the job's current step (an import's "infer", a
	// backfill's "compute").
	Phase string
	// Done and Total measure the phase's progress in Unit; Total is 0 when
	// unknown.
	Done, Total int64
	// Unit is what Done counts (UnitBytes, "rows", "partitions").
	Unit string
	// Rows is the number of rows handled so far in the phase.
	Rows int64
	// Final is true on the last report of a phase.
	Final bool
}

// DefaultLogInterval is how often a Reporter that logs writes a line.
const DefaultLogInterval = 5 * time.Second

// Reporter shows a job's progress: as a progress bar when its output is a
// terminal, else as structured log lines every few seconds and at the end of
// each phase. Close it when the job returns.
type Reporter struct {
	job      string
	mu       sync.Mutex
	logger   *slog.Logger
	interval time.Duration
	lastLog  time.Time

	bars  *mpb.Progress
	bar   *mpb.Bar
	phase string
}

// NewReporter returns a reporter of job ("import", "backfill") writing to
// w. When w is a terminal it draws a bar per phase; otherwise it logs with
// logger (nil means a text logger on w) at most once per interval (0 means
// DefaultLogInterval), as "<job> progress" and "<job> phase done" lines.
func NewReporter(w io.Writer, logger *slog.Logger, interval time.Duration, job string) *Reporter {
	if isTerminal(w) {
		return newBarReporter(w, job, mpb.WithRefreshRate(150*time.Millisecond))
	}
	if interval <= 0 {
		interval = DefaultLogInterval
	}
	r := &Reporter{job: job, interval: interval}
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(w, nil))
	}
	r.logger = logger
	return r
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Report shows p. It is safe for concurrent use.
func (r *Reporter) Report(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bars != nil {
		r.drawBar(p)
		return
	}
	now := time.Now()
	if !p.Final && p.Phase == r.phase && now.Sub(r.lastLog) < r.interval {
		return
	}
	if p.Phase != r.phase {
		r.phase = p.Phase
		if !p.Final {
			// Start the phase's interval without logging at once.
			r.lastLog = now
			return
		}
	}
	r.lastLog = now
	attrs := []any{"phase", p.Phase, "rows", p.Rows, "done", p.Done, "unit", p.Unit}
	if p.Total > 0 {
		attrs = append(attrs, "total", p.Total, "percent", int(100*p.Done/p.Total))
	}
	msg := r.job + " progress"
	if p.Final {
		msg = r.job + " phase done"
	}
	r.logger.Info(msg, attrs...)
}

func (r *Reporter) drawBar(p Progress) {
	if p.Phase != r.phase || r.bar == nil {
		r.completeBar()
		r.phase = p.Phase
		counters := decor.CountersNoUnit("%d / %d", decor.WCSyncWidth)
		if p.Unit == UnitBytes {
			counters = decor.CountersKibiByte("% .1f / % .1f", decor.WCSyncWidth)
		}
		r.bar = r.bars.AddBar(p.Total,
			mpb.PrependDecorators(decor.Name(p.Phase, decor.WCSyncSpaceR), counters),
			mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace), decor.Elapsed(decor.ET_STYLE_GO, decor.WCSyncSpace)),
		)
	}
	r.bar.SetCurrent(p.Done)
	if p.Final {
		r.completeBar()
	}
}

func (r *Reporter) completeBar() {
	if r.bar != nil && !r.bar.Completed() {
		r.bar.SetTotal(-1, true)
	}
	r.bar = nil
}

// newBarReporter draws bars on w whatever w is (tests draw into buffers).
func newBarReporter(w io.Writer, job string, opts ...mpb.ContainerOption) *Reporter {
	opts = append([]mpb.ContainerOption{mpb.WithOutput(w), mpb.WithWidth(40)}, opts...)
	return &Reporter{job: job, interval: DefaultLogInterval, bars: mpb.New(opts...)}
}

// Close finishes the display. Call it once, after the job returns.
func (r *Reporter) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bars == nil {
		return
	}
	if r.bar != nil {
		r.bar.Abort(false)
		r.bar = nil
	}
	r.bars.Wait()
}
