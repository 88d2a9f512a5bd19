// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/online"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
)

// TestUploadQuickstart uploads the quickstart's returns GroupBy for its last
// day into the embedded KV store: every key's batch value and the serving
// info land in QUICKSTART_RETURNS_V1_BATCH at the batch end, and a second
// upload rewrites the same values.
func TestUploadQuickstart(t *testing.T) {
	dir := quickstartDir(t, nil)
	for range 2 {
		out := mustRun(t, dir, "upload", "--conf", "quickstart.returns.v1", "--ds", "2023-11-30")
		if !strings.Contains(out, "to default.quickstart_returns_v1_upload and kv dataset QUICKSTART_RETURNS_V1_BATCH (batch end 2023-12-01T00:00:00Z)") {
			t.Fatalf("upload printed %q", out)
		}
	}
	store, err := sqlite.Open(filepath.Join(dir, ".chronon", "kv.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	key, err := online.AppendKey(nil, []any{"48"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := store.MultiGet(context.Background(), []kv.GetRequest{
		{Dataset: "QUICKSTART_RETURNS_V1_BATCH", Key: []byte(api.ServingInfoKey)},
		{Dataset: "QUICKSTART_RETURNS_V1_BATCH", Key: key, AfterMillis: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || len(r.Values) != 1 {
			t.Fatalf("request %d: %d values, err %v (want one value: re-uploads replace)", i, len(r.Values), r.Err)
		}
		if r.Values[0].TsMillis != 1701388800000 {
			t.Errorf("request %d: value at %d, want the batch end", i, r.Values[0].TsMillis)
		}
	}
	out := mustRun(t, dir, "metadata-upload")
	if !strings.Contains(out, "joins/quickstart/training_set.v2") || !strings.Contains(out, "uploaded 7 definitions to CHRONON_METADATA") {
		t.Errorf("metadata-upload printed %q", out)
	}
	meta, err := store.MultiGet(context.Background(), []kv.GetRequest{{Dataset: api.MetadataDataset, Key: []byte("joins/quickstart/training_set.v2")}})
	if err != nil || meta[0].Err != nil || len(meta[0].Values) != 1 {
		t.Fatalf("metadata get: %v %+v", err, meta)
	}
	if j, err := api.ParseJoin(meta[0].Values[0].Value); err != nil || j.MetaData.Name != "quickstart.training_set.v2" {
		t.Errorf("stored join %v, err %v", j, err)
	}
	info, err := api.ParseGroupByServingInfo(res[0].Values[0].Value)
	if err != nil || info.BatchEndDate != "2023-11-30" || info.GroupBy.MetaData.Name != "quickstart.returns.v1" {
		t.Errorf("serving info %+v, err %v", info, err)
	}
}
