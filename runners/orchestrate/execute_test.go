// SPDX-License-Identifier: Apache-2.0

package orchestrate

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/runners/orchestrate/graph"
)

// fakeStep records its runs and fails when told to.
type fakeStep struct {
	fail     bool
	upToDate bool
	running  *atomic.Int32
	peak     *atomic.Int32
	ran      *sync.Map
	id       string
}

func (s *fakeStep) UpToDate(context.Context) (bool, error) { return s.upToDate, nil }

func (s *fakeStep) Run(context.Context) (Outcome, error) {
	n := s.running.Add(1)
	defer s.running.Add(-1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(20 * time.Millisecond)
	s.ran.Store(s.id, true)
	if s.fail {
		return Outcome{}, errors.New("boom")
	}
	return Outcome{Partitions: []string{"2023-12-01"}, Changed: true}, nil
}

// testGraph has two online group-bys (upload, then KV retention), an online
// join (backfill, log flattening, log retention), a @weekly join reading
// it and a daily join reading the weekly one.
func testGraph(t *testing.T) *graph.Graph {
	t.Helper()
	gb := func(name, table string) *api.GroupBy {
		g := api.NewGroupBy(name, []*api.Source{api.EventsSource(table, api.NewQuery(api.Selects("user_id", "x"), "ts"))}, []string{"user_id"}, api.Sum("x", api.Days(1)))
		g.MetaData.OutputNamespace, g.MetaData.Online = "default", true
		return g
	}
	a, b := gb("t.a.v1", "data.a"), gb("t.b.v1", "data.b")
	j := api.NewJoin("t.j.v1", api.EventsSource("data.left", api.NewQuery(api.Selects("user_id"), "ts")), api.Part(a, nil))
	j.MetaData.OutputNamespace, j.MetaData.Online = "default", true
	w := api.NewJoin("t.weekly.v1", api.EventsSource("default.t_j_v1", api.NewQuery(api.Selects("user_id"), "ts")), api.Part(b, nil))
	w.MetaData.OutputNamespace, w.MetaData.OfflineSchedule = "default", "@weekly"
	after := api.NewJoin("t.after_weekly.v1", api.EventsSource("default.t_weekly_v1", api.NewQuery(api.Selects("user_id"), "ts")), api.Part(b, nil))
	after.MetaData.OutputNamespace = "default"
	g, err := graph.Build(graph.Definitions{Joins: []*api.Join{j, w, after}, GroupBys: []*api.GroupBy{a, b}}, graph.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestExecute(t *testing.T) {
	tests := []struct {
		name    string
		fail    []string
		missing []string // table/ds absent
		noWait  bool
		only    []string
		want    map[string]Status
		waiting map[string][]string
	}{
		{name: "all done", want: map[string]Status{
			"backfill:t.j.v1": StatusDone, "upload:t.a.v1": StatusDone, "kv-retention:t.a.v1": StatusDone,
			// 2023-12-01 is a Friday: the weekly join is not due, and
			// the join reading its output waits for it as an external
			// table (present here).
			"backfill:t.weekly.v1": StatusNotDue, "backfill:t.after_weekly.v1": StatusDone,
		}},
		{name: "a failure blocks only its dependants", fail: []string{"upload:t.a.v1"}, want: map[string]Status{
			"upload:t.a.v1": StatusFailed, "kv-retention:t.a.v1": StatusBlocked,
			"upload:t.b.v1": StatusDone, "kv-retention:t.b.v1": StatusDone, "backfill:t.j.v1": StatusDone,
		}},
		{name: "missing input without waiting", noWait: true, missing: []string{"data.a/ds=2023-12-01", "default.t_weekly_v1/ds=2023-12-01"},
			want: map[string]Status{
				"upload:t.a.v1": StatusWaiting, "kv-retention:t.a.v1": StatusBlocked, "backfill:t.j.v1": StatusDone,
				"backfill:t.after_weekly.v1": StatusWaiting, "upload:t.b.v1": StatusDone,
			},
			waiting: map[string][]string{
				"data.a/ds=2023-12-01":              {"upload:t.a.v1"},
				"default.t_weekly_v1/ds=2023-12-01": {"backfill:t.after_weekly.v1"},
			}},
		{name: "missing input past the wait timeout", missing: []string{"data.b/ds=2023-12-01"},
			want: map[string]Status{"upload:t.b.v1": StatusWaiting, "upload:t.a.v1": StatusDone}},
		{name: "one step", only: []string{"kv-retention:t.a.v1"}, missing: []string{"data.a/ds=2023-12-01"},
			want: map[string]Status{"kv-retention:t.a.v1": StatusDone}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := testGraph(t)
			var running, peak atomic.Int32
			var ran sync.Map
			steps := func(n *graph.Node) (Step, error) {
				return &fakeStep{fail: slices.Contains(tc.fail, n.ID), running: &running, peak: &peak, ran: &ran, id: n.ID}, nil
			}
			exists := func(_ context.Context, table, ds string) (bool, error) {
				return !slices.Contains(tc.missing, table+"/ds="+ds), nil
			}
			rep, err := Execute(context.Background(), g, steps, Options{DS: "2023-12-01", Parallelism: 2, NoWait: tc.noWait,
				WaitTimeout: 50 * time.Millisecond, PollInterval: 10 * time.Millisecond, Exists: exists, Only: tc.only})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]Status{}
			for _, s := range rep.Steps {
				got[s.Node.ID] = s.Status
			}
			for id, want := range tc.want {
				if got[id] != want {
					t.Errorf("%s: %s, want %s", id, got[id], want)
				}
			}
			if len(tc.only) > 0 && len(rep.Steps) != len(tc.only) {
				t.Errorf("ran %d steps, want %v", len(rep.Steps), tc.only)
			}
			if p := peak.Load(); p > 2 {
				t.Errorf("%d steps ran at once, parallelism 2", p)
			}
			for m, want := range tc.waiting {
				if got := rep.Waiting()[m]; !slices.Equal(got, want) {
					t.Errorf("waiting on %s: %v, want %v", m, got, want)
				}
			}
			bad := len(tc.fail) > 0 || len(tc.missing) > 0 && len(tc.only) == 0
			if (rep.Err() != nil) != bad {
				t.Errorf("Report.Err() = %v", rep.Err())
			}
			var buf bytes.Buffer
			if err := rep.WriteTable(&buf); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), "STEP") || !strings.Contains(buf.String(), rep.Steps[0].Node.ID) {
				t.Errorf("summary:\n%s", buf.String())
			}
		})
	}
}

