// SPDX-License-Identifier: Apache-2.0

//go:build cgo

package warehousesql

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// fakeWarehouse serves table descriptions; only Tables and Describe work.
type fakeWarehouse struct {
	mu     sync.Mutex
	tables map[string]*warehouse.TableInfo
}

func (w *fakeWarehouse) put(info *warehouse.TableInfo) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tables == nil {
		w.tables = map[string]*warehouse.TableInfo{}
	}
	w.tables[info.Name] = info
}

func (w *fakeWarehouse) Tables(context.Context) ([]string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var names []string
	for n := range w.tables {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

func (w *fakeWarehouse) Describe(_ context.Context, table string) (*warehouse.TableInfo, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	info, ok := w.tables[table]
	if !ok {
		return nil, fmt.Errorf("%w: %s", warehouse.ErrTableNotFound, table)
	}
	return info, nil
}

func (w *fakeWarehouse) Scan(context.Context, string, warehouse.ScanOptions) (warehouse.Scanner, error) {
	return nil, errors.New("fake: Scan not implemented")
}

func (w *fakeWarehouse) Begin(context.Context, string, *arrow.Schema, warehouse.WriteOptions) (warehouse.Txn, error) {
	return nil, errors.New("fake: Begin not implemented")
}

func (w *fakeWarehouse) Close() error { return nil }

// writeParquet writes the rows of a DuckDB query to a Parquet file at
// root/rel (directories created) and returns its path.
func writeParquet(t *testing.T, root, rel, query string) string {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet)", query, quoteString(path))); err != nil {
		t.Fatalf("write %s: %v", rel, err)
	}
	return path
}

var purchasesSchema = arrow.NewSchema([]arrow.Field{
	{Name: "user_id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64},
	{Name: "coupon", Type: arrow.BinaryTypes.String, Nullable: true}, // added on 2023-11-02
}, nil)

// purchases writes data.purchases: 3 rows on 2023-11-01, 2 rows with an added
// column on 2023-11-02, and an uncommitted file that must not be read.
func purchases(t *testing.T, root string) *warehouse.TableInfo {
	p1 := writeParquet(t, root, "data/purchases/ds=2023-11-01/part-0.parquet",
		"SELECT i::BIGINT AS user_id, i * 1.5 AS amount FROM range(3) t(i)")
	p2 := writeParquet(t, root, "data/purchases/ds=2023-11-02/part-0.parquet",
		"SELECT 10::BIGINT AS user_id, 2.0 AS amount, 'HALF' AS coupon UNION ALL SELECT 11, 3.0, NULL")
	writeParquet(t, root, "data/purchases/ds=2023-11-01/part-orphan.parquet",
		"SELECT i::BIGINT AS user_id, 0.0 AS amount FROM range(100) t(i)")
	return &warehouse.TableInfo{
		Name:   "data.purchases",
		Schema: purchasesSchema,
		Partitions: []warehouse.Partition{
			{DS: "2023-11-01", Rows: 3, Files: []string{p1}},
			{DS: "2023-11-02", Rows: 2, Files: []string{p2}},
		},
	}
}

func openDB(t *testing.T, wh warehouse.Warehouse) *DB {
	t.Helper()
	db, err := Open(context.Background(), wh)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// queryJSON runs query and renders its result as JSON lines.
func queryJSON(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	res, err := db.Query(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("Query(%q): %v", query, err)
	}
	defer res.Release()
	var buf bytes.Buffer
	if err := batch.RenderBatches(&buf, batch.FormatJSON, res.Schema, batch.RenderOptions{}, res.Batches...); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestPurchasesView(t *testing.T) {
	root := t.TempDir()
	wh := &fakeWarehouse{}
	wh.put(purchases(t, root))
	db := openDB(t, wh)

	if got := db.Tables(); !slices.Equal(got, []string{"data.purchases"}) {
		t.Errorf("Tables() = %v", got)
	}
	for _, tc := range []struct{ query, want string }{
		// Only the committed files are read, never the orphan.
		{"select count(*) from data.purchases", `{"count_star()":5}` + "\n"},
		{"select ds, count(*) as n from data.purchases group by ds order by ds",
			`{"ds":"2023-11-01","n":3}` + "\n" + `{"ds":"2023-11-02","n":2}` + "\n"},
		{"select distinct typeof(ds) as t from data.purchases", `{"t":"VARCHAR"}` + "\n"},
		// union_by_name: the column added later is null in older files.
		{"select user_id, coupon from data.purchases where ds = '2023-11-01' and user_id = 1",
			`{"user_id":1,"coupon":null}` + "\n"},
		{"select user_id, amount, coupon, ds from data.purchases where ds > '2023-11-01' order by user_id",
			`{"user_id":10,"amount":2,"coupon":"HALF","ds":"2023-11-02"}` + "\n" +
				`{"user_id":11,"amount":3,"coupon":null,"ds":"2023-11-02"}` + "\n"},
		{"select column_name, data_type from information_schema.columns where table_schema = 'data' and table_name = 'purchases' order by ordinal_position",
			`{"column_name":"user_id","data_type":"BIGINT"}` + "\n" +
				`{"column_name":"amount","data_type":"DOUBLE"}` + "\n" +
				`{"column_name":"coupon","data_type":"VARCHAR"}` + "\n" +
				`{"column_name":"ds","data_type":"VARCHAR"}` + "\n"},
		{"select sum(user_id) as s from data.purchases where ds = ?", `{"s":3}` + "\n"},
	} {
		var args []any
		if strings.Contains(tc.query, "?") {
			args = []any{"2023-11-01"}
		}
		if got := queryJSON(t, db, tc.query, args...); got != tc.want {
			t.Errorf("%s:\ngot  %s\nwant %s", tc.query, got, tc.want)
		}
	}
}

func TestConcurrentQueries(t *testing.T) {
	root := t.TempDir()
	wh := &fakeWarehouse{}
	wh.put(purchases(t, root))
	db := openDB(t, wh)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			res, err := db.Query(context.Background(), "select count(*) from data.purchases")
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Release()
			if n := res.Batches[0].Column(0).(*array.Int64).Value(0); n != 5 {
				t.Errorf("count %d, want 5", n)
			}
		})
	}
	wg.Wait()
}

