// SPDX-License-Identifier: Apache-2.0

package bigtable

import (
	"context"
	"fmt"

	bt "cloud.google.com/go/bigtable"
)

// Expire deletes the dataset's cells older than beforeMillis. It reads the
// dataset's value rows a page (Options.Experimental.ExpirePageRows) at a
// time, timestamps only, to count the cells, and deletes each row's old
// cells with one timestamp-range delete; without keepLatest it reads only
// the cells older than beforeMillis. With keepLatest a row's newest cell is
// kept: the delete range stops at it. Its cost is O(cells read), not
// O(cells deleted), and a cell written while Expire runs may be deleted
// without being counted. On failure it returns the count of the pages
// deleted before.
func (s *Store) Expire(ctx context.Context, dataset string, beforeMillis int64, keepLatest bool) (int64, error) {
	const op = "expire"
	if err := s.checkDataset(ctx, op, dataset); err != nil {
		return 0, err
	}
	if beforeMillis <= 0 {
		// Timestamps are >= 0: nothing is older. (A delete range ending
		// at 0 would mean "no end".)
		return 0, nil
	}
	beforeMillis = min(beforeMillis, maxTsMillis)
	// Value rows hold the one column v:v (see valueFilter).
	filter := bt.RowFilter(bt.StripValueFilter())
	if !keepLatest {
		filter = bt.RowFilter(bt.ChainFilters(
			bt.TimestampRangeFilterMicros(0, bt.Timestamp(beforeMillis*microsPerMilli)),
			bt.StripValueFilter()))
	}

	start, end := valueRange(escapeDataset(dataset))
	page := s.opts.Experimental.ExpirePageRows
	var deleted int64
	for {
		var rows []string
		var muts []*bt.Mutation
		var cells int64
		n := 0
		err := s.table.ReadRows(ctx, bt.NewRange(start, end), func(r bt.Row) bool {
			n++
			start = r.Key() + "\x00"
			cutoff := beforeMillis
			if keepLatest {
				cutoff = min(cutoff, newestMillis(r[familyValue]))
			}
			old := 0
			for _, c := range r[familyValue] {
				if int64(c.Timestamp)/microsPerMilli < cutoff {
					old++
				}
			}
			if old == 0 {
				return true
			}
			m := bt.NewMutation()
			m.DeleteTimestampRange(familyValue, columnValue, 0, bt.Timestamp(cutoff*microsPerMilli))
			rows = append(rows, r.Key())
			muts = append(muts, m)
			cells += int64(old)
			return true
		}, filter, bt.LimitRows(int64(page)))
		if err != nil {
			return deleted, wrap(op, dataset, fmt.Errorf("read: %w", err))
		}
		for len(rows) > 0 {
			k := min(len(rows), s.opts.Experimental.BulkMutations)
			b := s.newBatch()
			b.rows, b.muts = rows[:k], muts[:k]
			rows, muts = rows[k:], muts[k:]
			if err := b.flush(ctx); err != nil {
				return deleted, wrap(op, dataset, fmt.Errorf("delete: %w", err))
			}
		}
		deleted += cells
		if n < page {
			return deleted, nil
		}
	}
}

// newestMillis returns the newest timestamp of cells, in milliseconds.
func newestMillis(cells []bt.ReadItem) int64 {
	var newest int64
	for _, c := range cells {
		newest = max(newest, int64(c.Timestamp)/microsPerMilli)
	}
	return newest
}
