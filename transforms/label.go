// SPDX-License-Identifier: Apache-2.0

package transforms

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/backfill"
)

func init() {
	register.DoFn4x1[context.Context, string, func(string, []byte), func(string, []byte), error](&labelReadFn{})
}

// LabelJoin adds one label version of a join to the pipeline (see
// backfill.LabelJoin): job is a KindJoin job whose Definition is the
// label join's definition (backfill.LabelJoinDefinition) and whose Days are
// the left days refreshed; tasks read those days of the left table
// (RoleLeft) and the label parts' source partitions (RoleEvents). Every
// query is asked as of labelDS. It returns the files written: per left
// day, the assembled rows (the left columns and the label parts' prefixed
// values) under ScratchDir(-1), from which the launcher builds the label
// table's rows.
//
// Only the read step differs from Backfill: the shard sweep and the
// assembly are the join's own.
func LabelJoin(s beam.Scope, job *Job, labelDS string, tasks []ReadTask) (beam.PCollection, error) {
	s = s.Scope(fmt.Sprintf("transforms.LabelJoin(%s)", labelDS))
	if job.Kind != api.KindJoin {
		return beam.PCollection{}, fmt.Errorf("label join: job kind %q, want %q", job.Kind, api.KindJoin)
	}
	if _, err := backfill.DayOf(labelDS); err != nil {
		return beam.PCollection{}, fmt.Errorf("label join: label_ds %q: %w", labelDS, err)
	}
	spec, err := job.Encode()
	if err != nil {
		return beam.PCollection{}, err
	}
	tasksCol, ok := createTasks(s, tasks)
	if !ok {
		return beam.Create(s, ""), nil
	}
	shards, days := beam.ParDo2(s, &labelReadFn{Job: spec, LabelDS: labelDS}, tasksCol)
	values := beam.ParDo(s, &sweepFn{Job: spec}, beam.GroupByKey(s, shards))
	all := beam.Flatten(s, values, days)
	return beam.ParDo(s, &assembleFn{Job: spec}, beam.GroupByKey(s, all)), nil
}

// labelReadFn reads partitions as readFn does, then asks the left rows'
// queries as of the label day.
type labelReadFn struct {
	Job     string `json:"job"`
	LabelDS string `json:"labelDs"`
	r       *readFn
	day     int64
}

func (f *labelReadFn) Setup() error {
	f.r = &readFn{Job: f.Job}
	if err := f.r.Setup(); err != nil {
		return err
	}
	var err error
	if f.day, err = backfill.DayOf(f.LabelDS); err != nil {
		return fmt.Errorf("label_ds %q: %w", f.LabelDS, err)
	}
	if f.r.c.join == nil {
		return errors.New("label join: the job is not a join")
	}
	return nil
}

// FinishBundle emits what the bundle's reads produced.
func (f *labelReadFn) FinishBundle(ctx context.Context, byShard, byDay func(string, []byte)) error {
	return f.r.FinishBundle(ctx, byShard, byDay)
}

func (f *labelReadFn) Teardown() {
	if f.r != nil {
		f.r.Teardown()
	}
}

func (f *labelReadFn) ProcessElement(ctx context.Context, elem string, _, _ func(string, []byte)) error {
	if elem == "" {
		return nil
	}
	t, err := decodeTask(elem)
	if err != nil {
		return err
	}
	f.r.async.run(func(emit func(int, string, []byte)) error {
		var qerr error
		err := f.r.read(ctx, t, func(k string, v []byte) {
			if qerr == nil && t.Role == RoleLeft {
				v, qerr = f.atLabelDay(v)
			}
			if qerr == nil {
				emit(0, k, v)
			}
		}, func(k string, v []byte) { emit(1, k, v) })
		return errors.Join(err, qerr)
	})
	return nil
}

// atLabelDay re-encodes a query element of the left rows with its queries
// asked as of the label day.
func (f *labelReadFn) atLabelDay(b []byte) ([]byte, error) {
	e, err := decodeElement(b)
	if err != nil {
		return nil, err
	}
	defer releaseRecs(e.recs)
	if e.tag != tagQueries || len(e.recs) != 1 {
		return nil, fmt.Errorf("label join: unexpected left element tag %q with %d records", e.tag, len(e.recs))
	}
	q, err := f.r.c.join.AskAsOf(e.part, e.recs[0], f.day)
	if err != nil {
		return nil, err
	}
	defer q.Release()
	return encodeElement(tagQueries, e.part, q)
}
