// SPDX-License-Identifier: Apache-2.0

package api

import (
	"reflect"
	"testing"
)

func TestOutputColumnName(t *testing.T) {
	w3 := Days(3)
	h1 := Hours(1)
	for _, tc := range []struct {
		part AggregationPart
		want string
	}{
		{AggregationPart{InputColumn: "purchase_price", Operation: OpSum, Window: &w3}, "purchase_price_sum_3d"},
		{AggregationPart{InputColumn: "purchase_price", Operation: OpLastK, ArgMap: map[string]string{"k": "10"}}, "purchase_price_last10"},
		{AggregationPart{InputColumn: "x", Operation: OpFirstK, ArgMap: map[string]string{"k": "2"}, Window: &h1}, "x_first2_1h"},
		{AggregationPart{InputColumn: "x", Operation: OpTopK, ArgMap: map[string]string{"k": "5"}, Bucket: "b"}, "x_top5_by_b"},
		{AggregationPart{InputColumn: "x", Operation: OpBottomK, ArgMap: map[string]string{"k": "5"}}, "x_bottom5"},
		{AggregationPart{InputColumn: "x", Operation: OpApproxUniqueCount, Window: &w3, Bucket: "c"}, "x_approx_unique_count_3d_by_c"},
		{AggregationPart{InputColumn: "x", Operation: OpHistogram, ArgMap: map[string]string{"k": "3"}}, "x_histogram"},
		{AggregationPart{InputColumn: "x", Operation: OpApproxHistogramK}, "x_approx_histogram_k"},
		{AggregationPart{InputColumn: "x", Operation: OpBoundedUniqueCount}, "x_bounded_unique_count"},
	} {
		if got := tc.part.OutputColumnName(); got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.part, got, tc.want)
		}
	}
}

func TestUnpackOrder(t *testing.T) {
	a := &Aggregation{InputColumn: "x", Operation: OpCount, Windows: []Window{Days(1), Days(7)}, Buckets: []string{"a", "b"}}
	var got []string
	for _, p := range a.Unpack() {
		got = append(got, p.OutputColumnName())
	}
	want := []string{"x_count_1d_by_a", "x_count_7d_by_a", "x_count_1d_by_b", "x_count_7d_by_b"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("unpack = %v", got)
	}
	unb := &Aggregation{InputColumn: "x", Operation: OpMax, Windows: []Window{{Length: 2147483647, TimeUnit: UnitDays}}}
	if got := unb.Unpack()[0].OutputColumnName(); got != "x_max" {
		t.Errorf("Int.MaxValue window = %s", got)
	}
}

func TestSanitizeAndPrefixes(t *testing.T) {
	if got := Sanitize("team.name-v1/x y"); got != "team_name_v1_x_y" {
		t.Errorf("Sanitize = %s", got)
	}
	gb := &GroupBy{MetaData: &MetaData{Name: "quickstart.purchases.v1"}}
	for _, tc := range []struct {
		prefix *string
		want   string
	}{
		{nil, "quickstart_purchases_v1"},
		{Ptr("user"), "user_quickstart_purchases_v1"},
		{Ptr(""), "_quickstart_purchases_v1"},
	} {
		if got := (&JoinPart{GroupBy: gb, Prefix: tc.prefix}).FullPrefix(); got != tc.want {
			t.Errorf("FullPrefix(%v) = %s, want %s", tc.prefix, got, tc.want)
		}
	}
	if got := NameToFilePath("quickstart.training_set.v1"); got != "quickstart/training_set.v1" {
		t.Errorf("NameToFilePath = %s", got)
	}
}

func TestDerivedColumns(t *testing.T) {
	base := []string{"a", "b", "c"}
	for _, tc := range []struct {
		ds   []*Derivation
		want []string
	}{
		{nil, base},
		{[]*Derivation{{Name: "x", Expression: "a + b"}}, []string{"x"}},
		{[]*Derivation{{Name: "*", Expression: "*"}, {Name: "x", Expression: "a + b"}}, []string{"a", "b", "c", "x"}},
		// With "*", a column used verbatim by another derivation is renamed away.
		{[]*Derivation{{Name: "*", Expression: "*"}, {Name: "b2", Expression: "b"}}, []string{"a", "c", "b2"}},
		// A derivation named like a base column keeps its place.
		{[]*Derivation{{Name: "*", Expression: "*"}, {Name: "a", Expression: "coalesce(a, 0)"}}, []string{"a", "b", "c"}},
	} {
		if got := DerivedColumns(base, tc.ds); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("DerivedColumns(%v) = %v, want %v", tc.ds, got, tc.want)
		}
	}
}

func TestParseWindowAndOperation(t *testing.T) {
	for in, want := range map[string]Window{"3d": Days(3), "14 days": Days(14), "1h": Hours(1), "12hours": Hours(12)} {
		got, err := ParseWindow(in)
		if err != nil || got != want {
			t.Errorf("ParseWindow(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "d", "0d", "-1d", "3w", "1.5d", "99999999999d"} {
		if _, err := ParseWindow(bad); err == nil {
			t.Errorf("ParseWindow(%q) accepted", bad)
		}
	}
	for i, name := range operationNames {
		op, err := ParseOperation(name)
		if err != nil || int(op) != i {
			t.Errorf("ParseOperation(%s) = %v, %v", name, op, err)
		}
	}
	if op, _ := ParseOperation("LAST_K"); op != OpLastK {
		t.Error("upper case")
	}
}

func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"3d", "1h", "30 days", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWindow(s)
		if err != nil {
			return
		}
		if w.Length <= 0 || w.Unbounded() {
			t.Fatalf("%q parsed to invalid window %v", s, w)
		}
		back, err := ParseWindow(w.String())
		if err != nil || back != w {
			t.Fatalf("%q -> %v does not round trip: %v %v", s, w, back, err)
		}
	})
}

func TestMetadataKey(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		name string
		want string
	}{
		{KindJoin, "quickstart.training_set.v2", "joins/quickstart/training_set.v2"},
		{KindGroupBy, "quickstart.purchases.v1", "group_bys/quickstart/purchases.v1"},
		{KindGroupBy, "team/name", "group_bys/team/name"},
	} {
		if got := MetadataKey(tc.kind, tc.name); got != tc.want {
			t.Errorf("MetadataKey(%s, %s) = %s, want %s", tc.kind, tc.name, got, tc.want)
		}
	}
}
