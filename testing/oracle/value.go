// SPDX-License-Identifier: Apache-2.0

package oracle

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
)

// Event is one input row: its event time (epoch milliseconds) and its column
// values by name, following the Go value convention of docs/aggregations.md
// (a missing column is null). A slice of events is in arrival order.
type Event struct {
	Ts     int64
	Values map[string]any
}

// item is one leaf input: a non-null value and its row's ts.
type item struct {
	v  any
	ts int64
}

type nodeKind int

const (
	leafNode nodeKind = iota
	mapNode           // buckets or map-mode keys
	listNode          // elementWise indices
)

// node is the counted inputs of one query arranged in the part's shape:
// buckets, then map keys or list indices, then leaves of inputs in arrival
// order. A map node has only non-empty children; a list node's children are
// indices 0..len-1 of which each has at least one input.
type node struct {
	kind  nodeKind
	items []item
	keys  map[string]*node
	elems []*node
}

func (n *node) empty() bool {
	switch n.kind {
	case mapNode:
		return len(n.keys) == 0
	case listNode:
		return len(n.elems) == 0
	}
	return len(n.items) == 0
}

// build selects the events counting for a query at T and arranges their
// inputs in the part's shape.
func (p *plan) build(events []Event, T int64, mode TailMode) (*node, error) {
	var counted []Event
	for _, e := range events {
		if !Counts(e.Ts, T, p.part.Window, mode) {
			continue
		}
		if err := batch.CheckValue(e.Values[p.part.InputColumn], p.input); err != nil {
			return nil, fmt.Errorf("event at ts %d, column %q: %w", e.Ts, p.part.InputColumn, err)
		}
		counted = append(counted, e)
	}
	if p.part.Bucket == "" {
		return p.buildInner(counted)
	}
	var order []string
	byBucket := map[string][]Event{}
	for _, e := range counted {
		b := e.Values[p.part.Bucket]
		if b == nil {
			continue
		}
		s, ok := b.(string)
		if !ok {
			return nil, fmt.Errorf("event at ts %d: bucket column %q holds %T, must be a string", e.Ts, p.part.Bucket, b)
		}
		if _, seen := byBucket[s]; !seen {
			order = append(order, s)
		}
		byBucket[s] = append(byBucket[s], e)
	}
	root := &node{kind: mapNode, keys: map[string]*node{}}
	for _, b := range order {
		inner, err := p.buildInner(byBucket[b])
		if err != nil {
			return nil, err
		}
		if !inner.empty() {
			root.keys[b] = inner
		}
	}
	return root, nil
}

func (p *plan) buildInner(events []Event) (*node, error) {
	col := p.part.InputColumn
	switch p.shape {
	case shapeVector:
		n := &node{kind: leafNode}
		for _, e := range events {
			l, _ := e.Values[col].([]any)
			for _, x := range l {
				if x != nil {
					n.items = append(n.items, item{x, e.Ts})
				}
			}
		}
		return n, nil
	case shapeMap:
		n := &node{kind: mapNode, keys: map[string]*node{}}
		for _, e := range events {
			m, _ := e.Values[col].(map[string]any)
			for k, x := range m {
				if x == nil {
					continue
				}
				c := n.keys[k]
				if c == nil {
					c = &node{kind: leafNode}
					n.keys[k] = c
				}
				c.items = append(c.items, item{x, e.Ts})
			}
		}
		return n, nil
	case shapeElementWise:
		n := &node{kind: listNode}
		for _, e := range events {
			l, _ := e.Values[col].([]any)
			for i, x := range l {
				if x == nil {
					return nil, fmt.Errorf("event at ts %d: elementWise input %q has a null element at index %d", e.Ts, col, i)
				}
				for len(n.elems) <= i {
					n.elems = append(n.elems, &node{kind: leafNode})
				}
				n.elems[i].items = append(n.elems[i].items, item{x, e.Ts})
			}
		}
		return n, nil
	}
	n := &node{kind: leafNode}
	for _, e := range events {
		if x := e.Values[col]; x != nil {
			n.items = append(n.items, item{x, e.Ts})
		}
	}
	return n, nil
}

// finalize computes the output value of a node: nil when it has no input.
func (p *plan) finalize(n *node) any {
	if n.empty() {
		return nil
	}
	switch n.kind {
	case mapNode:
		out := make(map[string]any, len(n.keys))
		for k, c := range n.keys {
			out[k] = p.finalize(c)
		}
		return out
	case listNode:
		out := make([]any, len(n.elems))
		for i, c := range n.elems {
			out[i] = p.finalize(c)
		}
		return out
	}
	return p.leafValue(n.items)
}

// Value computes the exact answer of one output column at query time T over
// events (in arrival order): part.Window selects the events (see Counts),
// part.InputColumn is read with Arrow type input, part.Bucket (if set) names
// the bucket column. The result has exactly the Go type of the output
// column's Arrow type (see OutputType), or is nil for null.
//
// The approximate operations get exact answers: APPROX_UNIQUE_COUNT the
// distinct count, APPROX_PERCENTILE for each percentile p the sorted input
// at index round-half-down(p*(n-1)) (NaN inputs skipped) as float32,
// APPROX_HISTOGRAM_K the exact counts of the k most frequent values.
//
// Value returns an error for an unsupported part or input type, a value whose
// Go type does not match input, a non-string bucket, or a null element of an
// elementWise list.
func Value(part api.AggregationPart, input arrow.DataType, events []Event, T int64, mode TailMode) (any, error) {
	p, err := newPlan(part, input)
	if err != nil {
		return nil, fmt.Errorf("oracle: %s: %w", part.OutputColumnName(), err)
	}
	n, err := p.build(events, T, mode)
	if err != nil {
		return nil, fmt.Errorf("oracle: %s at T=%d: %w", part.OutputColumnName(), T, err)
	}
	return p.finalize(n), nil
}
