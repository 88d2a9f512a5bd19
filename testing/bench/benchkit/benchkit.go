// SPDX-License-Identifier: Apache-2.0

// Package benchkit holds what the benchmark programs share: quantiles of
// latencies and the --quick smoke-run defaults.
package benchkit

import (
	"flag"
	"math"
	"strings"
	"time"
)

// Percentile returns the p-th quantile (0 < p <= 1) of sorted durations by
// nearest rank: the smallest value that at least a fraction p of the
// values are less than or equal to. 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// ApplyDefaults sets each flag of defaults (name, value) that the command
// line did not set, and says which it set ("--rate 200 --duration 3s"): a
// --quick run's smaller load, overridable flag by flag.
func ApplyDefaults(fs *flag.FlagSet, defaults [][2]string) (string, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var applied []string
	for _, d := range defaults {
		if set[d[0]] {
			continue
		}
		if err := fs.Set(d[0], d[1]); err != nil {
			return "", err
		}
		applied = append(applied, "--"+d[0]+" "+d[1])
	}
	return strings.Join(applied, " "), nil
}
