// SPDX-License-Identifier: Apache-2.0

package fetcher

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/backfill"
)

// deriver applies derivations to fetched rows with the same compiled
// expressions (core/expr through core/backfill) as the offline jobs.
type deriver struct {
	d       *backfill.Derivations
	columns []arrow.Field
}

func newDeriver(what string, defs []*api.Derivation, schema *arrow.Schema, base []string, coalesce bool) (*deriver, error) {
	d, err := backfill.CompileDerivations(what, defs, schema, nil, base, coalesce)
	if err != nil {
		return nil, err
	}
	return &deriver{d: d, columns: d.Fields(schema)}, nil
}

// apply derives each row's output columns.
func (dv *deriver) apply(rows []map[string]any) ([]map[string]any, error) {
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		o, err := dv.d.ApplyRow(r)
		if err != nil {
			return nil, err
		}
		out[i] = o
	}
	return out, nil
}
