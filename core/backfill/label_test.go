// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/expr"
)

// TestLeftDays checks Chronon's inclusive offsets (LabelJoin.scala: label_ds
// 04-03 with both offsets 3 refreshes 04-01; join.py: label_ds 2023-04-30,
// offsets 30 and 10 refresh 2023-04-01..2023-04-21).
func TestLeftDays(t *testing.T) {
	for _, c := range []struct {
		start, end int32
		label      string
		want       [2]string
	}{
		{3, 3, "2023-04-03", [2]string{"2023-04-01", "2023-04-01"}},
		{30, 10, "2023-04-30", [2]string{"2023-04-01", "2023-04-21"}},
		{1, 1, "2023-04-30", [2]string{"2023-04-30", "2023-04-30"}},
		{30, 0, "2023-09-30", [2]string{"2023-09-01", "2023-10-01"}},
	} {
		s, e, err := LeftDays(&api.LabelPart{LeftStartOffset: c.start, LeftEndOffset: c.end}, c.label)
		if err != nil || [2]string{s, e} != c.want {
			t.Errorf("LeftDays(%d, %d, %s) = %s..%s, %v; want %v", c.start, c.end, c.label, s, e, err, c.want)
		}
	}
}

func rowStrings(rec arrow.RecordBatch) []string {
	var out []string
	for i := 0; i < int(rec.NumRows()); i++ {
		var s string
		for c := range rec.Columns() {
			s += fmt.Sprint(expr.ValueAt(rec.Column(c), i), " ")
		}
		out = append(out, s)
	}
	return out
}

var (
	tStr = arrow.BinaryTypes.String
	tI64 = arrow.PrimitiveTypes.Int64
)

// TestLabeledRows: every version per feature row in _labeled, the
// partition's newest in _labeled_latest; a null key matches nothing.
func TestLabeledRows(t *testing.T) {
	features := record(t, fields("k", tStr, "f", tI64, "ds", tStr),
		[]any{"a", "b", nil, "c"}, []any{int64(1), int64(2), int64(3), int64(4)}, []any{"d", "d", "d", "d"})
	labels := record(t, fields("k", tStr, "v", tI64, LabelDSColumn, tStr, "ds", tStr),
		[]any{"a", "a", "b", nil, "c"}, []any{int64(20), int64(10), int64(11), int64(99), nil},
		[]any{"L2", "L1", "L1", "L2", "L2"}, []any{"d", "d", "d", "d", "d"})
	schema, err := LabeledSchema(features.Schema(), labels.Schema(), []string{"k"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(schema.Fields()), fmt.Sprint(fields("k", tStr, "f", tI64, "label_v", tI64, LabelDSColumn, tStr).Fields()); got != want {
		t.Errorf("schema %s, want %s", got, want)
	}
	for _, c := range []struct {
		latest bool
		want   []string
	}{
		{false, []string{"a 1 10 L1 ", "a 1 20 L2 ", "b 2 11 L1 ", "<nil> 3 <nil> <nil> ", "c 4 <nil> L2 "}},
		// b has only L1: Chronon's latest view drops it for that ds.
		{true, []string{"a 1 20 L2 ", "c 4 <nil> L2 "}},
	} {
		rec, err := LabeledRows(schema, features, labels, []string{"k"}, c.latest)
		if err != nil {
			t.Fatal(err)
		}
		if got := rowStrings(rec); !reflect.DeepEqual(got, c.want) {
			t.Errorf("latest=%v:\n got %q\nwant %q", c.latest, got, c.want)
		}
	}
	// Without labels, feature rows keep null labels.
	rec, err := LabeledRows(schema, features, nil, []string{"k"}, true)
	if err != nil || rec.NumRows() != 4 {
		t.Errorf("no labels: %v rows, %v", rec.NumRows(), err)
	}
}

// TestMergeLabelVersion: a version's rows are replaced, other versions kept
// under the union schema.
func TestMergeLabelVersion(t *testing.T) {
	old := record(t, fields("k", tStr, "v", tI64, LabelDSColumn, tStr), []any{"a", "a"}, []any{int64(1), int64(2)}, []any{"L1", "L2"})
	fresh := record(t, fields("k", tStr, "w", tStr, LabelDSColumn, tStr), []any{"a"}, []any{"x"}, []any{"L2"})
	schema, err := UnionSchema(fresh.Schema(), old.Schema())
	if err != nil {
		t.Fatal(err)
	}
	out, err := MergeLabelVersion(schema, []arrow.RecordBatch{old}, fresh, "L2")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range out {
		got = append(got, rowStrings(r)...)
	}
	if want := []string{"a <nil> L1 1 ", "a x L2 <nil> "}; !reflect.DeepEqual(got, want) {
		t.Errorf("merged %q, want %q", got, want)
	}
	if _, err := UnionSchema(fields("v", tI64), fields("v", tStr)); err == nil {
		t.Error("UnionSchema accepted a column changing type")
	}
}
