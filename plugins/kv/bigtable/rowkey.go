// SPDX-License-Identifier: Apache-2.0

package bigtable

import (
	"errors"
	"fmt"
	"strings"
)

// Column families and columns of the table (see the package documentation).
const (
	// familyValue holds the values of every dataset, one cell per
	// (key, TsMillis), in column columnValue.
	familyValue = "v"
	columnValue = "v"
	// familyDataset holds the dataset rows that CreateDataset writes, one
	// cell in column columnDataset.
	familyDataset = "d"
	columnDataset = "d"
)

// sep ends the escaped dataset name in the row key of a value row.
const sep = '#'

// errEmptyDataset rejects the empty dataset name, which would give the
// dataset row an empty (invalid) row key.
var errEmptyDataset = errors.New("empty dataset name")

// escapeDataset returns the dataset name as it starts row keys: with '%'
// and '#' percent-encoded ("%25", "%23"), so that it contains no '#' and the
// first '#' of a value row's key ends it. Distinct names give distinct
// escapes.
func escapeDataset(dataset string) string {
	if !strings.ContainsAny(dataset, "%#") {
		return dataset
	}
	var b strings.Builder
	b.Grow(len(dataset) + 8)
	for i := range len(dataset) {
		switch c := dataset[i]; c {
		case '%':
			b.WriteString("%25")
		case sep:
			b.WriteString("%23")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// datasetRowKey is the row key of a dataset's dataset row: the escaped name
// alone. It holds no '#', so it is never the key of a value row.
func datasetRowKey(esc string) string { return esc }

// valueRowKey is the row key of a key's value row in a dataset whose
// escaped name is esc.
func valueRowKey(esc string, key []byte) string {
	var b strings.Builder
	b.Grow(len(esc) + 1 + len(key))
	b.WriteString(esc)
	b.WriteByte(sep)
	b.Write(key)
	return b.String()
}

// valueRange returns the row range [start, end) of every value row of a
// dataset: the keys that start with esc + "#" ('$' follows '#').
func valueRange(esc string) (start, end string) {
	return esc + string(sep), esc + string(sep+1)
}

// Timestamps: Bigtable cell timestamps are microseconds since the epoch at
// millisecond granularity; TsMillis is milliseconds.
const (
	microsPerMilli = 1000
	// maxTsMillis is the largest TsMillis whose microseconds fit an int64.
	maxTsMillis = (1<<63 - 1) / microsPerMilli
)

// checkTs rejects a TsMillis that has no Bigtable cell timestamp: negative
// (Bigtable reserves -1 for "server time") or too large.
func checkTs(tsMillis int64) error {
	if tsMillis < 0 || tsMillis > maxTsMillis {
		return fmt.Errorf("TsMillis %d is outside [0, %d]", tsMillis, int64(maxTsMillis))
	}
	return nil
}
