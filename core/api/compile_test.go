// SPDX-License-Identifier: Apache-2.0

package api

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

func compileQuickstart(t *testing.T) *Repo {
	t.Helper()
	repo, err := CompileRepo(os.DirFS("../../examples/quickstart"))
	if err != nil {
		t.Fatalf("compile quickstart: %v", err)
	}
	return repo
}

func TestCompileQuickstart(t *testing.T) {
	repo := compileQuickstart(t)
	files, err := repo.Files()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"production/group_bys/quickstart/purchases.v1",
		"production/group_bys/quickstart/returns.v1",
		"production/group_bys/quickstart/users.v1",
		"production/joins/quickstart/training_set.v1",
		"production/joins/quickstart/training_set.v2",
	} {
		if _, ok := files[p]; !ok {
			t.Errorf("missing %s (have %d files)", p, len(files))
		}
	}
	var doc map[string]any
	if err := json.Unmarshal(files["production/joins/quickstart/training_set.v1"], &doc); err != nil {
		t.Fatal(err)
	}
	md := doc["metaData"].(map[string]any)
	if md["name"] != "quickstart.training_set.v1" || md["team"] != "quickstart" || md["outputNamespace"] != "default" {
		t.Errorf("metaData = %v", md)
	}
	if md["tableProperties"].(map[string]any)["source"] != "chronon" {
		t.Errorf("team default table properties not applied: %v", md["tableProperties"])
	}
	left := doc["left"].(map[string]any)["events"].(map[string]any)
	if left["table"] != "data.checkouts" || left["query"].(map[string]any)["timeColumn"] != "ts" {
		t.Errorf("left = %v", left)
	}
	parts := doc["joinParts"].([]any)
	purchases := parts[0].(map[string]any)["groupBy"].(map[string]any)
	agg0 := purchases["aggregations"].([]any)[0].(map[string]any)
	if agg0["operation"] != float64(7) || agg0["inputColumn"] != "purchase_price" {
		t.Errorf("first aggregation = %v", agg0)
	}
	wantWindows := []any{
		map[string]any{"length": float64(3), "timeUnit": float64(1)},
		map[string]any{"length": float64(14), "timeUnit": float64(1)},
		map[string]any{"length": float64(30), "timeUnit": float64(1)},
	}
	if !reflect.DeepEqual(agg0["windows"], wantWindows) {
		t.Errorf("windows = %v", agg0["windows"])
	}
	lastK := purchases["aggregations"].([]any)[3].(map[string]any)
	if lastK["operation"] != float64(13) || lastK["argMap"].(map[string]any)["k"] != "10" {
		t.Errorf("last_k = %v", lastK)
	}
	if purchases["metaData"].(map[string]any)["online"] != float64(1) {
		t.Errorf("bools must be written as 1: %v", purchases["metaData"])
	}
	// The compiled file reads back into the same model.
	j, err := ParseJoin(files["production/joins/quickstart/training_set.v1"])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(j, repo.Joins["quickstart.training_set.v1"]) {
		t.Error("compiled join does not read back unchanged")
	}
}

func TestQuickstartColumnNames(t *testing.T) {
	repo := compileQuickstart(t)
	j := repo.Joins["quickstart.training_set.v1"]
	got := j.OutputColumns(nil)
	want := []string{"user_id", "ts", "ds"}
	for _, gb := range []struct{ prefix, input, last string }{
		{"quickstart_purchases_v1", "purchase_price", "last10"},
		{"quickstart_returns_v1", "refund_amt", "last2"},
	} {
		for _, op := range []string{"sum", "count", "average"} {
			for _, w := range []string{"3d", "14d", "30d"} {
				want = append(want, gb.prefix+"_"+gb.input+"_"+op+"_"+w)
			}
		}
		want = append(want, gb.prefix+"_"+gb.input+"_"+gb.last)
	}
	want = append(want, "quickstart_users_v1_account_created_ds", "quickstart_users_v1_email_verified")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("training_set.v1 columns:\n got  %v\n want %v", got, want)
	}
	if got := j.MetaData.OutputTable(); got != "default.quickstart_training_set_v1" {
		t.Errorf("output table = %s", got)
	}
	g := repo.GroupBys["quickstart.purchases.v1"]
	if g.InferredAccuracy() != Snapshot || repo.GroupBys["quickstart.returns.v1"].InferredAccuracy() != Temporal {
		t.Error("accuracy inference")
	}
	if g.MetaData.BatchDataset() != "QUICKSTART_PURCHASES_V1_BATCH" || g.MetaData.TableWithSuffix(SuffixUpload) != "default.quickstart_purchases_v1_upload" {
		t.Errorf("datasets: %s %s", g.MetaData.BatchDataset(), g.MetaData.TableWithSuffix(SuffixUpload))
	}
}

