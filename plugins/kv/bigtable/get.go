// SPDX-License-Identifier: Apache-2.0

package bigtable

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	bt "cloud.google.com/go/bigtable"

	"github.com/chronon-go/chronon/plugins/kv"
)

// MultiGet answers the requests with one ReadRows per dataset (two when a
// dataset has requests of both kinds), the datasets read concurrently: a
// RowList of the requested keys with a LatestNFilter(1) for AfterMillis <=
// 0, or a TimestampRangeFilter from the smallest AfterMillis (each request
// then keeps its own values). A dataset's failure is the Err of its
// requests; the returned error is for a closed store or a done ctx.
func (s *Store) MultiGet(ctx context.Context, reqs []kv.GetRequest) ([]kv.GetResult, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("kv/bigtable: multiget: %w", errClosed)
	}
	results := make([]kv.GetResult, len(reqs))
	var order []string
	byDataset := map[string][]int{}
	for i, r := range reqs {
		if _, ok := byDataset[r.Dataset]; !ok {
			order = append(order, r.Dataset)
		}
		byDataset[r.Dataset] = append(byDataset[r.Dataset], i)
	}
	bad := s.checkDatasets(ctx, "multiget", order)
	var wg sync.WaitGroup
	for _, ds := range order {
		idxs := byDataset[ds]
		if err := bad[ds]; err != nil {
			for _, i := range idxs {
				results[i].Err = err
			}
			continue
		}
		var latest, after []int
		for _, i := range idxs {
			switch a := reqs[i].AfterMillis; {
			case a <= 0:
				latest = append(latest, i)
			case a <= maxTsMillis:
				after = append(after, i)
			}
			// A larger AfterMillis matches no cell: no values.
		}
		for _, part := range [][]int{latest, after} {
			if len(part) == 0 {
				continue
			}
			wg.Go(func() { s.read(ctx, ds, reqs, part, results) })
		}
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("kv/bigtable: multiget: %w", err)
	}
	return results, nil
}

// read answers the requests idxs of one dataset, all of one kind (latest or
// after), with one ReadRows, writing results[i] of each.
func (s *Store) read(ctx context.Context, dataset string, reqs []kv.GetRequest, idxs []int, results []kv.GetResult) {
	esc := escapeDataset(dataset)
	byRow := map[string][]int{}
	rows := make(bt.RowList, 0, len(idxs))
	isAfter := reqs[idxs[0]].AfterMillis > 0
	minAfter := reqs[idxs[0]].AfterMillis
	for _, i := range idxs {
		rk := valueRowKey(esc, reqs[i].Key)
		if _, dup := byRow[rk]; !dup {
			rows = append(rows, rk)
		}
		byRow[rk] = append(byRow[rk], i)
		minAfter = min(minAfter, reqs[i].AfterMillis)
	}
	err := s.table.ReadRows(ctx, rows, func(r bt.Row) bool {
		cells := r[familyValue]
		same := byRow[r.Key()]
		for n, i := range same {
			req := &reqs[i]
			key := bytes.Clone(req.Key)
			var vals []kv.Entry
			for _, c := range cells {
				ts := int64(c.Timestamp) / microsPerMilli
				if ts < req.AfterMillis {
					continue
				}
				v := c.Value
				if n < len(same)-1 {
					// Requests of the same key share no bytes.
					v = bytes.Clone(v)
				}
				vals = append(vals, kv.Entry{Key: key, Value: v, TsMillis: ts})
			}
			// Bigtable sends the newest cell first.
			slices.SortStableFunc(vals, func(a, b kv.Entry) int { return cmp.Compare(a.TsMillis, b.TsMillis) })
			results[i].Values = vals
		}
		return true
	}, bt.RowFilter(valueFilter(isAfter, minAfter)))
	if err != nil {
		err = wrap("multiget", dataset, err)
		for _, i := range idxs {
			results[i] = kv.GetResult{Err: err}
		}
	}
}

// valueFilter selects the cells of a value row: the latest one, or with
// after those with a timestamp >= afterMillis. A value row holds the one
// column v:v, so no family or column filter is needed (regular expressions
// that Bigtable, and bttest for every cell, would evaluate).
func valueFilter(after bool, afterMillis int64) bt.Filter {
	if after {
		return bt.TimestampRangeFilterMicros(bt.Timestamp(afterMillis*microsPerMilli), 0)
	}
	return bt.LatestNFilter(1)
}
