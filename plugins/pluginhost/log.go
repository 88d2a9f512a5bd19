// SPDX-License-Identifier: Apache-2.0

package pluginhost

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// hclogger adapts a *slog.Logger to the hclog.Logger go-plugin logs to.
//
// go-plugin logs two kinds of records through it: its own (the root
// logger) and the plugin's stderr lines (a logger Named after the
// plugin's binary). The plugin's keep their level. go-plugin's own are
// detail, since the host reports the events that matter (started, crashed,
// restarting, failed to start) itself with the plugin's name: its errors
// are logged at Info, everything else at Debug.
type hclogger struct {
	log   *slog.Logger
	name  string
	args  []any
	level hclog.Level
}

var _ hclog.Logger = (*hclogger)(nil)

func newHCLogger(l *slog.Logger) *hclogger {
	return &hclogger{log: l, level: levelOf(l)}
}

// levelOf is the lowest hclog level l logs, so go-plugin skips parsing
// plugin lines the handler would drop.
func levelOf(l *slog.Logger) hclog.Level {
	ctx := context.Background()
	switch {
	case l.Enabled(ctx, slog.LevelDebug):
		return hclog.Debug
	case l.Enabled(ctx, slog.LevelInfo):
		return hclog.Info
	case l.Enabled(ctx, slog.LevelWarn):
		return hclog.Warn
	case l.Enabled(ctx, slog.LevelError):
		return hclog.Error
	}
	return hclog.Off
}

// slogLevel maps an hclog level to slog's, demoting go-plugin's own
// records (see hclogger).
func (h *hclogger) slogLevel(level hclog.Level) slog.Level {
	if h.name == "" {
		if level >= hclog.Error {
			return slog.LevelInfo
		}
		return slog.LevelDebug
	}
	switch level {
	case hclog.Trace, hclog.Debug:
		return slog.LevelDebug
	case hclog.Info, hclog.NoLevel:
		return slog.LevelInfo
	case hclog.Warn:
		return slog.LevelWarn
	}
	return slog.LevelError
}

func (h *hclogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	l := h.slogLevel(level)
	ctx := context.Background()
	if !h.log.Enabled(ctx, l) {
		return
	}
	all := make([]any, 0, len(h.args)+len(args)+2)
	if h.name != "" {
		all = append(all, "logger", h.name)
	}
	all = append(all, h.args...)
	all = append(all, args...)
	h.log.Log(ctx, l, msg, all...)
}

func (h *hclogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hclogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hclogger) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hclogger) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hclogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hclogger) IsTrace() bool { return h.level <= hclog.Trace }
func (h *hclogger) IsDebug() bool { return h.level <= hclog.Debug }
func (h *hclogger) IsInfo() bool  { return h.level <= hclog.Info }
func (h *hclogger) IsWarn() bool  { return h.level <= hclog.Warn }
func (h *hclogger) IsError() bool { return h.level <= hclog.Error }

func (h *hclogger) ImpliedArgs() []any { return h.args }

func (h *hclogger) With(args ...any) hclog.Logger {
	c := *h
	c.args = append(append([]any(nil), h.args...), args...)
	return &c
}

func (h *hclogger) Name() string { return h.name }

func (h *hclogger) Named(name string) hclog.Logger {
	c := *h
	if c.name != "" {
		name = c.name + "." + name
	}
	c.name = name
	return &c
}

func (h *hclogger) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name = name
	return &c
}

// SetLevel is ignored: the slog handler decides what is logged.
func (h *hclogger) SetLevel(hclog.Level) {}

func (h *hclogger) GetLevel() hclog.Level { return h.level }

func (h *hclogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

func (h *hclogger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return &lineLogger{log: h.log, stream: "go-plugin"}
}

// lineLogger is an io.Writer that logs each line written to it: the
// plugin's stdout and stderr after go-plugin has taken them over (what
// plugin code prints once Serve runs). A line in hclog's JSON form (the
// SDK's logger) is logged at its level with its attributes; any other
// line at Info. It is safe for concurrent use.
type lineLogger struct {
	log    *slog.Logger
	stream string

	mu      sync.Mutex
	partial []byte
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		w.line(w.partial[:i])
		w.partial = w.partial[i+1:]
	}
	if len(w.partial) == 0 {
		w.partial = nil // let a large write's buffer go
	}
	return len(p), nil
}

func (w *lineLogger) line(line []byte) {
	line = bytes.TrimRight(line, "\r")
	if len(bytes.TrimSpace(line)) == 0 {
		return
	}
	ctx := context.Background()
	if level, msg, attrs, ok := parseHCLog(line); ok {
		w.log.Log(ctx, level, msg, append([]any{"stream", w.stream}, attrs...)...)
		return
	}
	w.log.Log(ctx, slog.LevelInfo, string(line), "stream", w.stream)
}

// parseHCLog reads one line of hclog's JSON form: @level, @message and
// the record's attributes (@timestamp and the like are dropped: the host
// stamps its own record).
func parseHCLog(line []byte) (slog.Level, string, []any, bool) {
	if len(line) == 0 || line[0] != '{' {
		return 0, "", nil, false
	}
	var m map[string]any
	if json.Unmarshal(line, &m) != nil {
		return 0, "", nil, false
	}
	msg, ok1 := m["@message"].(string)
	lvl, ok2 := m["@level"].(string)
	if !ok1 || !ok2 {
		return 0, "", nil, false
	}
	var level slog.Level
	switch strings.ToLower(lvl) {
	case "trace", "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	attrs := make([]any, 0, 2*len(m))
	for k, v := range m {
		if !strings.HasPrefix(k, "@") {
			attrs = append(attrs, k, v)
		}
	}
	return level, msg, attrs, true
}

// tail keeps the last bytes written to it: the plugin's raw stderr, to
// quote when the plugin fails to start. It is safe for concurrent use.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String returns the kept lines, trimmed and joined by " | " so they read
// well inside an error message. A JSON log line (go-plugin's hclog, the
// SDK's logger) becomes "level: message", and is left out below Warn: a
// plugin logs its startup chatter there.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var lines []string
	for l := range strings.SplitSeq(string(t.buf), "\n") {
		l = strings.TrimSpace(l)
		if level, msg, _, ok := parseHCLog([]byte(l)); ok {
			if level < slog.LevelWarn {
				continue
			}
			l = strings.ToLower(level.String()) + ": " + msg
		}
		if l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, " | ")
}
