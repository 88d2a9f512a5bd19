// SPDX-License-Identifier: Apache-2.0

package warehousesql

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/plugins/warehouse"
)

func TestSplitTable(t *testing.T) {
	for _, tc := range []struct {
		in, ns, table string
		ok            bool
	}{
		{"data.purchases", "data", "purchases", true},
		{"my-ns.a.b", "my-ns", "a.b", true},
		{`n"s.t'1`, `n"s`, "t'1", true},
		{"nodot", "", "", false},
		{".t", "", "", false},
		{"ns.", "", "", false},
		{"ns.t\x00", "", "", false},
	} {
		ns, table, err := splitTable(tc.in)
		if (err == nil) != tc.ok || ns != tc.ns || table != tc.table {
			t.Errorf("splitTable(%q) = %q, %q, %v", tc.in, ns, table, err)
		}
	}
}

func TestQuote(t *testing.T) {
	if got := quoteIdent(`we"ird`); got != `"we""ird"` {
		t.Errorf("quoteIdent = %s", got)
	}
	if got := quoteString(`it's`); got != `'it''s'` {
		t.Errorf("quoteString = %s", got)
	}
}

func TestDuckType(t *testing.T) {
	for _, tc := range []struct {
		in   arrow.DataType
		want string
	}{
		{arrow.PrimitiveTypes.Int64, "BIGINT"},
		{arrow.PrimitiveTypes.Int32, "INTEGER"},
		{arrow.PrimitiveTypes.Uint16, "USMALLINT"},
		{arrow.PrimitiveTypes.Float64, "DOUBLE"},
		{arrow.PrimitiveTypes.Float32, "FLOAT"},
		{arrow.BinaryTypes.String, "VARCHAR"},
		{arrow.BinaryTypes.LargeString, "VARCHAR"},
		{arrow.FixedWidthTypes.Boolean, "BOOLEAN"},
		{arrow.BinaryTypes.Binary, "BLOB"},
		{arrow.FixedWidthTypes.Date32, "DATE"},
		{&arrow.TimestampType{Unit: arrow.Millisecond}, "TIMESTAMP"},
		{&arrow.TimestampType{Unit: arrow.Nanosecond}, "TIMESTAMP_NS"},
		{&arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, "TIMESTAMPTZ"},
		{&arrow.Decimal128Type{Precision: 12, Scale: 2}, "DECIMAL(12,2)"},
		{arrow.ListOf(arrow.ListOf(arrow.PrimitiveTypes.Int64)), "BIGINT[][]"},
		{arrow.LargeListOf(arrow.BinaryTypes.String), "VARCHAR[]"},
		{arrow.MapOf(arrow.BinaryTypes.String, arrow.ListOf(arrow.PrimitiveTypes.Float64)), "MAP(VARCHAR, DOUBLE[])"},
		{arrow.StructOf(
			arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64},
			arrow.Field{Name: `b "c"`, Type: arrow.MapOf(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String)},
		), `STRUCT("a" BIGINT, "b ""c""" MAP(INTEGER, VARCHAR))`},
		{&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, "VARCHAR"},
	} {
		got, err := duckType(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("duckType(%s) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := duckType(&arrow.Decimal256Type{Precision: 50}); err == nil {
		t.Error("decimal(50): want error")
	}
}

func TestHiveLayout(t *testing.T) {
	part := func(ds string, files ...string) []warehouse.Partition {
		return []warehouse.Partition{{DS: ds, Files: files}}
	}
	for _, tc := range []struct {
		parts []warehouse.Partition
		want  bool
	}{
		{part("2023-11-01", "/w/ns/t/ds=2023-11-01/part-0.parquet"), true},
		{part("2023-11-01", "s3://bucket/ns/t/ds=2023-11-01/part-0.parquet"), true},
		{part("2023-11-01", `C:\w\ns\t\ds=2023-11-01\part-0.parquet`), true},
		{part("2023-11-01", "/w/ns/t/ds=2023-11-02/part-0.parquet"), false},
		{part("2023-11-01", "/w/ns/t/part-0.parquet"), false},
		{part("2023-11-01", "/a=b/ns/t/ds=2023-11-01/part-0.parquet"), false},
		{part("2023-11-01", "/w/ds=2023-11-01/ds=2023-11-01/part-0.parquet"), false},
		{part("2023-11-01", "/w/ns/t/ds=2023-11-01/p=1.parquet"), true},
	} {
		if got := hiveLayout(tc.parts); got != tc.want {
			t.Errorf("hiveLayout(%v) = %v, want %v", tc.parts[0].Files, got, tc.want)
		}
	}
}

func TestViewSQL(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	got, err := viewSQL(&warehouse.TableInfo{Name: "ns.t", Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	want := "CREATE SCHEMA IF NOT EXISTS \"ns\";\nCREATE OR REPLACE VIEW \"ns\".\"t\" AS\n" +
		`SELECT CAST(NULL AS BIGINT) AS "id", CAST(NULL AS VARCHAR) AS "ds" WHERE false`
	if got != want {
		t.Errorf("empty table view:\n%s\nwant:\n%s", got, want)
	}
	got, err = viewSQL(&warehouse.TableInfo{Name: "ns.t", Schema: schema, Partitions: []warehouse.Partition{
		{DS: "2023-11-01", Files: []string{"/w/ns/t/ds=2023-11-01/it's.parquet"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, `read_parquet(['/w/ns/t/ds=2023-11-01/it''s.parquet'], hive_partitioning = true`) {
		t.Errorf("view of a Hive table:\n%s", got)
	}
	odd := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.FixedWidthTypes.MonthInterval}, {Name: "u", Type: arrow.SparseUnionOf(nil, nil)}}, nil)
	if _, err := viewSQL(&warehouse.TableInfo{Name: "ns.t", Schema: odd}); err == nil || !strings.Contains(err.Error(), `column "u"`) {
		t.Errorf("unsupported type: got %v", err)
	}
}

func TestViewSQLRemoteFiles(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	for _, tc := range []struct {
		file   string
		remote bool
	}{
		{"/w/ns/t/ds=2023-11-01/part-0.parquet", false},
		{"file:///w/ns/t/ds=2023-11-01/part-0.parquet", false},
		{"gs://bucket/wh/ns/t/ds=2023-11-01/part-0.parquet", true},
		{"s3://bucket/ns/t/ds=2023-11-01/part-0.parquet", true},
	} {
		info := &warehouse.TableInfo{Name: "ns.t", Schema: schema,
			Partitions: []warehouse.Partition{{DS: "2023-11-01", Files: []string{tc.file}}}}
		_, err := viewSQL(info)
		if tc.remote != (err != nil) {
			t.Errorf("viewSQL(%s): %v", tc.file, err)
			continue
		}
		if tc.remote && (!errors.Is(err, ErrRemoteFiles) || !strings.Contains(err.Error(), "ns.t") || !strings.Contains(err.Error(), tc.file)) {
			t.Errorf("viewSQL(%s): %v, want ErrRemoteFiles naming the table and file", tc.file, err)
		}
	}
}
