// SPDX-License-Identifier: Apache-2.0

package importer

import (
	"io"
	"log/slog"
	"time"

	"github.com/chronon-go/chronon/runners/progress"
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
	UnitBytes = progress.UnitBytes
	// UnitRows counts rows of the input file.
	UnitRows = "rows"
)

// Progress is a snapshot of an import's progress: Phase is PhaseInfer or
// PhaseLoad, Unit UnitBytes or UnitRows, and at the end of PhaseInfer Rows
// is the file's row count.
type Progress = progress.Progress

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

// ProgressReporter shows an import's progress (see progress.Reporter).
type ProgressReporter = progress.Reporter

// NewProgressReporter returns a reporter of an import's progress on w: a
// bar on a terminal, else log lines through logger at most once per
// interval. Pass its Report method as Options.Progress and Close it when
// Import returns.
func NewProgressReporter(w io.Writer, logger *slog.Logger, interval time.Duration) *ProgressReporter {
	return progress.NewReporter(w, logger, interval, "import")
}
