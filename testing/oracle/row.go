// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// Cell is the expected value of one output cell of a backfill.
type Cell struct {
	// Aggregated cells are checked with Check(Part, Input, Events, T, Mode,
	// got, opts): their value is an aggregation over Events, which holds
	// every event of the key that may count, in arrival order; Check applies
	// the window itself with T and Mode.
	Aggregated bool
	Part       api.AggregationPart
	Input      arrow.DataType
	Events     []Event
	T          int64
	Mode       TailMode
	// Value is the exact expected value of any other cell: left columns,
	// keys, ds, ts, values of GroupBys without aggregations, derived
	// columns, and every column of a join part with no row for the left
	// row's key (nil).
	Value any
}

// Want returns the cell's expected value: Value, or for an aggregated cell
// the oracle's exact answer (see Value).
func (c Cell) Want() (any, error) {
	if !c.Aggregated {
		return c.Value, nil
	}
	return Value(c.Part, c.Input, c.Events, c.T, c.Mode)
}

// ExpectedRow is one expected output row, by output column name.
type ExpectedRow map[string]Cell

// Values returns the row's expected values (see Cell.Want), for printing
// and for tests that compare exact answers.
func (r ExpectedRow) Values() (map[string]any, error) {
	out := make(map[string]any, len(r))
	for c, cell := range r {
		v, err := cell.Want()
		if err != nil {
			return nil, err
		}
		out[c] = v
	}
	return out, nil
}

// CheckRow compares an actual output row (column -> Go value) with the
// expected one and returns nil when they agree, else an error naming every
// column at fault (errors.Join of one error per column, in column order).
// Both rows must have exactly the same columns. Aggregated cells are judged
// by Check with opts; other cells must be equal in Go type and value, floats
// within opts.FloatTol (default 1e-9) relative to max(1, |want|), NaN equal
// to NaN, null an untyped nil.
func CheckRow(want ExpectedRow, got map[string]any, opts CheckOptions) error {
	cols := make([]string, 0, len(want))
	for c := range want {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	var errs []error
	for _, c := range cols {
		g, ok := got[c]
		if !ok {
			errs = append(errs, fmt.Errorf("oracle: column %q: missing from the row", c))
			continue
		}
		cell := want[c]
		if cell.Aggregated {
			if err := Check(cell.Part, cell.Input, cell.Events, cell.T, cell.Mode, g, opts); err != nil {
				errs = append(errs, fmt.Errorf("oracle: column %q: %w", c, err))
			}
			continue
		}
		if typedNil(g) || !closeValues(g, cell.Value, opts.floatTol()) {
			errs = append(errs, fmt.Errorf("oracle: column %q: got %s, want %s", c, show(g), show(cell.Value)))
		}
	}
	var extra []string
	for c := range got {
		if _, ok := want[c]; !ok {
			extra = append(extra, c)
		}
	}
	sort.Strings(extra)
	for _, c := range extra {
		errs = append(errs, fmt.Errorf("oracle: column %q: not expected in the row (value %s)", c, show(got[c])))
	}
	return errors.Join(errs...)
}

// closeValues is equalValues with floats compared within tol relative to
// max(1, |b|) (b is the expected value).
func closeValues(a, b any, tol float64) bool {
	near := func(x, y float64) bool {
		if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(y, 0) {
			return x == y || math.IsNaN(x) && math.IsNaN(y)
		}
		return math.Abs(x-y) <= tol*math.Max(1, math.Abs(y))
	}
	switch y := b.(type) {
	case float64:
		x, ok := a.(float64)
		return ok && near(x, y)
	case float32:
		x, ok := a.(float32)
		return ok && near(float64(x), float64(y))
	case []any:
		x, ok := a.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !closeValues(x[i], y[i], tol) {
				return false
			}
		}
		return true
	case map[string]any:
		x, ok := a.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range y {
			u, ok := x[k]
			if !ok || !closeValues(u, v, tol) {
				return false
			}
		}
		return true
	}
	return equalValues(a, b)
}
