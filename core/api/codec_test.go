// SPDX-License-Identifier: Apache-2.0

package api

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

// sameMeaning reports differences between Chronon's JSON and ours: every
// field of want must be in got with the same value, unless want's value is a
// zero (0, false, "", {}, []) that an unset optional field means too, or the
// field is unknown to the model (listed in ignore).
func sameMeaning(t *testing.T, path string, want, got any, ignore map[string]bool) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			if isZero(w) && got == nil {
				return
			}
			t.Errorf("%s: want object, got %v", path, got)
			return
		}
		for k, wv := range w {
			if ignore[k] {
				continue
			}
			gv, present := g[k]
			if !present {
				if !isZero(wv) {
					t.Errorf("%s.%s: missing, want %v", path, k, wv)
				}
				continue
			}
			sameMeaning(t, path+"."+k, wv, gv, ignore)
		}
		for k, gv := range g {
			if _, ok := w[k]; !ok && !isZero(gv) {
				t.Errorf("%s.%s: extra field %v", path, k, gv)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s: want %v, got %v", path, w, got)
			return
		}
		for i := range w {
			sameMeaning(t, path, w[i], g[i], ignore)
		}
	default:
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s: want %v, got %v", path, want, got)
		}
	}
}

func isZero(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case float64:
		return v == 0
	case bool:
		return !v
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

func TestChrononJSONRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		file string
		kind Kind
	}{
		{"testdata/event_sample_group_by.v1.json", KindGroupBy},
		{"testdata/sample_join.v1.json", KindJoin},
	} {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := Parse(tc.kind, data)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			out, err := Marshal(obj)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Parse(tc.kind, out)
			if err != nil {
				t.Fatalf("reparse: %v", err)
			}
			if !reflect.DeepEqual(obj, again) {
				t.Errorf("model changed on round trip:\n%s", out)
			}
			var want, got any
			_ = json.Unmarshal(data, &want)
			_ = json.Unmarshal(out, &got)
			sameMeaning(t, "$", want, got, map[string]bool{"someFutureField": true})
		})
	}
}

func TestParseSampleGroupBy(t *testing.T) {
	data, _ := os.ReadFile("testdata/event_sample_group_by.v1.json")
	g, err := ParseGroupBy(data)
	if err != nil {
		t.Fatal(err)
	}
	if !g.MetaData.Online || g.MetaData.Production {
		t.Errorf("online/production = %v/%v", g.MetaData.Online, g.MetaData.Production)
	}
	if got := g.Sources[0].Query().Selects.Keys(); !reflect.DeepEqual(got, []string{"event", "group_by_subject"}) {
		t.Errorf("selects order = %v", got)
	}
	want := []string{"event_sum_7d", "event_sum", "event_approx_percentile"}
	if got := g.ValueColumns(); !reflect.DeepEqual(got, want) {
		t.Errorf("value columns = %v, want %v", got, want)
	}
	if g.InferredAccuracy() != Snapshot {
		t.Errorf("accuracy = %v", g.InferredAccuracy())
	}
	if err := g.Validate(); err != nil {
		t.Errorf("validate: %v", err)
	}
}

