// SPDX-License-Identifier: Apache-2.0

package fetchertest

import (
	"context"
	"testing"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/plugins/kv"
)

// PutJoin stores j as a new version of its definition, at BatchEnd +
// version ms (a later version wins), as metadata-upload would after the
// definition changed.
func PutJoin(t testing.TB, store kv.Store, j *api.Join, version int64) {
	t.Helper()
	def, err := api.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.MultiPut(context.Background(), api.MetadataDataset, []kv.Entry{
		{Key: []byte(api.MetadataKey(api.KindJoin, j.MetaData.Name)), Value: def, TsMillis: BatchEnd + version}}); err != nil {
		t.Fatal(err)
	}
}

// LoadLogged is Load with the fixture's join logging every fetch
// (samplePercent 100) and writing its tables to namespace ns, stored as
// version 1 of its definition; it returns the join.
func LoadLogged(t testing.TB, store kv.Store, ns string) *api.Join {
	t.Helper()
	j := Load(t, store).Join
	j.MetaData.SamplePercent = 100
	j.MetaData.OutputNamespace = ns
	PutJoin(t, store, j, 1)
	return j
}
