// SPDX-License-Identifier: Apache-2.0

package metadata

import (
	"context"
	"fmt"
	"slices"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/plugins/kv"
)

// Upload stores every definition in defs (*api.Join, *api.GroupBy) in
// api.MetadataDataset under api.MetadataKey at tsMillis; a join brings its
// parts' group-bys along. It returns the keys written, sorted. Uploading
// again at a later time makes the new version the one served.
func Upload(ctx context.Context, store kv.Store, defs []any, tsMillis int64) ([]string, error) {
	entries := map[string][]byte{}
	add := func(kind api.Kind, name string, def any) error {
		b, err := api.Marshal(def)
		if err != nil {
			return fmt.Errorf("encode %s: %w", name, err)
		}
		entries[api.MetadataKey(kind, name)] = b
		return nil
	}
	for _, d := range defs {
		switch def := d.(type) {
		case *api.Join:
			if err := add(api.KindJoin, def.MetaData.GetName(), def); err != nil {
				return nil, err
			}
			for _, jp := range def.JoinParts {
				if err := add(api.KindGroupBy, jp.GroupBy.MetaData.GetName(), jp.GroupBy); err != nil {
					return nil, err
				}
			}
		case *api.GroupBy:
			if err := add(api.KindGroupBy, def.MetaData.GetName(), def); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("metadata upload: a %T is not served (joins and group-bys are)", d)
		}
	}
	if err := store.CreateDataset(ctx, api.MetadataDataset); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(entries))
	for k := range entries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	batch := make([]kv.Entry, len(keys))
	for i, k := range keys {
		batch[i] = kv.Entry{Key: []byte(k), Value: entries[k], TsMillis: tsMillis}
	}
	if err := store.MultiPut(ctx, api.MetadataDataset, batch); err != nil {
		return nil, fmt.Errorf("metadata upload: %w", err)
	}
	return keys, nil
}
