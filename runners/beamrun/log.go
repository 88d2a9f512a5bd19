// SPDX-License-Identifier: Apache-2.0

package beamrun

import (
	"context"
	"log/slog"

	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
)

// slogger routes Beam's log lines to slog. Beam logs its pipeline graph
// and every step at INFO; those become DEBUG lines so a backfill's own
// progress stays readable.
// With verbose (a dry run, whose job Beam prints at INFO) INFO stays INFO.
type slogger struct {
	l       *slog.Logger
	verbose bool
}

func (s slogger) Log(ctx context.Context, sev beamlog.Severity, _ int, msg string) {
	level := slog.LevelDebug
	switch sev {
	case beamlog.SevInfo:
		if s.verbose {
			level = slog.LevelInfo
		}
	case beamlog.SevWarn:
		level = slog.LevelWarn
	case beamlog.SevError, beamlog.SevFatal:
		level = slog.LevelError
	}
	s.l.Log(ctx, level, msg, "component", "beam")
}
