// SPDX-License-Identifier: Apache-2.0

package pluginhost

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

func TestEnsureDefaults(t *testing.T) {
	var nilOpts *Options
	d := nilOpts.EnsureDefaults()
	if d.Logger == nil || d.StartTimeout != DefaultStartTimeout || d.MinBackoff != DefaultMinBackoff ||
		d.MaxBackoff != DefaultMaxBackoff || d.StableAfter != DefaultStableAfter {
		t.Errorf("defaults of nil: %+v", d)
	}
	o := &Options{Path: "/bin/chronon", Args: []string{"plugin", "serve", "sqlite"}, MinBackoff: time.Millisecond}
	d = o.EnsureDefaults()
	if d.Name != "chronon plugin serve sqlite" || d.MinBackoff != time.Millisecond {
		t.Errorf("EnsureDefaults = %+v", d)
	}
	if o.Name != "" {
		t.Error("EnsureDefaults modified its receiver")
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no path", Options{}, "Path is required"},
		{"negative timeout", Options{Path: "x", StartTimeout: -1}, "StartTimeout"},
		{"inverted backoff", Options{Path: "x", MinBackoff: time.Second, MaxBackoff: time.Millisecond}, "backoff"},
		{"ok", Options{Path: "x"}, ""},
	}
	for _, tc := range tests {
		err := tc.o.EnsureDefaults().validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	o := (&Options{}).EnsureDefaults()
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}
	for i, w := range want {
		if got := o.backoff(i + 1); got != w {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := o.backoff(1000); got != time.Second {
		t.Errorf("backoff(1000) = %v", got)
	}
}

func TestTail(t *testing.T) {
	tl := &tail{max: 64}
	tl.Write([]byte("first line\n"))
	tl.Write([]byte(`{"@level":"debug","@message":"chatter","@timestamp":"x"}` + "\n"))
	tl.Write([]byte(`{"@level":"error","@message":"config: path is required"}` + "\n"))
	tl.Write([]byte("last\n"))
	got := tl.String()
	if strings.Contains(got, "chatter") || !strings.Contains(got, "error: config: path is required | last") {
		t.Errorf("tail = %q", got)
	}
	if len(tl.buf) > 64 {
		t.Errorf("tail keeps %d bytes, max 64", len(tl.buf))
	}
}

func TestLineLogger(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	w := &lineLogger{log: log, stream: "stderr"}
	w.Write([]byte("plain "))
	w.Write([]byte("text\n" + `{"@level":"warn","@message":"structured","k":"v"}` + "\n\npartial"))
	out := buf.String()
	for _, want := range []string{`level=INFO msg="plain text" stream=stderr`, `level=WARN msg=structured stream=stderr k=v`} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
	if strings.Contains(out, "partial") {
		t.Error("an unfinished line was logged")
	}
}

func TestHCLogger(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := newHCLogger(log)
	if h.GetLevel() != hclog.Info || h.IsDebug() || !h.IsInfo() {
		t.Errorf("level %v", h.GetLevel())
	}
	h.Info("own info")   // go-plugin's own: Debug, dropped
	h.Error("own error") // go-plugin's own: Info
	p := h.Named("plugin-bin").With("a", 1)
	p.Warn("plugin warn")
	p.Debug("plugin debug")
	out := buf.String()
	for _, want := range []string{`level=INFO msg="own error"`, `level=WARN msg="plugin warn" logger=plugin-bin a=1`} {
		if !strings.Contains(out, want) {
			t.Errorf("log %q lacks %q", out, want)
		}
	}
	for _, not := range []string{"own info", "plugin debug"} {
		if strings.Contains(out, not) {
			t.Errorf("log %q has %q", out, not)
		}
	}
	if levelOf(slog.New(slog.DiscardHandler)) != hclog.Off {
		t.Error("a discarding logger is not Off")
	}
}
