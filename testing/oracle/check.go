// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
)

// CheckOptions sets the tolerances of Check. The zero value means the
// defaults, and so does any zero field.
type CheckOptions struct {
	// FloatTol scales the float bounds (see Check). Default 1e-9.
	FloatTol float64
	// HLLRelErr is the relative error accepted from APPROX_UNIQUE_COUNT:
	// |got - distinct| <= HLLRelErr*distinct + 1. Default 5 standard errors
	// of HyperLogLog, 5 * 1.04 / sqrt(2^lgK), lgK = argMap k (default 8)
	// clamped to [4, 26]; 0.325 for lgK 8.
	HLLRelErr float64
	// RankErr is the normalized rank error accepted from APPROX_PERCENTILE:
	// each returned value must lie between the sorted inputs at ranks
	// floor(p*(n-1) - RankErr*n) and ceil(p*(n-1) + RankErr*n). Default three
	// times the KLL bound 2.296 / k^0.9723 (DataSketches), k = argMap k
	// (default 128); 0.0616 for k 128.
	RankErr float64
	// HistErr is the count error accepted from APPROX_HISTOGRAM_K once there
	// are more than k distinct values, as a fraction of the leaf's number of
	// inputs N: each returned count within HistErr*N of the true count, and
	// every value counted more than 2*HistErr*N above the k-th largest true
	// count present. Default 1/k (the Misra-Gries bound for k counters).
	HistErr float64
}

func (o CheckOptions) floatTol() float64 {
	if o.FloatTol > 0 {
		return o.FloatTol
	}
	return 1e-9
}

func (o CheckOptions) hllRelErr(lgK int) float64 {
	if o.HLLRelErr > 0 {
		return o.HLLRelErr
	}
	lgK = max(4, min(26, lgK))
	return 5 * 1.04 / math.Sqrt(math.Ldexp(1, lgK))
}

func (o CheckOptions) rankErr(k int) float64 {
	if o.RankErr > 0 {
		return o.RankErr
	}
	return 3 * 2.296 / math.Pow(float64(k), 0.9723)
}

func (o CheckOptions) histErr(k int) float64 {
	if o.HistErr > 0 {
		return o.HistErr
	}
	return 1 / float64(k)
}

// Check compares an engine's output got for one output column at query time
// T with the oracle's answer (see Value) and returns nil if it is acceptable,
// else an error naming the column, T, the place inside the value (bucket,
// map key, list index) and the difference.
//
// Shapes must match exactly: null where the oracle has null, the same bucket
// and map keys, the same list lengths, and every value of exactly the Go type
// of its Arrow type. Then, per leaf value:
//   - integers, strings, bytes, MIN, MAX, FIRST, LAST, the _K lists,
//     UNIQUE_COUNT, BOUNDED_UNIQUE_COUNT and HISTOGRAM exactly (floats
//     compare with ==, NaN equal to NaN);
//   - float SUM and AVERAGE within FloatTol * sum(|x|) over the leaf's
//     inputs, VARIANCE within FloatTol * (sum(|x|) + sum(x^2)/n), SKEW
//     within FloatTol * (sum(|x|) + c^1.5 * (1 + |want|)) and KURTOSIS within
//     FloatTol * (sum(|x|) + c^2 * (4 + |want|)), c = max(x^2) / variance
//     (the conditioning of the data);
//   - APPROX_UNIQUE_COUNT, APPROX_PERCENTILE and APPROX_HISTOGRAM_K as set by
//     opts (exact while there are at most k distinct values, for the
//     latter). APPROX_HISTOGRAM_K keys of numeric inputs are compared as
//     numbers, so "1", "1.0" and "1e0" are the same key.
func Check(part api.AggregationPart, input arrow.DataType, events []Event, T int64, mode TailMode, got any, opts CheckOptions) error {
	col := part.OutputColumnName()
	p, err := newPlan(part, input)
	if err != nil {
		return fmt.Errorf("oracle: %s: %w", col, err)
	}
	n, err := p.build(events, T, mode)
	if err != nil {
		return fmt.Errorf("oracle: %s at T=%d: %w", col, T, err)
	}
	c := &checker{p: p, opts: opts, col: col, T: T}
	return c.node(n, got, "")
}

type checker struct {
	p    *plan
	opts CheckOptions
	col  string
	T    int64
}

func (c *checker) fail(path string, got, want any, format string, args ...any) error {
	where := ""
	if path != "" {
		where = " " + path
	}
	msg := fmt.Sprintf("oracle: %s at T=%d%s: got %s, want %s", c.col, c.T, where, show(got), show(want))
	if format != "" {
		msg += ": " + fmt.Sprintf(format, args...)
	}
	return fmt.Errorf("%s", msg)
}