func TestEmptyTables(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "raw", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64), Nullable: true},
		{Name: "st", Type: arrow.StructOf(
			arrow.Field{Name: "a b", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			arrow.Field{Name: "c", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		), Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
	}, nil)
	wh := &fakeWarehouse{}
	wh.put(&warehouse.TableInfo{Name: "data.none", Schema: schema})
	wh.put(&warehouse.TableInfo{Name: "data.hollow", Schema: schema,
		Partitions: []warehouse.Partition{{DS: "2023-11-01"}}})
	db := openDB(t, wh)

	want := `{"column_name":"id","data_type":"BIGINT"}
{"column_name":"n","data_type":"INTEGER"}
{"column_name":"f","data_type":"FLOAT"}
{"column_name":"ok","data_type":"BOOLEAN"}
{"column_name":"raw","data_type":"BLOB"}
{"column_name":"tags","data_type":"VARCHAR[]"}
{"column_name":"m","data_type":"MAP(VARCHAR, DOUBLE)"}
{"column_name":"st","data_type":"STRUCT(\"a b\" BIGINT, c DATE)"}
{"column_name":"ts","data_type":"TIMESTAMP"}
{"column_name":"ds","data_type":"VARCHAR"}
`
	for _, table := range []string{"none", "hollow"} {
		res, err := db.Query(context.Background(), "select * from data."+table)
		if err != nil {
			t.Fatal(err)
		}
		if res.NumRows() != 0 {
			t.Errorf("%s: %d rows, want 0", table, res.NumRows())
		}
		wantCols := []string{"id", "n", "f", "ok", "raw", "tags", "m", "st", "ts", "ds"}
		if got := res.Columns(); !slices.Equal(got, wantCols) {
			t.Errorf("%s: columns %v, want %v", table, got, wantCols)
		}
		if got := res.Schema.Field(7).Type.String(); got != "struct<a b: int64 nullable, c: date32 nullable>" {
			t.Errorf("%s: st converted to %s", table, got)
		}
		res.Release()
		got := queryJSON(t, db, "select column_name, data_type from information_schema.columns where table_name = ? order by ordinal_position", table)
		if got != want {
			t.Errorf("%s: columns:\n%s\nwant:\n%s", table, got, want)
		}
	}
}