func TestParseSampleJoin(t *testing.T) {
	data, _ := os.ReadFile("testdata/sample_join.v1.json")
	j, err := ParseJoin(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if got := j.MetaData.OutputTable(); got != "sample_namespace.sample_team_sample_join_v1" {
		t.Errorf("output table = %s", got)
	}
	jp := j.JoinParts[0]
	if got := j.PartOutputTable(jp); got != "sample_namespace.sample_team_sample_join_v1_user_sample_team_event_sample_group_by_v1" {
		t.Errorf("part table = %s", got)
	}
	want := []string{"group_by_subject", "event", "ds",
		"user_sample_team_event_sample_group_by_v1_event_sum_7d", "event_sum_7d_x2"}
	if got := j.OutputColumns(nil); !reflect.DeepEqual(got, want) {
		t.Errorf("output columns = %v, want %v", got, want)
	}
	if got := j.OnlineExternalParts[0].FullName(); got != "ext_contextual" {
		t.Errorf("external name = %s", got)
	}
	if j.MetaData.SamplePercent != 100 || j.MetaData.ModeToEnvMap["backfill"]["EXECUTOR_MEMORY"] != "9G" {
		t.Errorf("metadata = %+v", j.MetaData)
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{`{"keyColumns": "user_id"}`, "field keyColumns"},
		{`{"aggregations": [{"operation": "sum"}]}`, "field aggregations.operation"},
		{"{\n\"metaData\": {\"online\": 2}}", "bool must be 0, 1"},
		{"{\n  \"keyColumns\": [\"a\",,]}", "line 2"},
	} {
		_, err := ParseGroupBy([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseGroupBy(%s) error = %v, want it to mention %q", tc.in, err, tc.want)
		}
	}
}

func TestSemanticHash(t *testing.T) {
	data, _ := os.ReadFile("testdata/event_sample_group_by.v1.json")
	a, _ := ParseGroupBy(data)
	b, _ := ParseGroupBy(data)
	if a.SemanticHash("exact") != b.SemanticHash("exact") || len(a.SemanticHash("exact")) != 10 {
		t.Fatalf("hash not stable: %s %s", a.SemanticHash("exact"), b.SemanticHash("exact"))
	}
	b.MetaData.Description = "renamed owners do not recompute"
	b.MetaData.Online = false
	if a.SemanticHash("exact") != b.SemanticHash("exact") {
		t.Error("metadata changed the semantic hash")
	}
	if a.SemanticHash("exact") == a.SemanticHash("hop") {
		t.Error("the window tail mode did not change the semantic hash")
	}
	b.Aggregations[0].Windows[0].Length = 8
	if a.SemanticHash("exact") == b.SemanticHash("exact") {
		t.Error("a window change did not change the semantic hash")
	}

	jdata, _ := os.ReadFile("testdata/sample_join.v1.json")
	j1, _ := ParseJoin(jdata)
	j2, _ := ParseJoin(jdata)
	h1 := j1.SemanticHashes("exact")
	j2.Derivations[1].Expression = "1"
	h2 := j2.SemanticHashes("exact")
	if h1[LeftSourceHashKey] != h2[LeftSourceHashKey] || h1[DerivationHashKey] == h2[DerivationHashKey] {
		t.Errorf("join hashes: %v vs %v", h1, h2)
	}
}

func FuzzParseJoin(f *testing.F) {
	for _, p := range []string{"testdata/sample_join.v1.json", "testdata/event_sample_group_by.v1.json"} {
		data, _ := os.ReadFile(p)
		f.Add(data)
	}
	f.Add([]byte(`{"joinParts": [{"groupBy": null}], "left": {}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := ParseJoin(data)
		if err != nil {
			return
		}
		// Whatever parses must validate (with errors, not panics), name its
		// columns and write back.
		_ = j.Validate()
		if _, err := Marshal(j); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}

func TestEffectiveWindowTail(t *testing.T) {
	for _, tc := range []struct {
		custom, global, want, err string
	}{
		{"", "", "exact", ""},
		{"", "hop", "hop", ""},
		{`{"window_tail": "exact"}`, "hop", "exact", ""},
		{`{"window_tail": "hop", "lag": 0}`, "", "hop", ""},
		{`{"window_tail": "sawtooth"}`, "", "", "not supported"},
		{`{"window_tail": 1}`, "", "", "must be a string"},
	} {
		g := &GroupBy{MetaData: &MetaData{Name: "t.g.v1", CustomJSON: tc.custom}}
		got, err := g.EffectiveWindowTail(tc.global)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s/%s: error %v, want %q", tc.custom, tc.global, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s/%s = %q, %v; want %q", tc.custom, tc.global, got, err, tc.want)
		}
	}
}
