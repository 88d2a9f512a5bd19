// SPDX-License-Identifier: Apache-2.0

package benchkit

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 1000; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {0.999, 999 * time.Millisecond}, {1, time.Second}, {0.0001, time.Millisecond}} {
		if got := Percentile(d, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := Percentile(d[:1], 0.999); got != time.Millisecond {
		t.Errorf("p999 of one value = %v", got)
	}
	if got := Percentile(nil, 0.5); got != 0 {
		t.Errorf("p50 of none = %v", got)
	}
	// 10 values: the p99 and the p999 are the largest.
	if got := Percentile(d[:10], 0.99); got != 10*time.Millisecond {
		t.Errorf("p99 of 10 values = %v", got)
	}
}
