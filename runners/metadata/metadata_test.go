// SPDX-License-Identifier: Apache-2.0

package metadata

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
)

func TestUpload(t *testing.T) {
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "kv.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	g := api.NewGroupBy("team.purchases.v1", []*api.Source{api.EventsSource("data.p", api.NewQuery(api.Selects("u", "x"), "ts"))}, []string{"u"}, api.Sum("x"))
	j := api.NewJoin("team.training.v1", api.EventsSource("data.l", api.NewQuery(api.Selects("u"), "ts")), api.Part(g, nil))
	ctx := context.Background()
	keys, err := Upload(ctx, store, []any{j}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"group_bys/team/purchases.v1", "joins/team/training.v1"}; !slices.Equal(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	// A later upload of a changed join is the version served.
	j.MetaData.SamplePercent = 50
	if _, err := Upload(ctx, store, []any{j}, 2000); err != nil {
		t.Fatal(err)
	}
	res, err := store.MultiGet(ctx, []kv.GetRequest{{Dataset: api.MetadataDataset, Key: []byte("joins/team/training.v1")}})
	if err != nil || res[0].Err != nil || len(res[0].Values) != 1 {
		t.Fatalf("get: %v %+v", err, res)
	}
	got, err := api.ParseJoin(res[0].Values[0].Value)
	if err != nil {
		t.Fatal(err)
	}
	if got.MetaData.SamplePercent != 50 || got.JoinParts[0].GroupBy.MetaData.Name != "team.purchases.v1" {
		t.Errorf("served join %+v", got.MetaData)
	}
	if _, err := Upload(ctx, store, []any{&api.StagingQuery{}}, 1); err == nil {
		t.Error("a staging query is accepted")
	}
}
