// SPDX-License-Identifier: Apache-2.0

package plan

import (
	"slices"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/backfill"
)

// bootstrapOutputColumns are the output columns of a join with bootstrap
// parts: the left columns, then the derived columns of the join parts' and
// external parts' values (Chronon's baseValueNames). It adds the external
// values to base.
func bootstrapOutputColumns(j *api.Join, tableCols []string, base *columns) ([]string, error) {
	ext, err := backfill.ExternalValueFields(j)
	if err != nil {
		return nil, err
	}
	values := j.BaseValueColumns()
	for _, f := range ext {
		base.add(f.Name, f.Type)
		values = append(values, f.Name)
	}
	out := j.LeftColumns(tableCols)
	for _, c := range api.DerivedColumns(values, j.Derivations) {
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// BootstrapTableHash returns the semantic hash stored with a join's
// `_bootstrap` table: its left source's and bootstrap parts' entries of
// api.Join.SemanticHashes (Chronon saves the two together and recomputes
// the table when either changes).
func BootstrapTableHash(j *api.Join, windowTail string) string {
	hashes := j.SemanticHashes(windowTail)
	key := j.MetaData.TableWithSuffix(api.SuffixBootstrap)
	return encodeHashes(map[string]string{api.LeftSourceHashKey: hashes[api.LeftSourceHashKey], key: hashes[key]})
}
