// SPDX-License-Identifier: Apache-2.0

package importer

import (
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Import phases reported in Progress.Phase.
const (
	// PhaseInfer is the first pass over a text file, inferring its schema.
	PhaseInfer = "infer"
	// PhaseLoad is the pass decoding the file and writing its rows.
	PhaseLoad = "load"
)

// Units of Progress.Done and Progress.Total.
const (
	// UnitBytes counts bytes of the input file (compressed bytes for .gz).
	UnitBytes = "bytes"
	// UnitRows counts rows of the input file.
	UnitRows = "rows"
)

// Progress is a snapshot of an import's progress.
type Progress struct {
	// Phase is PhaseInfer or PhaseLoad.
	Phase string
	// Done and Total measure the phase's progress in Unit; Total is 0 when
	// unknown.
	Done, Total int64
	// Unit is UnitBytes or UnitRows.
	Unit string
	// Rows is the number of rows read so far in the phase (at the end of
	// PhaseInfer, the file's row count).
	Rows int64
	// Final is true on the last report of a phase.
	Final bool
}

// reportEvery is the shortest interval between two non-final reports the
// importer makes to Options.Progress.
const reportEvery = 100 * time.Millisecond

// ticker throttles progress reports.
type ticker struct {
	fn   func(Progress)
	last time.Time
}

func newTicker(fn func(Progress)) *ticker { return &ticker{fn: fn, last: time.Now()} }

func (t *ticker) report(p Progress, final bool) {
	if t.fn == nil {
		return
	}
	now := time.Now()
	if !final && now.Sub(t.last) < reportEvery {
		return
	}
	t.last = now
	p.Final = final
	t.fn(p)
}

// DefaultLogInterval is how often a ProgressReporter that logs writes a line.
const DefaultLogInterval = 5 * time.Second

// ProgressReporter shows an import's progress: as a progress bar when its
// output is a terminal, else as structured log lines every few seconds and
// at the end of each phase. Pass its Report method as Options.Progress and
// Close it when Import returns.
type ProgressReporter struct {
	mu       sync.Mutex
	logger   *slog.Logger
	interval time.Duration
	lastLog  time.Time

	bars  *mpb.Progress
	bar   *mpb.Bar
	phase string
}

// NewProgressReporter returns a reporter writing to w. When w is a terminal
// it draws a bar per phase; otherwise it logs with logger (nil means a text
// logger on w) at most once per interval (0 means DefaultLogInterval).
func NewProgressReporter(w io.Writer, logger *slog.Logger, interval time.Duration) *ProgressReporter {
	if interval <= 0 {
		interval = DefaultLogInterval
	}
	r := &ProgressReporter{interval: interval}
	if isTerminal(w) {
		r.bars = mpb.New(mpb.WithOutput(w), mpb.WithWidth(40), mpb.WithRefreshRate(150*time.Millisecond))
		return r
	}
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
func (r *ProgressReporter) Report(p Progress) {
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
	msg := "import progress"
	if p.Final {
		msg = "import phase done"
	}
	r.logger.Info(msg, attrs...)
}

func (r *ProgressReporter) drawBar(p Progress) {
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

func (r *ProgressReporter) completeBar() {
	if r.bar != nil && !r.bar.Completed() {
		r.bar.SetTotal(-1, true)
	}
	r.bar = nil
}

// Close finishes the display. Call it once, after Import returns.
func (r *ProgressReporter) Close() {
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
