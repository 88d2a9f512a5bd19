// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/plugins/warehouse"
)

// TestReplace: a Replace transaction leaves exactly its schema and its
// partitions, and the dropped partitions' files are deleted.
func TestReplace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		w := e.open(t, nil)
		ab := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, {Name: "b", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
		mem := memory.DefaultAllocator
		writeTxn(t, w, "ns.t", ab, warehouse.WriteOptions{SemanticHash: "h1"}, map[string][]arrow.RecordBatch{
			"2024-01-01": {recordJSON(t, mem, ab, `[{"a": 1, "b": "x"}]`)},
			"2024-01-02": {recordJSON(t, mem, ab, `[{"a": 2, "b": "y"}]`)},
		})
		before, err := w.Describe(context.Background(), "ns.t")
		if err != nil {
			t.Fatal(err)
		}
		ac := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}, {Name: "c", Type: arrow.PrimitiveTypes.Float64, Nullable: true}}, nil)
		writeTxn(t, w, "ns.t", ac, warehouse.WriteOptions{Mode: warehouse.Replace, SemanticHash: "h2"}, map[string][]arrow.RecordBatch{
			"2024-01-02": {recordJSON(t, mem, ac, `[{"a": 3, "c": 0.5}]`)},
		})
		info, err := w.Describe(context.Background(), "ns.t")
		if err != nil {
			t.Fatal(err)
		}
		if !info.Schema.Equal(ac) || info.SemanticHash != "h2" || len(info.Partitions) != 1 || info.Partitions[0].DS != "2024-01-02" {
			t.Fatalf("after Replace: schema %v, hash %q, partitions %v", info.Schema, info.SemanticHash, info.Partitions)
		}
		rows := scanAll(t, w, "ns.t", warehouse.ScanOptions{}).rows
		if len(rows) != 1 || fmt.Sprint(rows[0]["a"]) != "3" {
			t.Errorf("rows %v", rows)
		}
		for _, p := range before.Partitions {
			for _, f := range p.Files {
				if _, err := e.stat(t, f); err == nil {
					t.Errorf("file %s of the replaced table still exists", f)
				}
			}
		}
	})
}
