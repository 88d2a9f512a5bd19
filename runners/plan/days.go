// SPDX-License-Identifier: Apache-2.0

package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/chronon-go/chronon/core/batch"
)

// day is a partition as a count of days since 1970-01-01 (UTC).
type day int64

// parseDay parses a partition value; what names it in the error.
func parseDay(what, ds string) (day, error) {
	ms, err := batch.MillisOfDS(ds)
	if err != nil {
		return 0, fmt.Errorf("plan: %s: %w", what, err)
	}
	return day(ms / batch.DayMillis), nil
}

// String returns the partition value "YYYY-MM-DD".
func (d day) String() string { return batch.DSOfMillis(int64(d) * batch.DayMillis) }

// ceilDays returns the number of day boundaries a duration of ms can cross
// backwards from any instant: ceil(ms / day).
func ceilDays(ms int64) day {
	return day((ms + batch.DayMillis - 1) / batch.DayMillis)
}

// daySet is a set of partitions.
type daySet map[day]bool

// addRange adds every day of [lo, hi].
func (s daySet) addRange(lo, hi day) {
	for d := lo; d <= hi; d++ {
		s[d] = true
	}
}

// sorted returns the set's days in ascending order.
func (s daySet) sorted() []day {
	out := make([]day, 0, len(s))
	for d := range s {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// strings returns the set's partition values in ascending order.
func (s daySet) strings() []string { return dayStrings(s.sorted()) }

func dayStrings(ds []day) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out
}

// interval is a closed range of days.
type interval struct{ lo, hi day }

// mergeIntervals returns the union of xs as sorted, disjoint, non-adjacent
// intervals.
func mergeIntervals(xs []interval) []interval {
	sort.Slice(xs, func(i, j int) bool { return xs[i].lo < xs[j].lo })
	var out []interval
	for _, x := range xs {
		if x.lo > x.hi {
			continue
		}
		if n := len(out); n > 0 && x.lo <= out[n-1].hi+1 {
			out[n-1].hi = max(out[n-1].hi, x.hi)
			continue
		}
		out = append(out, x)
	}
	return out
}

// FormatPartitions renders sorted partition values compactly, joining runs
// of consecutive days: "2023-11-01..2023-11-30, 2023-12-02". At most limit
// runs are shown (all when limit <= 0); the rest are counted.
func FormatPartitions(ds []string, limit int) string {
	type run struct {
		from, to string
		last     day
	}
	var runs []run
	for _, s := range ds {
		d, err := parseDay("partition", s)
		if err != nil {
			runs = append(runs, run{from: s, to: s, last: -1 << 62})
			continue
		}
		if n := len(runs); n > 0 && runs[n-1].last+1 == d {
			runs[n-1].to, runs[n-1].last = s, d
			continue
		}
		runs = append(runs, run{from: s, to: s, last: d})
	}
	var b strings.Builder
	for i, r := range runs {
		if limit > 0 && i == limit {
			fmt.Fprintf(&b, ", … (%d more ranges)", len(runs)-limit)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.from)
		if r.to != r.from {
			b.WriteString("..")
			b.WriteString(r.to)
		}
	}
	return b.String()
}