func TestExecuteUpToDateAndUnavailable(t *testing.T) {
	g := testGraph(t)
	var running, peak atomic.Int32
	var ran sync.Map
	steps := func(n *graph.Node) (Step, error) {
		if n.Kind == graph.LogFlatten {
			return nil, ErrUnavailable
		}
		return &fakeStep{upToDate: true, running: &running, peak: &peak, ran: &ran, id: n.ID}, nil
	}
	// Every input is missing, but up-to-date steps need none of them.
	rep, err := Execute(context.Background(), g, steps, Options{DS: "2023-12-03", NoWait: true,
		Exists: func(context.Context, string, string) (bool, error) { return false, nil }})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Steps {
		want := StatusUpToDate
		if s.Node.Kind == graph.LogFlatten || s.Node.Kind == graph.LogRetention && s.Node.Deps != nil {
			want = StatusSkipped
		}
		if s.Status != want {
			t.Errorf("%s: %s (%s), want %s", s.Node.ID, s.Status, s.Reason, want)
		}
	}
	ran.Range(func(k, _ any) bool { t.Errorf("%v ran although up to date", k); return true })
	if n := len(rep.Steps); n != len(g.Nodes) || g.Node("log-flatten:t.j.v1") == nil {
		t.Errorf("%d steps of %d, want all and a log flattening", n, len(g.Nodes))
	}
	if rep.Err() != nil {
		t.Errorf("skipped and up-to-date steps are no failure: %v", rep.Err())
	}
}
