// SPDX-License-Identifier: Apache-2.0

package orchestrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/chronon-go/chronon/runners/orchestrate/graph"
	"github.com/chronon-go/chronon/runners/plan"
)

// Step is one job of the graph for one day, adapted to the executor.
type Step interface {
	// UpToDate reports whether the step has nothing to do, so that it
	// need not wait for its inputs. A step that cannot tell says false.
	UpToDate(ctx context.Context) (bool, error)
	// Run brings the step up to date and says what it did. It must be
	// idempotent: a run after a crash finishes what is left.
	Run(ctx context.Context) (Outcome, error)
}

// Outcome is what a step did.
type Outcome struct {
	// Partitions are the partitions written (or emptied, for retention).
	Partitions []string
	// Changed reports that the step wrote anything.
	Changed bool
	// Detail says what else it did, e.g. "200 rows" or "100 keys".
	Detail string
}

// ErrUnavailable is returned by a StepFunc for a job kind this build
// cannot run (its command is not there yet). Use errors.Is.
var ErrUnavailable = errors.New("orchestrate: job not available in this build")

// StepFunc adapts a graph node to a Step for the day being run.
type StepFunc func(n *graph.Node) (Step, error)

// PartitionFunc reports whether a table has a partition.
type PartitionFunc func(ctx context.Context, table, ds string) (bool, error)

// Options configure Execute.
type Options struct {
	// DS is the day to bring up to date ("YYYY-MM-DD").
	DS string
	// Parallelism is how many steps run at once. The default value 0
	// means 4.
	Parallelism int
	// WaitTimeout bounds the wait for missing input partitions, for the
	// whole run. The default value 0 means one hour.
	WaitTimeout time.Duration
	// PollInterval is how often missing inputs are checked again. The
	// default value 0 means 30 seconds.
	PollInterval time.Duration
	// NoWait reports missing inputs at once instead of waiting.
	NoWait bool
	// Only, when not empty, runs just these steps (their dependencies are
	// taken as done, as a scheduler running one task does).
	Only []string
	// Exists checks input partitions. Required.
	Exists PartitionFunc
	// Log receives a line per step start and end (nil: discarded).
	Log *slog.Logger
}

// Status is how a step ended.
type Status string

// Statuses.
const (
	StatusDone     Status = "done"
	StatusUpToDate Status = "up to date"
	StatusNotDue   Status = "not due"
	StatusSkipped  Status = "skipped"
	StatusWaiting  Status = "waiting"
	StatusFailed   Status = "failed"
	StatusBlocked  Status = "upstream failed"
)

// ok reports whether dependants may run after a step that ended so.
func (s Status) ok() bool {
	return s == StatusDone || s == StatusUpToDate || s == StatusNotDue
}

// StepReport is the end of one step.
type StepReport struct {
	Node    *graph.Node
	Status  Status
	Outcome Outcome
	// Missing are the input partitions waited for in vain ("table/ds=D").
	Missing []string
	// Reason explains a skip, a failure or a block.
	Reason  string
	Elapsed time.Duration
}

// Report is what a run did, in the graph's order.
type Report struct {
	DS    string
	Steps []*StepReport
}

// Execute runs the steps of g due on opts.DS: each after its dependencies,
// at most opts.Parallelism at once, each once its inputs from outside the
// run have landed. A failed step blocks only its dependants.
func Execute(ctx context.Context, g *graph.Graph, steps StepFunc, opts Options) (*Report, error) {
	if opts.Exists == nil {
		return nil, errors.New("orchestrate: Options.Exists is required")
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 4
	}
	if opts.WaitTimeout <= 0 {
		opts.WaitTimeout = time.Hour
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 30 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	for _, id := range opts.Only {
		if g.Node(id) == nil {
			return nil, fmt.Errorf("orchestrate: no step %q in the graph (see chronon graph)", id)
		}
	}
	e := &executor{g: g, steps: steps, opts: opts, sem: make(chan struct{}, opts.Parallelism),
		done: map[string]chan struct{}{}, reports: map[string]*StepReport{}, deadline: time.Now().Add(opts.WaitTimeout)}
	rep := &Report{DS: opts.DS}
	for _, n := range g.Nodes {
		if len(opts.Only) > 0 && !slices.Contains(opts.Only, n.ID) {
			continue
		}
		e.done[n.ID] = make(chan struct{})
		r := &StepReport{Node: n}
		e.reports[n.ID] = r
		rep.Steps = append(rep.Steps, r)
	}
	var wg sync.WaitGroup
	for _, r := range rep.Steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(e.done[r.Node.ID])
			start := time.Now()
			e.step(ctx, r)
			r.Elapsed = time.Since(start)
			e.opts.Log.Info("step "+string(r.Status), "step", r.Node.ID, "ds", opts.DS, "partitions", len(r.Outcome.Partitions),
				"detail", r.Outcome.Detail, "reason", r.Reason, "elapsed", r.Elapsed.Round(time.Millisecond))
		}()
	}
	wg.Wait()
	return rep, ctx.Err()
}

type executor struct {
	g        *graph.Graph
	steps    StepFunc
	opts     Options
	sem      chan struct{}
	done     map[string]chan struct{}
	reports  map[string]*StepReport
	deadline time.Time
}

