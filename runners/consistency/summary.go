// SPDX-License-Identifier: Apache-2.0

package consistency

import (
	"fmt"
	"io"

	"github.com/chronon-go/chronon/core/batch"
)

// WriteSummary prints res: a line with the tables and row counts, the
// per-feature metrics (the rows written to the _consistency table) in
// format (core/batch Formats; table for a terminal), and a line counting
// the inconsistent features.
func (res *Result) WriteSummary(w io.Writer, format string) error {
	fmt.Fprintf(w, "%s %s: compared %d logged rows of %s with %s", res.Join, res.DS, res.Rows, res.LoggedTable, res.ComparisonTable)
	if res.Unsampled > 0 {
		fmt.Fprintf(w, " (%d rows outside the consistency sample)", res.Unsampled)
	}
	fmt.Fprintf(w, " -> %s\n", res.Table)
	if res.UnpairedLogged > 0 || res.UnpairedOffline > 0 {
		fmt.Fprintf(w, "warning: %d logged rows had no offline row and %d offline rows no logged row\n", res.UnpairedLogged, res.UnpairedOffline)
	}
	rec, err := res.Record()
	if err != nil {
		return fmt.Errorf("consistency %s: %w", res.Join, err)
	}
	defer rec.Release()
	if err := batch.RenderBatches(w, format, rec.Schema(), batch.RenderOptions{}, rec); err != nil {
		return fmt.Errorf("consistency %s: %w", res.Join, err)
	}
	bad := 0
	for _, f := range res.Features {
		if f.Metrics.Inconsistent() > 0 {
			bad++
		}
	}
	fmt.Fprintf(w, "%d of %d features inconsistent", bad, len(res.Features))
	if len(res.Excluded) > 0 {
		fmt.Fprintf(w, "; %d logged columns without an offline counterpart not compared", len(res.Excluded))
	}
	fmt.Fprintln(w)
	return nil
}
