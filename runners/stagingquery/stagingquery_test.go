// SPDX-License-Identifier: Apache-2.0

package stagingquery

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

func TestPlanSteps(t *testing.T) {
	for _, tc := range []struct {
		days []string
		step int
		want []Step
	}{
		{nil, 30, nil},
		{[]string{"2023-11-01"}, 30, []Step{{Start: "2023-11-01", End: "2023-11-01"}}},
		{[]string{"2023-11-01", "2023-11-02", "2023-11-03"}, 30, []Step{{Start: "2023-11-01", End: "2023-11-03"}}},
		{[]string{"2023-11-01", "2023-11-02", "2023-11-03"}, 2, []Step{{Start: "2023-11-01", End: "2023-11-02"}, {Start: "2023-11-03", End: "2023-11-03"}}},
		{[]string{"2023-11-01", "2023-11-02", "2023-11-03"}, 1, []Step{{Start: "2023-11-01", End: "2023-11-01"}, {Start: "2023-11-02", End: "2023-11-02"}, {Start: "2023-11-03", End: "2023-11-03"}}},
		// A hole splits the run; month and year ends do not.
		{[]string{"2023-12-30", "2023-12-31", "2024-01-01", "2024-01-03"}, 30, []Step{{Start: "2023-12-30", End: "2024-01-01"}, {Start: "2024-01-03", End: "2024-01-03"}}},
	} {
		got, err := planSteps(tc.days, tc.step)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("planSteps(%v, %d) = %+v, %v; want %+v", tc.days, tc.step, got, err, tc.want)
		}
	}
}

func TestRunOptionErrors(t *testing.T) {
	wh := openWarehouse(t)
	good := "SELECT user_id, ds FROM data.purchases WHERE ds BETWEEN '{{ start_date }}' AND '{{ end_date }}'"
	for _, tc := range []struct {
		name string
		edit func(sq *api.StagingQuery)
		opts Options
		want string
	}{
		{"no end", nil, Options{}, "no end partition given"},
		{"bad end", nil, Options{EndDS: "2023-11-1"}, `bad end partition "2023-11-1"`},
		{"bad start", nil, Options{StartDS: "x", EndDS: "2023-11-01"}, `bad start partition "x"`},
		{"start after end", nil, Options{StartDS: "2023-11-05", EndDS: "2023-11-01"}, "start partition 2023-11-05 is after end partition 2023-11-01"},
		{"negative step", nil, Options{EndDS: "2023-11-01", StepDays: -1}, "step days -1"},
		{"empty query", func(sq *api.StagingQuery) { sq.Query = " " }, Options{EndDS: "2023-11-01"}, "query: is empty"},
		{"no namespace", func(sq *api.StagingQuery) { sq.MetaData.OutputNamespace = "" }, Options{EndDS: "2023-11-01"}, "outputNamespace is empty"},
		{"whole query using start_date", func(sq *api.StagingQuery) { sq.StartPartition = "" }, Options{EndDS: "2023-11-01"},
			"the query uses {{ start_date }} but the staging query has no startPartition"},
		{"bad template", func(sq *api.StagingQuery) { sq.Query, sq.StartPartition = "SELECT {{ nope }}", "" }, Options{EndDS: "2023-11-01"},
			`unknown template variable "nope"`},
	} {
		sq := stagingQuery(good, "2023-11-01")
		if tc.edit != nil {
			tc.edit(sq)
		}
		res, err := Run(context.Background(), wh, sq, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "staging query team.daily.v1: ") {
			t.Errorf("%s: Run = %+v, %v; want an error naming team.daily.v1 containing %q", tc.name, res, err, tc.want)
		}
	}
	if _, err := wh.Describe(context.Background(), "out.team_daily_v1"); !errors.Is(err, warehouse.ErrTableNotFound) {
		t.Errorf("output table written by failed runs: %v", err)
	}
}