// step runs one node once its dependencies ended, filling r.
func (e *executor) step(ctx context.Context, r *StepReport) {
	n := r.Node
	var blocked, skipped []string
	notRun := map[string]bool{}
	for _, d := range n.Deps {
		ch, ok := e.done[d]
		if !ok {
			continue // not part of this run (--step): taken as done
		}
		select {
		case <-ch:
		case <-ctx.Done():
			r.Status, r.Reason = StatusFailed, ctx.Err().Error()
			return
		}
		switch st := e.reports[d].Status; {
		case st == StatusSkipped:
			skipped = append(skipped, d)
		case st == StatusNotDue:
			notRun[d] = true
		case !st.ok():
			blocked = append(blocked, d+" "+string(st))
		}
	}
	if len(blocked) > 0 {
		r.Status, r.Reason = StatusBlocked, strings.Join(blocked, ", ")
		return
	}
	if len(skipped) > 0 {
		// Not a failure: what it needs cannot run in this build.
		r.Status, r.Reason = StatusSkipped, "upstream "+strings.Join(skipped, ", ")+" skipped"
		return
	}
	if !n.Due(e.opts.DS) {
		r.Status, r.Reason = StatusNotDue, "schedule "+n.Schedule.String()
		return
	}
	s, err := e.steps(n)
	if errors.Is(err, ErrUnavailable) {
		r.Status, r.Reason = StatusSkipped, "chronon "+string(n.Kind)+" not available in this build"
		return
	}
	if err != nil {
		r.Status, r.Reason = StatusFailed, err.Error()
		return
	}
	if up, err := s.UpToDate(ctx); err != nil {
		r.Status, r.Reason = StatusFailed, err.Error()
		return
	} else if up {
		r.Status = StatusUpToDate
		return
	}
	missing, err := e.waitInputs(ctx, n, notRun)
	if err != nil {
		r.Status, r.Reason = StatusFailed, err.Error()
		return
	}
	if len(missing) > 0 {
		r.Status, r.Missing = StatusWaiting, missing
		r.Reason = "missing " + strings.Join(missing, ", ")
		return
	}
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		r.Status, r.Reason = StatusFailed, ctx.Err().Error()
		return
	}
	defer func() { <-e.sem }()
	e.opts.Log.Info("step started", "step", n.ID, "ds", e.opts.DS)
	out, err := s.Run(ctx)
	r.Outcome = out
	switch {
	case err != nil:
		r.Status, r.Reason = StatusFailed, err.Error()
	case out.Changed:
		r.Status = StatusDone
	default:
		r.Status = StatusUpToDate
	}
}

// waitInputs waits until the partitions n needs from tables no step of
// this run writes have landed, and returns those still missing at the
// deadline (at once with NoWait). Tables of steps that were not due count
// as external.
func (e *executor) waitInputs(ctx context.Context, n *graph.Node, notRun map[string]bool) ([]string, error) {
	type want struct{ table, ds string }
	var wants []want
	for _, r := range n.Reads {
		if r.Producer != "" && !notRun[r.Producer] {
			continue // its producer ran first (or, with Only, ran as an upstream task)
		}
		for _, ds := range r.Waits(e.opts.DS) {
			if !slices.Contains(wants, want{r.Table, ds}) {
				wants = append(wants, want{r.Table, ds})
			}
		}
	}
	for first := true; ; first = false {
		var missing []want
		for _, w := range wants {
			ok, err := e.opts.Exists(ctx, w.table, w.ds)
			if err != nil {
				return nil, fmt.Errorf("check %s/ds=%s: %w", w.table, w.ds, err)
			}
			if !ok {
				missing = append(missing, w)
			}
		}
		wants = missing
		if len(missing) == 0 {
			return nil, nil
		}
		if e.opts.NoWait || !time.Now().Before(e.deadline) {
			out := make([]string, len(missing))
			for i, m := range missing {
				out[i] = m.table + "/ds=" + m.ds
			}
			return out, nil
		}
		if first {
			e.opts.Log.Info("waiting for input partitions", "step", n.ID, "missing", len(missing),
				"first", missing[0].table+"/ds="+missing[0].ds, "until", e.deadline.Format(time.RFC3339))
		}
		wait := min(e.opts.PollInterval, time.Until(e.deadline))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Err returns an error naming the steps that failed, waited in vain or
// were blocked, or nil.
func (r *Report) Err() error {
	var bad []string
	for _, s := range r.Steps {
		if s.Status == StatusFailed || s.Status == StatusWaiting || s.Status == StatusBlocked {
			bad = append(bad, s.Node.ID+" ("+string(s.Status)+")")
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("run %s: %d steps did not finish: %s", r.DS, len(bad), strings.Join(bad, ", "))
}

// Waiting maps each missing input partition ("table/ds=D") to the steps
// waiting for it, sorted.
func (r *Report) Waiting() map[string][]string {
	out := map[string][]string{}
	for _, s := range r.Steps {
		for _, m := range s.Missing {
			out[m] = append(out[m], s.Node.ID)
		}
	}
	return out
}

// WriteTable prints the summary: one line per step with its partitions,
// status and time, then the missing inputs and failures in full.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STEP\tPARTITIONS\tSTATUS\tTIME\tDETAIL")
	for _, s := range r.Steps {
		parts := "-"
		if n := len(s.Outcome.Partitions); n > 0 {
			parts = fmt.Sprintf("%d (%s)", n, plan.FormatPartitions(s.Outcome.Partitions, 3))
		} else if s.Status == StatusUpToDate || s.Status == StatusDone {
			parts = "0"
		}
		detail := s.Outcome.Detail
		if s.Reason != "" && s.Status != StatusFailed {
			detail = strings.TrimSpace(detail + " " + firstLine(s.Reason))
		} else if s.Status == StatusFailed {
			detail = "see below"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.Node.ID, parts, s.Status, s.Elapsed.Round(time.Millisecond), detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	waiting := r.Waiting()
	keys := make([]string, 0, len(waiting))
	for k := range waiting {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "missing %s: waited on by %s\n", k, strings.Join(waiting[k], ", "))
	}
	for _, s := range r.Steps {
		if s.Status == StatusFailed {
			fmt.Fprintf(w, "%s failed: %s\n", s.Node.ID, s.Reason)
		}
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
