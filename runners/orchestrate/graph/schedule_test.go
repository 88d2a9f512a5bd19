// SPDX-License-Identifier: Apache-2.0

package graph

import (
	"strings"
	"testing"
	"time"
)

func TestScheduleDueOn(t *testing.T) {
	// 2023-12-01 is a Friday, 2023-12-03 a Sunday.
	tests := []struct {
		spec string
		due  []string
		not  []string
	}{
		{"", []string{"2023-12-01", "2023-12-03"}, nil},
		{"@daily", []string{"2023-12-01", "2024-02-29"}, nil},
		{"@never", nil, []string{"2023-12-01", "2023-12-03"}},
		{"@weekly", []string{"2023-12-03", "2023-12-10"}, []string{"2023-12-01", "2023-12-04"}},
		{"@monthly", []string{"2023-12-01", "2024-01-01"}, []string{"2023-12-02"}},
		{"@yearly", []string{"2024-01-01"}, []string{"2023-12-01"}},
		{"30 2 * * 1-5", []string{"2023-12-01", "2023-12-04"}, []string{"2023-12-02", "2023-12-03"}},
		{"0 0 * * 7", []string{"2023-12-03"}, []string{"2023-12-01"}},
		{"0 0 * * sat,SUN", []string{"2023-12-02", "2023-12-03"}, []string{"2023-12-01"}},
		{"0 0 */10 * *", []string{"2023-12-01", "2023-12-11", "2023-12-21", "2023-12-31"}, []string{"2023-12-10"}},
		{"0 0 15 jan-mar *", []string{"2024-01-15", "2024-03-15"}, []string{"2023-12-15", "2024-01-16"}},
		// Day of month and day of week both restricted: either matches.
		{"0 0 1 * 0", []string{"2023-12-01", "2023-12-03"}, []string{"2023-12-02"}},
		{"0 0 5/7 * *", []string{"2023-12-05", "2023-12-12"}, []string{"2023-12-06"}},
	}
	for _, tc := range tests {
		s, err := ParseSchedule(tc.spec)
		if err != nil {
			t.Fatalf("ParseSchedule(%q): %v", tc.spec, err)
		}
		for _, want := range []struct {
			days []string
			due  bool
		}{{tc.due, true}, {tc.not, false}} {
			for _, d := range want.days {
				day, _ := time.Parse(time.DateOnly, d)
				if got := s.DueOn(day); got != want.due {
					t.Errorf("%q DueOn(%s) = %v, want %v", tc.spec, d, got, want.due)
				}
			}
		}
	}
}

func TestParseScheduleErrors(t *testing.T) {
	tests := []struct{ spec, want string }{
		{"@sometimes", "unknown macro"},
		{"0 0 * *", "5 fields"},
		{"0 0 * * * *", "5 fields"},
		{"60 0 * * *", "minute field"},
		{"0 24 * * *", "outside 0-23"},
		{"0 0 0 * *", "day of month field"},
		{"0 0 * 13 *", "month field"},
		{"0 0 * * 8", "day of week field"},
		{"0 0 5-1 * *", "backwards"},
		{"0 0 */0 * *", "bad step"},
		{"0 0 x * *", "not a number"},
	}
	for _, tc := range tests {
		_, err := ParseSchedule(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseSchedule(%q) = %v, want an error containing %q", tc.spec, err, tc.want)
		}
	}
}
