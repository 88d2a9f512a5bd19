// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// The derivations of seed 004 (Chronon's "Derived Features" documentation)
// evaluated on rows checked by hand.

var (
	f64      = arrow.PrimitiveTypes.Float64
	mapF64   = arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64)
	seedSpec = []struct {
		name   string
		expr   string
		schema *arrow.Schema
		rows   []map[string]any
		want   []any
	}{
		{
			name: "z_score",
			expr: "(x - x_mean) / x_std",
			schema: arrow.NewSchema([]arrow.Field{
				{Name: "x", Type: f64, Nullable: true},
				{Name: "x_mean", Type: f64, Nullable: true},
				{Name: "x_std", Type: f64, Nullable: true},
			}, nil),
			rows: []map[string]any{
				{"x": 10.0, "x_mean": 4.0, "x_std": 2.0},   // (10-4)/2
				{"x": 1.0, "x_mean": 4.0, "x_std": 2.0},    // (1-4)/2
				{"x": 10.0, "x_mean": 4.0, "x_std": 0.0},   // division by zero
				{"x_mean": 4.0, "x_std": 2.0},              // x missing
				{"x": 10.0, "x_mean": nil, "x_std": 2.0},   // x_mean null
				{"x": 7.5, "x_mean": 7.5, "x_std": 1e-300}, // zero numerator
			},
			want: []any{3.0, -1.5, nil, nil, nil, 0.0},
		},
		{
			name: "txn_z_score",
			expr: "array_mean(map_values(map_zip_with(sample_team_card_features_v1_amount_average_by_card_id_7d, sample_team_card_features_v1_amount_variance_by_card_id_7d, (k, mean, variance) -> (txn_value - mean)/variance)))",
			schema: arrow.NewSchema([]arrow.Field{
				{Name: "txn_value", Type: f64, Nullable: true},
				{Name: "sample_team_card_features_v1_amount_average_by_card_id_7d", Type: mapF64, Nullable: true},
				{Name: "sample_team_card_features_v1_amount_variance_by_card_id_7d", Type: mapF64, Nullable: true},
			}, nil),
			rows: []map[string]any{
				// card c1: (110-100)/25 = 0.4; card c2: (110-50)/100 = 0.6; mean 0.5
				{"txn_value": 110.0,
					"sample_team_card_features_v1_amount_average_by_card_id_7d":  map[string]any{"c1": 100.0, "c2": 50.0},
					"sample_team_card_features_v1_amount_variance_by_card_id_7d": map[string]any{"c1": 25.0, "c2": 100.0}},
				// c2 has no variance: (k, mean, null) gives null, skipped by array_mean
				{"txn_value": 110.0,
					"sample_team_card_features_v1_amount_average_by_card_id_7d":  map[string]any{"c1": 100.0, "c2": 50.0},
					"sample_team_card_features_v1_amount_variance_by_card_id_7d": map[string]any{"c1": 25.0}},
				// zero variance divides to null; only c2 counts: (20-10)/5 = 2
				{"txn_value": 20.0,
					"sample_team_card_features_v1_amount_average_by_card_id_7d":  map[string]any{"c1": 20.0, "c2": 10.0},
					"sample_team_card_features_v1_amount_variance_by_card_id_7d": map[string]any{"c1": 0.0, "c2": 5.0}},
				// no transaction value: every element null, mean of nothing is null
				{"sample_team_card_features_v1_amount_average_by_card_id_7d": map[string]any{"c1": 1.0},
					"sample_team_card_features_v1_amount_variance_by_card_id_7d": map[string]any{"c1": 1.0}},
				// a missing feature map (the fetcher omits absent features)
				{"txn_value": 5.0,
					"sample_team_card_features_v1_amount_average_by_card_id_7d": map[string]any{"c1": 1.0}},
				// empty maps
				{"txn_value": 5.0,
					"sample_team_card_features_v1_amount_average_by_card_id_7d":  map[string]any{},
					"sample_team_card_features_v1_amount_variance_by_card_id_7d": map[string]any{}},
				// negative z-scores: (0-10)/4 = -2.5, (0-3)/2 = -1.5; mean -2
				{"txn_value": 0.0,
					"sample_team_card_features_v1_amount_average_by_card_id_7d":  map[string]any{"a": 10.0, "b": 3.0},
					"sample_team_card_features_v1_amount_variance_by_card_id_7d": map[string]any{"a": 4.0, "b": 2.0}},
			},
			want: []any{0.5, 0.4, 2.0, nil, nil, nil, -2.0},
		},
		{
			name: "merchant_success_rate_avg",
			expr: "array_mean(map_values(sample_team_merchant_features_v1_success_avg_by_ip_7d))",
			schema: arrow.NewSchema([]arrow.Field{
				{Name: "sample_team_merchant_features_v1_success_avg_by_ip_7d", Type: mapF64, Nullable: true},
			}, nil),
			rows: []map[string]any{
				{"sample_team_merchant_features_v1_success_avg_by_ip_7d": map[string]any{"1.1.1.1": 1.0, "2.2.2.2": 0.5}},
				{"sample_team_merchant_features_v1_success_avg_by_ip_7d": map[string]any{"10.0.0.1": 0.25}},
				{"sample_team_merchant_features_v1_success_avg_by_ip_7d": map[string]any{"a": 0.0, "b": 1.0, "c": 0.5, "d": nil}},
				{"sample_team_merchant_features_v1_success_avg_by_ip_7d": map[string]any{}},
				{},
			},
			want: []any{0.75, 0.25, 0.5, nil, nil},
		},
	}
)

func TestSeed004Derivations(t *testing.T) {
	for _, c := range seedSpec {
		t.Run(c.name, func(t *testing.T) {
			got, p := evalBoth(t, c.expr, c.schema, c.rows)
			if !arrow.TypeEqual(p.Type(), f64) {
				t.Fatalf("type %s, want double", p.Type())
			}
			for i := range c.rows {
				if !valuesEqual(got[i], c.want[i]) {
					t.Errorf("row %d: got %s, want %s", i, show(got[i]), show(c.want[i]))
				}
			}
		})
	}
}

// TestSeed004Projection runs the join derivations together as a projection,
// as the join and the fetcher apply them.
func TestSeed004Projection(t *testing.T) {
	c := seedSpec[1]
	p, err := CompileProjection([][2]string{{"txn_z_score", c.expr}, {"txn_value", "txn_value"}}, nil, c.schema)
	if err != nil {
		t.Fatal(err)
	}
	rec := buildBatch(t, c.schema, c.rows)
	defer rec.Release()
	out, err := p.Apply(rec)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	for i, row := range c.rows {
		got := ValueAt(out.Column(0), i)
		if !valuesEqual(got, c.want[i]) {
			t.Errorf("batch row %d: got %s, want %s", i, show(got), show(c.want[i]))
		}
		m, keep, err := p.ApplyRow(row)
		if err != nil || !keep {
			t.Fatalf("ApplyRow: %v %v", keep, err)
		}
		if !valuesEqual(m["txn_z_score"], c.want[i]) {
			t.Errorf("row %d: got %s, want %s", i, show(m["txn_z_score"]), show(c.want[i]))
		}
	}
}