func TestStoredField(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)

	dec := func(scale int32, vals ...string) arrow.Array {
		typ := &arrow.Decimal128Type{Precision: 38, Scale: scale}
		b := array.NewDecimal128Builder(mem, typ)
		defer b.Release()
		for _, v := range vals {
			if v == "" {
				b.AppendNull()
				continue
			}
			n, err := decimal128.FromString(v, 38, scale)
			if err != nil {
				t.Fatal(err)
			}
			b.Append(n)
		}
		return b.NewArray()
	}
	convert := func(f arrow.Field, in arrow.Array) (arrow.Field, string, error) {
		t.Helper()
		defer in.Release()
		out, conv := storedField(f)
		if conv == nil {
			return out, in.String(), nil
		}
		a, err := conv(mem, in)
		if err != nil {
			return out, "", err
		}
		defer a.Release()
		if !arrow.TypeEqual(a.DataType(), out.Type) {
			t.Errorf("%s: converted to %s, field says %s", f.Name, a.DataType(), out.Type)
		}
		return out, a.String(), nil
	}

	for _, tc := range []struct {
		name     string
		in       func() arrow.Array
		wantType arrow.DataType
		want     string
	}{
		{"hugeint", func() arrow.Array { return dec(0, "12", "", "-9223372036854775808", "9223372036854775807") },
			arrow.PrimitiveTypes.Int64, "[12 (null) -9223372036854775808 9223372036854775807]"},
		{"decimal", func() arrow.Array { return dec(2, "1.25", "", "-3.5") }, arrow.PrimitiveTypes.Float64, "[1.25 (null) -3.5]"},
		{"null", func() arrow.Array { return array.NewNull(2) }, arrow.BinaryTypes.String, `[(null) (null)]`},
		{"seconds", func() arrow.Array {
			b := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"})
			defer b.Release()
			b.Append(1700000000)
			b.AppendNull()
			return b.NewArray()
		}, &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, "[1700000000000 (null)]"},
		{"long kept", func() arrow.Array {
			b := array.NewInt64Builder(mem)
			defer b.Release()
			b.Append(3)
			return b.NewArray()
		}, arrow.PrimitiveTypes.Int64, "[3]"},
	} {
		in := tc.in()
		f, got, err := convert(arrow.Field{Name: tc.name, Type: in.DataType()}, in)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !arrow.TypeEqual(f.Type, tc.wantType) || !f.Nullable || f.Name != tc.name {
			t.Errorf("%s: stored as %v, want nullable %s", tc.name, f, tc.wantType)
		}
		if got != tc.want {
			t.Errorf("%s: converted to %s, want %s", tc.name, got, tc.want)
		}
	}

	_, _, err := convert(arrow.Field{Name: "big", Type: &arrow.Decimal128Type{Precision: 38}}, dec(0, "1", "9223372036854775808"))
	if err == nil || !strings.Contains(err.Error(), "value 9223372036854775808 does not fit a long") {
		t.Errorf("overflow: %v", err)
	}
}

// TestUpToDate runs a staging query whose output table already has every
// partition under the current semantic hash: nothing is computed, and no
// SQL engine is needed (so it passes without cgo too).
func TestUpToDate(t *testing.T) {
	wh := openWarehouse(t)
	ctx := context.Background()
	sq := stagingQuery("SELECT user_id, ds FROM data.purchases WHERE ds BETWEEN '{{ start_date }}' AND '{{ end_date }}'", "2023-11-01")
	schema := arrow.NewSchema([]arrow.Field{{Name: "user_id", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	txn, err := wh.Begin(ctx, sq.MetaData.OutputTable(), schema, warehouse.WriteOptions{SemanticHash: sq.SemanticHash()})
	if err != nil {
		t.Fatal(err)
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	empty := rb.NewRecordBatch()
	rb.Release()
	defer empty.Release()
	for _, ds := range []string{"2023-11-01", "2023-11-02"} {
		if err := txn.Write(ctx, ds, empty); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, wh, sq, Options{EndDS: "2023-11-02"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Partitions) != 0 || len(res.Steps) != 0 || res.Stale || res.Table != "out.team_daily_v1" || len(res.Warnings) != 0 {
		t.Errorf("result = %+v, want nothing computed", res)
	}
	// A table without a semantic hash (not written by a staging query) is
	// kept as it is, with a warning.
	other := *sq
	other.MetaData = &api.MetaData{Name: "team.other.v1", OutputNamespace: "out"}
	txn, err = wh.Begin(ctx, other.MetaData.OutputTable(), schema, warehouse.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := txn.Write(ctx, "2023-11-01", empty); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	res, err = Run(ctx, wh, &other, Options{EndDS: "2023-11-01"})
	if err != nil || len(res.Partitions) != 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "out.team_other_v1 has no semantic hash") {
		t.Errorf("table without a hash: %+v, %v", res, err)
	}
	// A start partition after the end: nothing to compute, with a warning.
	sq.StartPartition = "2023-12-01"
	res, err = Run(ctx, wh, sq, Options{EndDS: "2023-11-02"})
	if err != nil || len(res.Partitions) != 0 || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "after the end") {
		t.Errorf("start after end: %+v, %v", res, err)
	}
}

func TestRunNil(t *testing.T) {
	if _, err := Run(context.Background(), nil, nil, Options{}); err == nil {
		t.Error("Run(nil StagingQuery) succeeded")
	}
	_, err := Run(context.Background(), nil, stagingQuery("SELECT 1", ""), Options{EndDS: "2023-11-01"})
	if err == nil || !strings.Contains(err.Error(), "staging query team.daily.v1: nil warehouse") {
		t.Errorf("Run(nil warehouse) = %v", err)
	}
}
