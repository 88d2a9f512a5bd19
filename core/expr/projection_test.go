// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

var purchases = arrow.NewSchema([]arrow.Field{
	{Name: "user_id", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "country", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
}, nil)

func TestProjection(t *testing.T) {
	p, err := CompileProjection([][2]string{
		{"user", "user_id"},
		{"amount_usd", "amount * 2"},
		{"is_big", "amount > 100"},
		{"day", "from_unixtime(ts / 1000, 'yyyy-MM-dd')"},
		{"tags", "tags"},
		{"n_tags", "size(tags)"},
	}, []string{"amount IS NOT NULL", "country IN ('US', 'CA')"}, purchases)
	if err != nil {
		t.Fatal(err)
	}
	rows := []map[string]any{
		{"user_id": "u1", "amount": 150.0, "country": "US", "ts": int64(1700000000123), "tags": []any{"a"}},
		{"user_id": "u2", "amount": nil, "country": "US", "ts": int64(0)},
		{"user_id": "u3", "amount": 5.0, "country": "FR", "ts": int64(0)},
		{"user_id": "u4", "amount": 5.0, "country": nil, "ts": int64(0)}, // null filter → dropped
		{"user_id": nil, "amount": 7.0, "country": "CA", "ts": nil, "tags": []any{}},
	}
	want := []map[string]any{
		{"user": "u1", "amount_usd": 300.0, "is_big": true, "day": "2023-11-14", "tags": []any{"a"}, "n_tags": int32(1)},
		{"user": nil, "amount_usd": 14.0, "is_big": false, "day": nil, "tags": []any{}, "n_tags": int32(0)},
	}
	rec := buildBatch(t, purchases, rows)
	defer rec.Release()
	out, err := p.Apply(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if !out.Schema().Equal(p.Schema()) {
		t.Fatalf("schema %s, want %s", out.Schema(), p.Schema())
	}
	if out.NumRows() != int64(len(want)) {
		t.Fatalf("%d rows, want %d", out.NumRows(), len(want))
	}
	for i, w := range want {
		for j, f := range p.Schema().Fields() {
			if got := ValueAt(out.Column(j), i); !valuesEqual(got, w[f.Name]) {
				t.Errorf("row %d %s = %s, want %s", i, f.Name, show(got), show(w[f.Name]))
			}
		}
	}
	// ApplyRow agrees
	k := 0
	for _, row := range rows {
		got, keep, err := p.ApplyRow(row)
		if err != nil {
			t.Fatal(err)
		}
		if !keep {
			continue
		}
		if !valuesEqual(got, want[k]) {
			t.Errorf("ApplyRow %d = %s, want %s", k, show(got), show(want[k]))
		}
		k++
	}
	if k != len(want) {
		t.Errorf("ApplyRow kept %d rows, want %d", k, len(want))
	}
	if got := strings.Join(p.Columns(), ","); got != "user_id,amount,ts,tags,country" {
		t.Errorf("Columns() = %s", got)
	}
}

func TestProjectionNoFilterAndPassThrough(t *testing.T) {
	p, err := CompileProjection([][2]string{{"u", "user_id"}, {"a", "amount"}}, nil, purchases)
	if err != nil {
		t.Fatal(err)
	}
	rec := buildBatch(t, purchases, []map[string]any{{"user_id": "x", "amount": 1.0}, {}})
	defer rec.Release()
	out, err := p.Apply(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if out.NumRows() != 2 || ValueAt(out.Column(0), 0) != "x" || ValueAt(out.Column(1), 1) != nil {
		t.Errorf("unexpected output %v", out)
	}
	// nothing passes
	p2, err := CompileProjection([][2]string{{"u", "user_id"}, {"n", "size(tags)"}}, []string{"false"}, purchases)
	if err != nil {
		t.Fatal(err)
	}
	out2, err := p2.Apply(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out2.Release()
	if out2.NumRows() != 0 || out2.Column(1).Len() != 0 {
		t.Errorf("want an empty batch, got %d rows", out2.NumRows())
	}
}

func TestProjectionErrors(t *testing.T) {
	_, err := CompileProjection([][2]string{{"a", "amount"}, {"a", "amount"}}, nil, purchases)
	if err == nil || !strings.Contains(err.Error(), `select "a" given twice`) {
		t.Errorf("duplicate select: %v", err)
	}
	_, err = CompileProjection([][2]string{{"a", "amont"}}, nil, purchases)
	var te *TypeError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), `select "a": 1:1: unknown column "amont" (did you mean "amount"?)`) {
		t.Errorf("unknown column: %v", err)
	}
	_, err = CompileProjection(nil, []string{"amount"}, purchases)
	if err == nil || !strings.Contains(err.Error(), "a filter must be boolean, not double") {
		t.Errorf("non-boolean where: %v", err)
	}
	_, err = CompileProjection(nil, []string{"amount >"}, purchases)
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), `where 1 "amount >": 1:9: unexpected end of input`) {
		t.Errorf("bad where: %v", err)
	}
}

// TestConcurrentUse evaluates one Program and one Projection from several
// goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	p, err := Compile("array_mean(transform(darr, x -> x * d)) + size(filter(sarr, x -> x LIKE 'a%'))", testSchema)
	if err != nil {
		t.Fatal(err)
	}
	rec := buildBatch(t, testSchema, []map[string]any{r0, {}, r0})
	defer rec.Release()
	done := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for k := 0; k < 50; k++ {
				arr, err := p.EvalBatch(rec)
				if err != nil {
					done <- err
					return
				}
				v, err := p.EvalRow(r0)
				if err != nil {
					done <- err
					return
				}
				if !valuesEqual(ValueAt(arr, 0), v) {
					done <- errors.New("batch and row disagree")
					return
				}
				arr.Release()
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
