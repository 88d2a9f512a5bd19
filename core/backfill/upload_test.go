// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/online"
)

// TestUploadValues uploads a TEMPORAL and a SNAPSHOT GroupBy of the same
// events and decodes what each key stores: the batch value serves the
// exact windowed sums just after the batch end, the snapshot value is the
// finalized sums as of the batch end.
func TestUploadValues(t *testing.T) {
	i64, str := arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String
	table := fields("user", str, "price", i64, "ts", i64)
	schemas := func(string) (*arrow.Schema, error) { return table, nil }
	day := int64(19724) // 2024-01-02
	ds := "2024-01-02"
	end := (day + 1) * dayMs
	for _, acc := range []api.Accuracy{api.Temporal, api.Snapshot} {
		g := api.NewGroupBy("t.gb", []*api.Source{api.EventsSource("t.p", api.NewQuery(api.Selects("user", "price"), "ts"))},
			[]string{"user"}, api.Sum("price", api.Days(1)), api.CountOf("price"))
		g.Accuracy = api.Ptr(acc)
		u, err := CompileUpload(g, schemas, "exact", ds)
		if err != nil {
			t.Fatal(err)
		}
		// a: 5 two days before, 7 an hour before the batch end, 100 after it
		// (ignored). b: 1 at the start of the day.
		scanned := record(t, ScanSchema(table),
			[]any{"a", "a", "b", "a"}, []any{int64(5), int64(7), int64(1), int64(100)},
			[]any{end - 2*dayMs, end - 3600_000, end - dayMs, end + 1},
			[]any{ds, ds, ds, ds})
		rows, err := u.Part.EventRows(0, false, scanned, day)
		if err != nil {
			t.Fatal(err)
		}
		out, err := u.Evaluate([]arrow.RecordBatch{rows})
		if err != nil {
			t.Fatal(err)
		}
		if out.NumRows() != 2 {
			t.Fatalf("%v: %d keys uploaded, want 2", acc, out.NumRows())
		}
		want := map[string][]any{"a": {int64(7), int64(2)}, "b": {int64(1), int64(1)}}
		keys, vals := out.Column(0), out.Column(1)
		for i := 0; i < int(out.NumRows()); i++ {
			user := ""
			for u := range want {
				k, _ := online.AppendKey(nil, []any{u})
				if string(k) == string(keyAt(keys, i)) {
					user = u
				}
			}
			if user == "" {
				t.Fatalf("unknown key bytes %q", keyAt(keys, i))
			}
			var got []any
			if acc == api.Temporal {
				bv, err := u.Part.GroupBy.Spec.DecodeBatchValue(keyAt(vals, i))
				if err != nil {
					t.Fatal(err)
				}
				// Just after the batch end, the 1-day window still holds 7
				// (and for b the event at exactly end - 1 day).
				if got, err = u.Part.GroupBy.Spec.Fetch(bv, nil, end); err != nil {
					t.Fatal(err)
				}
			} else if got, err = online.DecodeRow(keyAt(vals, i), u.ValueTypes()); err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0] != want[user][0] || got[1] != want[user][1] {
				t.Errorf("%v: key %s: values %v, want %v", acc, user, got, want[user])
			}
		}
	}
}

func keyAt(a arrow.Array, i int) []byte {
	return a.(interface{ Value(int) []byte }).Value(i)
}