// repoFS builds a repository with teams.json and the given files.
func repoFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{"teams.json": {Data: []byte(`{"default": {"namespace": "ns"}, "t": {}}`)}}
	for p, s := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(s)}
	}
	return fsys
}

const gbHead = `v1:
  sources:
    - events:
        table: data.events
        query:
          selects: [user_id, price, bucket]
          time_column: ts
  key_columns: [user_id]
`

func TestCompileErrorsNameFileLineAndField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"unknown operation", map[string]string{"group_bys/t/a.yaml": gbHead + `  aggregations:
    - input_column: price
      operation: summ
`}, []string{"group_bys/t/a.yaml:11:18", "aggregations[0].operation", `unknown operation "summ"`}},
		{"last_k without k", map[string]string{"group_bys/t/a.yaml": gbHead + `  aggregations:
    - input_column: price
      operation: last_k
`}, []string{"group_bys/t/a.yaml:10:", "aggregations[0]", "LAST_K needs `k`"}},
		{"selects missing key", map[string]string{"group_bys/t/a.yaml": `v1:
  sources:
    - events:
        table: data.events
        query:
          selects: [price]
          time_column: ts
  key_columns: [user_id]
  aggregations: [{input_column: price, operation: sum}]
`}, []string{"group_bys/t/a.yaml:6:", `missing key column "user_id"`}},
		{"duplicate output", map[string]string{"group_bys/t/a.yaml": gbHead + `  aggregations:
    - {input_column: price, operation: sum, windows: [1d]}
    - {input_column: price, operation: sum, windows: [1d]}
`}, []string{"group_bys/t/a.yaml", `duplicate output column "price_sum_1d"`}},
		{"hour window on snapshot events", map[string]string{"group_bys/t/a.yaml": gbHead + `  aggregations:
    - {input_column: price, operation: sum, windows: [1d, 6h]}
`}, []string{"group_bys/t/a.yaml:10:", "aggregations[0].windows[1]", "hour window 6h on a SNAPSHOT"}},
		{"reserved column", map[string]string{"group_bys/t/a.yaml": `v1:
  sources:
    - events:
        table: data.events
        query:
          selects: {user_id: user_id, ds: dt}
          time_column: ts
  key_columns: [user_id]
`}, []string{"group_bys/t/a.yaml:6:", `"ds" is a reserved column name`}},
		{"bad date", map[string]string{"group_bys/t/a.yaml": `v1:
  sources:
    - events:
        table: data.events
        query:
          selects: [user_id, price]
          time_column: ts
          start_partition: 2023-13-01
  key_columns: [user_id]
  aggregations: [{input_column: price, operation: sum}]
`}, []string{"group_bys/t/a.yaml:8:", "start_partition", `bad date "2023-13-01"`}},
		{"bad window", map[string]string{"group_bys/t/a.yaml": gbHead + `  aggregations:
    - {input_column: price, operation: sum, windows: [3x]}
`}, []string{"group_bys/t/a.yaml:10:", "windows[0]", `bad window "3x"`}},
		{"unknown field", map[string]string{"group_bys/t/a.yaml": gbHead + `  agregations: []
`}, []string{"group_bys/t/a.yaml:9:", "agregations"}},
		{"keyMapping to a non-key", map[string]string{
			"group_bys/t/a.yaml": gbHead + "  aggregations: [{input_column: price, operation: sum}]\n",
			"joins/t/j.yaml": `v1:
  left:
    events:
      table: data.checkouts
      query: {selects: [uid], time_column: ts}
  join_parts:
    - group_by: t.a.v1
      key_mapping: {uid: price}
`}, []string{"joins/t/j.yaml:8:", "key_mapping.uid", `maps to "price", which is not a key of t.a.v1`}},
		{"unknown group_by", map[string]string{"joins/t/j.yaml": `v1:
  left: {events: {table: data.checkouts, query: {selects: [uid], time_column: ts}}}
  join_parts:
    - group_by: t.nope.v1
`}, []string{"joins/t/j.yaml:4:", `unknown group_by "t.nope.v1"`}},
		{"unknown team", map[string]string{"group_bys/zz/a.yaml": gbHead}, []string{"group_bys/zz/a.yaml", `team "zz" is not in teams.json`}},
		{"online join with offline group_by", map[string]string{
			"group_bys/t/a.yaml": gbHead + "  aggregations: [{input_column: price, operation: sum}]\n",
			"joins/t/j.yaml": `v1:
  online: true
  left: {events: {table: data.checkouts, query: {selects: [user_id], time_column: ts}}}
  join_parts: [{group_by: t.a.v1}]
`}, []string{"joins/t/j.yaml:4:", "t.a.v1 is not: set online: true"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CompileRepo(repoFS(tc.files))
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("want a CompileError, got %v", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestCompileOrderedSelectsAndExtras(t *testing.T) {
	repo, err := CompileRepo(repoFS(map[string]string{
		"group_bys/t/a.yaml": `_src: &src
  events:
    table: data.events
    query:
      selects: {user_id: user_id, price: "price * 100", bucket: }
      time_column: ts
v1:
  online: true
  sources: [*src]
  key_columns: [user_id]
  accuracy: temporal
  aggregations:
    - {input_column: price, operation: approx_percentile, percentiles: [0.5, 0.99]}
    - {input_column: price, operation: top_k, k: 3, windows: [1h], buckets: [bucket]}
  derivations:
    - {name: p50, expression: "price_approx_percentile[0]"}
`,
		"joins/t/j.yaml": `v1:
  online: true
  sample_percent: 10
  left: {events: {table: data.checkouts, query: {selects: [uid, request_id], time_column: ts}}}
  join_parts: [{group_by: t.a.v1, key_mapping: {uid: user_id}, prefix: u}]
  external_parts:
    - contextual: {request_id: string}
    - source: {name: risk, keys: {user_id: string}, values: {score: double, tags: list<string>}}
      key_mapping: {uid: user_id}
  row_ids: [request_id]
  derivations:
    - {name: "*", expression: "*"}
`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	g := repo.GroupBys["t.a.v1"]
	if got := g.Sources[0].Query().Selects.Keys(); !reflect.DeepEqual(got, []string{"user_id", "price", "bucket"}) {
		t.Errorf("selects order = %v", got)
	}
	if v, _ := g.Sources[0].Query().Selects.Get("bucket"); v != "bucket" {
		t.Errorf("empty select expression should keep the column, got %q", v)
	}
	if g.Aggregations[0].ArgMap["percentiles"] != "[0.5, 0.99]" || g.Aggregations[0].ArgMap["k"] != "128" {
		t.Errorf("percentile argMap = %v", g.Aggregations[0].ArgMap)
	}
	if got := g.ValueColumns(); !reflect.DeepEqual(got, []string{"p50"}) {
		t.Errorf("derived group-by columns = %v", got)
	}
	j := repo.Joins["t.j.v1"]
	if got := j.BaseValueColumns(); !reflect.DeepEqual(got, []string{"u_t_a_v1_p50"}) {
		t.Errorf("join columns = %v", got)
	}
	if j.OnlineExternalParts[0].FullName() != "ext_contextual" || j.OnlineExternalParts[1].FullName() != "ext_risk" {
		t.Errorf("external names: %s %s", j.OnlineExternalParts[0].FullName(), j.OnlineExternalParts[1].FullName())
	}
	if k := j.OnlineExternalParts[1].Source.ValueSchema.Params[1].DataType; k.Kind != ListKind || k.Params[0].DataType.Kind != StringKind {
		t.Errorf("list<string> parsed as %+v", k)
	}
	if j.MetaData.SamplePercent != 10 || j.MetaData.OutputNamespace != "ns" {
		t.Errorf("metadata = %+v", j.MetaData)
	}
}

func TestTeamsYAML(t *testing.T) {
	teams, err := ParseTeams([]byte("default:\n  namespace: base\n  table_properties: {a: '1', b: '2'}\nml:\n  table_properties: {b: '3'}\n"), true)
	if err != nil {
		t.Fatal(err)
	}
	md := &MetaData{Name: "ml.x.v1", Team: "ml", TableProperties: map[string]string{"c": "4"}}
	if err := teams.Apply(md); err != nil {
		t.Fatal(err)
	}
	if md.OutputNamespace != "base" || !reflect.DeepEqual(md.TableProperties, map[string]string{"a": "1", "b": "3", "c": "4"}) {
		t.Errorf("applied = %+v", md)
	}
}