func TestQuotedNames(t *testing.T) {
	root := t.TempDir()
	f := writeParquet(t, root, `my-ns/we'ird "table"/ds=2023-11-01/part-0.parquet`, `SELECT 42 AS "sel""ect"`)
	wh := &fakeWarehouse{}
	wh.put(&warehouse.TableInfo{
		Name:       `my-ns.we'ird "table"`,
		Schema:     arrow.NewSchema([]arrow.Field{{Name: `sel"ect`, Type: arrow.PrimitiveTypes.Int32}}, nil),
		Partitions: []warehouse.Partition{{DS: "2023-11-01", Rows: 1, Files: []string{f}}},
	})
	db := openDB(t, wh)
	got := queryJSON(t, db, `select * from "my-ns"."we'ird ""table"""`)
	if want := `{"sel\"ect":42,"ds":"2023-11-01"}` + "\n"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}

	bad := &fakeWarehouse{}
	bad.put(&warehouse.TableInfo{Name: "nodot", Schema: purchasesSchema})
	_, err := Open(context.Background(), bad)
	if err == nil || !strings.Contains(err.Error(), `"nodot"`) {
		t.Errorf("Open with table %q: got %v, want an error naming it", "nodot", err)
	}
}

func TestNonHiveLayout(t *testing.T) {
	root := t.TempDir()
	// Paths without ds=..., and a root directory holding "=", which Hive
	// partitioning would misread.
	f1 := writeParquet(t, root, "x=1/a.parquet", "SELECT 1 AS v")
	f2 := writeParquet(t, root, "x=1/b.parquet", "SELECT 2 AS v")
	f3 := writeParquet(t, root, "x=1/c.parquet", "SELECT 3 AS v")
	wh := &fakeWarehouse{}
	wh.put(&warehouse.TableInfo{
		Name:   "ns.t",
		Schema: arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int32}}, nil),
		Partitions: []warehouse.Partition{
			{DS: "2023-11-01", Files: []string{f1, f2}},
			{DS: "2023-11-02", Files: []string{f3}},
		},
	})
	db := openDB(t, wh)
	got := queryJSON(t, db, "select * from ns.t order by v")
	want := `{"v":1,"ds":"2023-11-01"}
{"v":2,"ds":"2023-11-01"}
{"v":3,"ds":"2023-11-02"}
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestRefresh(t *testing.T) {
	root := t.TempDir()
	wh := &fakeWarehouse{}
	info := purchases(t, root)
	wh.put(info)
	db := openDB(t, wh)

	p3 := writeParquet(t, root, "data/purchases/ds=2023-11-03/part-0.parquet",
		"SELECT 20::BIGINT AS user_id, 1.0 AS amount, 'X' AS coupon")
	more := *info
	more.Partitions = append(slices.Clone(info.Partitions), warehouse.Partition{DS: "2023-11-03", Rows: 1, Files: []string{p3}})
	wh.put(&more)
	wh.put(&warehouse.TableInfo{Name: "data.other", Schema: purchasesSchema})

	if got := queryJSON(t, db, "select count(*) as n from data.purchases"); got != `{"n":5}`+"\n" {
		t.Errorf("before Refresh: %s", got)
	}
	if err := db.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := queryJSON(t, db, "select count(*) as n from data.purchases"); got != `{"n":6}`+"\n" {
		t.Errorf("after Refresh: %s", got)
	}
	if got := db.Tables(); !slices.Equal(got, []string{"data.other", "data.purchases"}) {
		t.Errorf("Tables() = %v", got)
	}
}

func TestErrors(t *testing.T) {
	db := openDB(t, &fakeWarehouse{})
	ctx := context.Background()
	_, err := db.Query(ctx, "select * from data.nope")
	if err == nil || !strings.HasPrefix(err.Error(), "warehousesql: query: ") || !strings.Contains(err.Error(), "nope") {
		t.Errorf("Query of a missing table: got %v", err)
	}
	if err := db.Exec(ctx, "create table"); err == nil || !strings.HasPrefix(err.Error(), "warehousesql: exec: ") {
		t.Errorf("Exec of bad SQL: got %v", err)
	}
	if err := db.QueryEach(ctx, "select 1", func(*arrow.Schema, arrow.RecordBatch) error { return errStop }); err != errStop {
		t.Errorf("QueryEach: got %v, want fn's error as is", err)
	}

	missing := &fakeWarehouse{}
	missing.put(&warehouse.TableInfo{Name: "ns.gone", Schema: purchasesSchema,
		Partitions: []warehouse.Partition{{DS: "2023-11-01", Files: []string{filepath.Join(t.TempDir(), "ds=2023-11-01", "part-0.parquet")}}}})
	if _, err := Open(ctx, missing); err == nil || !strings.Contains(err.Error(), "ns.gone") {
		t.Errorf("Open with a missing file: got %v, want an error naming the table", err)
	}
}

var errStop = errors.New("stop")

func TestQueryEach(t *testing.T) {
	db := openDB(t, &fakeWarehouse{})
	ctx := context.Background()
	var sizes []int64
	var sum int64
	err := db.QueryEach(ctx, "select range as i from range(10000)", func(s *arrow.Schema, rec arrow.RecordBatch) error {
		if s.Field(0).Name != "i" {
			t.Errorf("schema %s", s)
		}
		sizes = append(sizes, rec.NumRows())
		for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
			sum += v
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sizes, []int64{BatchRows, BatchRows, 10000 - 2*BatchRows}) || sum != 49995000 {
		t.Errorf("batches %v, sum %d", sizes, sum)
	}

	calls := 0
	err = db.QueryEach(ctx, "select 1 as a where false", func(s *arrow.Schema, rec arrow.RecordBatch) error {
		calls++
		if rec.NumRows() != 0 || s.NumFields() != 1 {
			t.Errorf("empty result: %d rows, schema %s", rec.NumRows(), s)
		}
		return nil
	})
	if err != nil || calls != 1 {
		t.Errorf("empty result: %d calls, err %v", calls, err)
	}

	// Several statements: the last one gives the result.
	if got := queryJSON(t, db, "create table t as select 7 as a; select a from t"); got != `{"a":7}`+"\n" {
		t.Errorf("multi-statement query: %s", got)
	}
	if err := db.Exec(ctx, "insert into t values (8)"); err != nil {
		t.Fatal(err)
	}
	if got := queryJSON(t, db, "select sum(a) as s from t"); got != `{"s":15}`+"\n" {
		t.Errorf("after Exec: %s", got)
	}
}

func TestResultTypes(t *testing.T) {
	db := openDB(t, &fakeWarehouse{})
	got := queryJSON(t, db, `select
		1::TINYINT as i8, 2::SMALLINT as i16, 3::INTEGER as i32, -4::BIGINT as i64,
		5::UTINYINT as u8, 18446744073709551615::UBIGINT as u64,
		1.5::FLOAT as f32, 0.1::DOUBLE as f64, 'NaN'::DOUBLE as nan,
		170141183460469231731687303715884105727::HUGEINT as huge,
		-12.345::DECIMAL(10,3) as dec, 0.001::DECIMAL(4,3) as small,
		true as b, 'héllo 世界' as s, '\x01\xff'::BLOB as blob,
		DATE '2023-11-01' as d, TIMESTAMP '2023-11-01 12:30:45.123456' as ts,
		TIMESTAMP_NS '2023-11-01 12:30:45.123456789' as tsns,
		TIMESTAMPTZ '2023-11-01 12:30:45+00' as tstz, TIME '01:02:03.5' as tm,
		INTERVAL '1 year 2 months 3 days 04:05:06' as iv,
		'00112233-4455-6677-8899-aabbccddeeff'::UUID as id,
		[1, NULL, 3] as l, [['a'], []] as ll, [1, 2]::INTEGER[2] as arr,
		MAP {'k': 1.5, 'j': NULL} as m, {'y': 1, 'x': [true]} as st,
		[{'a': MAP {1: 'one'}}] as deep, NULL as n,
		'{"a": [1, 2]}'::JSON as js, union_value(num := 2) as u`)
	want := `{"i8":1,"i16":2,"i32":3,"i64":-4,"u8":5,"u64":18446744073709551615,` +
		`"f32":1.5,"f64":0.1,"nan":"NaN","huge":170141183460469231731687303715884105727,` +
		`"dec":-12.345,"small":0.001,"b":true,"s":"héllo 世界","blob":"Af8=",` +
		`"d":"2023-11-01","ts":"2023-11-01 12:30:45.123456","tsns":"2023-11-01 12:30:45.123456789",` +
		`"tstz":"2023-11-01 12:30:45Z","tm":"01:02:03.500000","iv":"1 year 2 months 3 days 04:05:06",` +
		`"id":"00112233-4455-6677-8899-aabbccddeeff",` +
		`"l":[1,null,3],"ll":[["a"],[]],"arr":[1,2],"m":{"k":1.5,"j":null},"st":{"y":1,"x":[true]},` +
		`"deep":[{"a":{"1":"one"}}],"n":null,"js":"{\"a\":[1,2]}","u":"2"}` + "\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
