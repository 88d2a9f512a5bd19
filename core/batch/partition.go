// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"fmt"
	"time"
)

// DSLayout is the Go time layout of a partition value.
const DSLayout = "2006-01-02"

// DayMillis is one day in milliseconds.
const DayMillis int64 = 24 * 60 * 60 * 1000

// ParseDS parses a partition value "YYYY-MM-DD" into midnight UTC of that day.
func ParseDS(ds string) (time.Time, error) {
	t, err := time.Parse(DSLayout, ds)
	if err != nil || t.Format(DSLayout) != ds {
		return time.Time{}, fmt.Errorf("bad partition date %q: want YYYY-MM-DD", ds)
	}
	return t, nil
}

// ValidDS reports whether ds is a well-formed partition value.
func ValidDS(ds string) bool {
	_, err := ParseDS(ds)
	return err == nil
}

// FormatDS returns the partition value of the UTC day containing t.
func FormatDS(t time.Time) string { return t.UTC().Format(DSLayout) }

// DSOfMillis returns the partition value of the UTC day containing the epoch
// millisecond ms.
func DSOfMillis(ms int64) string { return FormatDS(time.UnixMilli(ms)) }

// MillisOfDS returns the epoch milliseconds of midnight UTC starting day ds.
func MillisOfDS(ds string) (int64, error) {
	t, err := ParseDS(ds)
	if err != nil {
		return 0, err
	}
	return t.UnixMilli(), nil
}

// ShiftDS returns ds moved by days (negative moves back).
func ShiftDS(ds string, days int) (string, error) {
	t, err := ParseDS(ds)
	if err != nil {
		return "", err
	}
	return FormatDS(t.AddDate(0, 0, days)), nil
}

// DSRange returns every partition value from start to end inclusive. It
// returns nil when end is before start.
func DSRange(start, end string) ([]string, error) {
	s, err := ParseDS(start)
	if err != nil {
		return nil, err
	}
	e, err := ParseDS(end)
	if err != nil {
		return nil, err
	}
	var out []string
	for t := s; !t.After(e); t = t.AddDate(0, 0, 1) {
		out = append(out, FormatDS(t))
	}
	return out, nil
}
