// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"reflect"
	"testing"
)

func TestParseDS(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"2023-11-30", true},
		{"2024-02-29", true},
		{"2023-02-29", false},
		{"2023-1-01", false},
		{"20231101", false},
		{"", false},
	} {
		if got := ValidDS(tc.in); got != tc.ok {
			t.Errorf("ValidDS(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
}

func TestMillisRoundTrip(t *testing.T) {
	ms, err := MillisOfDS("2023-11-13")
	if err != nil {
		t.Fatal(err)
	}
	if ms != 1699833600000 {
		t.Fatalf("MillisOfDS = %d", ms)
	}
	// 1699874292000 = 2023-11-13T11:18:12Z (a quickstart purchase).
	if got := DSOfMillis(1699874292000); got != "2023-11-13" {
		t.Fatalf("DSOfMillis = %s", got)
	}
	if got := DSOfMillis(ms - 1); got != "2023-11-12" {
		t.Fatalf("DSOfMillis(midnight-1) = %s", got)
	}
}

func TestDSRangeAndShift(t *testing.T) {
	got, err := DSRange("2023-02-27", "2023-03-01")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2023-02-27", "2023-02-28", "2023-03-01"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("DSRange = %v", got)
	}
	if r, _ := DSRange("2023-03-02", "2023-03-01"); r != nil {
		t.Fatalf("empty range = %v", r)
	}
	if s, _ := ShiftDS("2023-12-31", 1); s != "2024-01-01" {
		t.Fatalf("ShiftDS = %s", s)
	}
}
