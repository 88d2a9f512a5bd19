// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/chronon-go/chronon/core/agg"
	"github.com/chronon-go/chronon/core/api"
)

// mutationColumns are the columns of mutation batches a sweep reads.
type mutationColumns struct {
	values [][]arrow.Array
	ts     []*array.Int64
	before []*array.Boolean
}

func (g *GroupBy) mutationColumns(recs []arrow.RecordBatch) (*mutationColumns, error) {
	vals, err := g.valueColumns(recs)
	if err != nil {
		return nil, err
	}
	m := &mutationColumns{values: vals}
	for _, rec := range recs {
		ts, err := int64Column(rec, api.TimeColumn)
		if err != nil {
			return nil, err
		}
		idx := rec.Schema().FieldIndices(IsBeforeColumn)
		if len(idx) == 0 {
			return nil, fmt.Errorf("column %q is missing", IsBeforeColumn)
		}
		b, ok := rec.Column(idx[0]).(*array.Boolean)
		if !ok {
			return nil, fmt.Errorf("column %q is %s, want bool", IsBeforeColumn, rec.Column(idx[0]).DataType())
		}
		m.ts = append(m.ts, ts)
		m.before = append(m.before, b)
	}
	return m, nil
}

// mutation is one mutation row: its values at its event ts, applied at
// mutationTs as an update or (before-image) a retraction.
type mutation struct {
	agg.Event
	mutationTs int64
	before     bool
}

// events returns the mutation rows of refs (sorted by mutation ts). Rows
// without a ts are skipped: they cannot fall in any window.
func (m *mutationColumns) events(refs []rowRef, width int) []mutation {
	if m == nil || len(refs) == 0 {
		return nil
	}
	out := make([]mutation, 0, len(refs))
	evs := makeEvents(refs, m.values, width)
	for i, r := range refs {
		ts := m.ts[r.batch]
		if ts.IsNull(int(r.row)) {
			continue
		}
		evs[i].Ts = ts.Value(int(r.row))
		before := m.before[r.batch]
		out = append(out, mutation{
			Event:      evs[i],
			mutationTs: r.ts,
			before:     !before.IsNull(int(r.row)) && before.Value(int(r.row)),
		})
	}
	return out
}

// withMutations answers queries (sorted by time) from a snapshot's rows and
// the mutations that follow it: at query time t, the mutations with
// mutation_ts < t apply in mutation-time order, updates adding their row
// and before-images retracting theirs. Operations that cannot delete ignore
// retractions, as Chronon's do (SEMANTICS.md §4). Each query re-aggregates
// the window's rows: mutations are a day's worth per key, and the snapshot
// rows of one key are few.
func (g *GroupBy) withMutations(snapshot []agg.Event, muts []mutation, queries []query, row []any, emit func(int, []any) error) error {
	spec := g.Spec
	applied := 0
	for q, qu := range queries {
		for applied < len(muts) && muts[applied].mutationTs < qu.t {
			applied++
		}
		for c, col := range spec.Columns {
			base := &spec.Bases[col.Base]
			from := int64(-1 << 63)
			if col.Window > 0 {
				from = agg.Tail(qu.t, col.Window, spec.Mode)
			}
			in := func(ts int64) bool { return ts >= from && ts < qu.t }
			var ir agg.IR
			for i := range snapshot {
				if in(snapshot[i].Ts) {
					ir = base.Agg.Update(ir, base.InputOf(&snapshot[i]))
				}
			}
			for i := range muts[:applied] {
				m := &muts[i]
				switch {
				case !in(m.Ts):
				case !m.before:
					ir = base.Agg.Update(ir, base.InputOf(&m.Event))
				case base.Agg.Deletable() && ir != nil:
					ir = base.Agg.Delete(ir, base.InputOf(&m.Event))
				}
			}
			row[c] = base.Agg.Finalize(ir)
		}
		if err := emit(q, row); err != nil {
			return err
		}
	}
	return nil
}