// show formats a value with its Go type.
func show(v any) string {
	if v == nil {
		return "null"
	}
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = strconv.Quote(k) + ": " + show(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = show(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprintf("%v (%T)", v, v)
}

// typedNil reports a nil map, slice or []byte stored in an interface.
func typedNil(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		return x == nil
	case []any:
		return x == nil
	case []byte:
		return x == nil
	}
	return false
}

func (c *checker) node(n *node, got any, path string) error {
	if typedNil(got) {
		return c.fail(path, got, c.p.finalize(n), "null must be an untyped nil, not a nil %T", got)
	}
	if n.empty() {
		if got != nil {
			return c.fail(path, got, nil, "no counted input")
		}
		return nil
	}
	switch n.kind {
	case mapNode:
		gm, ok := got.(map[string]any)
		if !ok {
			return c.fail(path, got, c.p.finalize(n), "want a map[string]any")
		}
		var missing, extra []string
		for k := range n.keys {
			if _, ok := gm[k]; !ok {
				missing = append(missing, strconv.Quote(k))
			}
		}
		for k := range gm {
			if _, ok := n.keys[k]; !ok {
				extra = append(extra, strconv.Quote(k))
			}
		}
		if len(missing) > 0 || len(extra) > 0 {
			sort.Strings(missing)
			sort.Strings(extra)
			return c.fail(path, got, c.p.finalize(n), "keys missing %v, unexpected %v", missing, extra)
		}
		keys := make([]string, 0, len(n.keys))
		for k := range n.keys {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := c.node(n.keys[k], gm[k], fmt.Sprintf("%s[%q]", path, k)); err != nil {
				return err
			}
		}
		return nil
	case listNode:
		gl, ok := got.([]any)
		if !ok || len(gl) != len(n.elems) {
			return c.fail(path, got, c.p.finalize(n), "want a []any of length %d", len(n.elems))
		}
		for i, e := range n.elems {
			if err := c.node(e, gl[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
	return c.leaf(n.items, got, path)
}

func (c *checker) leaf(items []item, got any, path string) error {
	p := c.p
	want := p.leafValue(items)
	switch op := p.part.Operation; op {
	case api.OpSum, api.OpAverage, api.OpVariance, api.OpSkew, api.OpKurtosis:
		if op == api.OpSum && !isFloat(p.elem) {
			break
		}
		if want == nil || got == nil {
			if want != got {
				return c.fail(path, got, want, "")
			}
			return nil
		}
		g, ok := got.(float64)
		if !ok {
			return c.fail(path, got, want, "want a float64")
		}
		w := want.(float64)
		tol := c.floatTol(op, items, w)
		if d := math.Abs(g - w); !(d <= tol) {
			return c.fail(path, got, want, "difference %.6g exceeds tolerance %.6g", g-w, tol)
		}
		return nil
	case api.OpApproxUniqueCount:
		g, ok := got.(int64)
		if !ok {
			return c.fail(path, got, want, "want an int64")
		}
		w := want.(int64)
		rel := c.opts.hllRelErr(p.k)
		if d := math.Abs(float64(g - w)); d > rel*float64(w)+1 {
			return c.fail(path, got, want, "difference %d exceeds %g*%d+1 (HLLRelErr %g)", g-w, rel, w, rel)
		}
		return nil
	case api.OpApproxPercentile:
		return c.percentiles(items, got, want, path)
	case api.OpApproxHistogramK:
		return c.approxHistogram(items, got, want, path)
	}
	if !equalValues(got, want) {
		return c.fail(path, got, want, "")
	}
	return nil
}

// floatTol is the float bound of a leaf (see Check).
func (c *checker) floatTol(op api.Operation, items []item, want float64) float64 {
	var sumAbs, sumSq, maxSq float64
	for _, it := range items {
		x := toFloat64(it.v)
		sumAbs += math.Abs(x)
		sumSq += x * x
		maxSq = max(maxSq, x*x)
	}
	n := float64(len(items))
	scale := sumAbs
	switch op {
	case api.OpVariance:
		scale += sumSq / n
	case api.OpSkew, api.OpKurtosis:
		v, _ := moment(api.OpVariance, items).(float64)
		cond := maxSq / v // +Inf when the variance underflows: anything goes
		if op == api.OpSkew {
			scale += math.Pow(cond, 1.5) * (1 + math.Abs(want))
		} else {
			scale += cond * cond * (4 + math.Abs(want))
		}
	}
	return c.opts.floatTol() * scale
}

func (c *checker) percentiles(items []item, got, want any, path string) error {
	s := sortedFloats(items)
	if len(s) == 0 || got == nil {
		if (len(s) == 0) != (got == nil) {
			return c.fail(path, got, want, "")
		}
		return nil
	}
	gl, ok := got.([]any)
	if !ok || len(gl) != len(c.p.percentiles) {
		return c.fail(path, got, want, "want a []any of %d float32", len(c.p.percentiles))
	}
	n := float64(len(s))
	e := c.opts.rankErr(c.p.k) * n
	for i, q := range c.p.percentiles {
		g, ok := gl[i].(float32)
		if !ok {
			return c.fail(path, got, want, "element %d is not a float32", i)
		}
		r := q * (n - 1)
		lo := max(0, int(math.Floor(r-e)))
		hi := min(len(s)-1, int(math.Ceil(r+e)))
		if !(float32(s[lo]) <= g && g <= float32(s[hi])) {
			return c.fail(path, got, want, "percentile %g: %g is outside [%g, %g], the inputs at ranks [%d, %d] of %d (rank %g ± %g)",
				q, g, float32(s[lo]), float32(s[hi]), lo, hi, len(s), r, e)
		}
	}
	return nil
}

// canonicalKey parses an APPROX_HISTOGRAM_K key of a numeric input and
// returns its HistogramKey.
func canonicalKey(key string, elem arrow.DataType) (string, error) {
	switch elem.ID() {
	case arrow.STRING:
		return key, nil
	case arrow.FLOAT32:
		f, err := strconv.ParseFloat(key, 32)
		if err != nil {
			return "", err
		}
		return HistogramKey(float32(f)), nil
	case arrow.FLOAT64:
		f, err := strconv.ParseFloat(key, 64)
		if err != nil {
			return "", err
		}
		return HistogramKey(f), nil
	}
	i, err := strconv.ParseInt(key, 10, 64)
	if err != nil {
		return "", err
	}
	return HistogramKey(i), nil
}

func (c *checker) approxHistogram(items []item, got, want any, path string) error {
	gm, ok := got.(map[string]any)
	if !ok {
		return c.fail(path, got, want, "want a map[string]any")
	}
	counts := map[string]int64{}
	for k, v := range gm {
		ck, err := canonicalKey(k, c.p.elem)
		if err != nil {
			return c.fail(path, got, want, "key %q is not a %s: %v", k, c.p.elem, err)
		}
		if _, dup := counts[ck]; dup {
			return c.fail(path, got, want, "two keys for the value %s", ck)
		}
		n, ok := v.(int64)
		if !ok {
			return c.fail(path, got, want, "count of %q is %T, want int64", k, v)
		}
		counts[ck] = n
	}
	h := histogram(items)
	k := c.p.k
	if len(h) <= k {
		if len(counts) != len(h) {
			return c.fail(path, got, want, "%d distinct values <= k = %d must be counted exactly", len(h), k)
		}
		for key, n := range h {
			if counts[key] != int64(n) {
				return c.fail(path, got, want, "%d distinct values <= k = %d must be counted exactly; %q counted %d, not %d", len(h), k, key, counts[key], n)
			}
		}
		return nil
	}
	if len(counts) > k {
		return c.fail(path, got, want, "%d entries, more than k = %d", len(counts), k)
	}
	total := float64(len(items))
	slack := c.opts.histErr(k) * total
	for key, n := range counts {
		t, ok := h[key]
		if !ok {
			return c.fail(path, got, want, "key %q is no counted input", key)
		}
		if math.Abs(float64(n)-float64(t)) > slack {
			return c.fail(path, got, want, "count of %q is %d, true count %d, beyond %g", key, n, t, slack)
		}
	}
	kth := h[rankedKeys(h)[k-1]]
	for key, t := range h {
		if _, ok := counts[key]; !ok && float64(t) > float64(kth)+2*slack {
			return c.fail(path, got, want, "%q (true count %d) missing, though the k-th largest count is %d (slack %g)", key, t, kth, slack)
		}
	}
	return nil
}

// equalValues compares two values of the value convention exactly, Go types
// included: floats with == (NaN equals NaN), bytes by content, lists in
// order, maps by key.
func equalValues(a, b any) bool {
	switch y := b.(type) {
	case nil:
		return a == nil
	case float64:
		x, ok := a.(float64)
		return ok && (x == y || math.IsNaN(x) && math.IsNaN(y))
	case float32:
		x, ok := a.(float32)
		return ok && (x == y || x != x && y != y)
	case []byte:
		x, ok := a.([]byte)
		return ok && bytes.Equal(x, y)
	case []any:
		x, ok := a.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalValues(x[i], y[i]) {
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
			if !ok || !equalValues(u, v) {
				return false
			}
		}
		return true
	}
	return a == b
}
