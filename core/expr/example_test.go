// SPDX-License-Identifier: Apache-2.0

package expr_test

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/expr"
)

func ExampleCompile() {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "x_mean", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "x_std", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	p, err := expr.Compile("(x - x_mean) / x_std", schema)
	if err != nil {
		panic(err)
	}
	// online: one row
	v, _ := p.EvalRow(map[string]any{"x": 10.0, "x_mean": 4.0, "x_std": 2.0})
	fmt.Println(p.Type(), v)

	// offline: a batch
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Float64Builder).AppendValues([]float64{10, 1}, nil)
	b.Field(1).(*array.Float64Builder).AppendValues([]float64{4, 4}, nil)
	b.Field(2).(*array.Float64Builder).AppendValues([]float64{2, 0}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	arr, _ := p.EvalBatch(rec)
	defer arr.Release()
	fmt.Println(arr)

	_, err = expr.Compile("(x - x_maen) / x_std", schema)
	fmt.Println(err)
	// Output:
	// float64 3
	// [3 (null)]
	// 1:6: unknown column "x_maen" (did you mean "x_mean"?)
}

func ExampleCompileProjection() {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "user_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "price", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	p, err := expr.CompileProjection([][2]string{
		{"user_id", "user_id"},
		{"price_cents", "cast(round(price * 100) as bigint)"},
		{"day", "from_unixtime(ts / 1000, 'yyyy-MM-dd')"},
	}, []string{"price > 0"}, schema)
	if err != nil {
		panic(err)
	}
	out, keep, _ := p.ApplyRow(map[string]any{"user_id": "u1", "price": 12.345, "ts": int64(1700000000000)})
	fmt.Println(keep, out["user_id"], out["price_cents"], out["day"])
	_, keep, _ = p.ApplyRow(map[string]any{"user_id": "u2", "price": nil})
	fmt.Println(keep)
	// Output:
	// true u1 1235 2023-11-14
	// false
}

func ExampleConstant() {
	for _, key := range []string{"'abc'", "42", "-1.5", "DATE '2024-01-01'", "null"} {
		v, t, _ := expr.Constant(key)
		fmt.Println(v, t)
	}
	// Output:
	// abc utf8
	// 42 int32
	// -1.5 float64
	// 2024-01-01 date32
	// <nil> null
}
