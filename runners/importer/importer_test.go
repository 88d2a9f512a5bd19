// SPDX-License-Identifier: Apache-2.0

package importer

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

const purchasesCSV = `ds,ts,purchase_id,user_id,product_id,purchase_price
2023-11-01,1698883648000,P1,5,10,100
2023-11-02,1698970048000,P2,7,11,250
2023-11-01,1698883649000,P3,5,12,
2023-11-03,1699056448000,P4,9,10,40
2023-11-02,1698970049000,P5,7,13,75
`

var purchasesByDS = map[string][]string{
	"2023-11-01": {"1698883648000|P1|5|10|100", "1698883649000|P3|5|12|∅"},
	"2023-11-02": {"1698970048000|P2|7|11|250", "1698970049000|P5|7|13|75"},
	"2023-11-03": {"1699056448000|P4|9|10|40"},
}

const purchasesJSONL = `{"ds": "2023-11-01", "ts": 1698883648000, "purchase_id": "P1", "user_id": "5", "product_id": "10", "purchase_price": 100}
{"ds": "2023-11-02", "ts": 1698970048000, "purchase_id": "P2", "user_id": "7", "product_id": "11", "purchase_price": 250}

{"ds": "2023-11-01", "ts": 1698883649000, "purchase_id": "P3", "user_id": "5", "product_id": "12"}
{"ds": "2023-11-03", "ts": 1699056448000, "purchase_id": "P4", "user_id": "9", "product_id": "10", "purchase_price": 40}
{"ds": "2023-11-02", "ts": 1698970049000, "purchase_id": "P5", "user_id": "7", "product_id": "13", "purchase_price": 75}
`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func spec(t *testing.T, s string) batch.SchemaSpec {
	t.Helper()
	sp, err := batch.ParseSchemaSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func TestImport(t *testing.T) {
	const (
		inferred   = "ts:int64,purchase_id:utf8,user_id:int64,product_id:int64,purchase_price:int64"
		overridden = "ts:int64,purchase_id:utf8,user_id:utf8,product_id:utf8,purchase_price:float64"
	)
	type want struct {
		schema string
		rows   map[string][]string
		err    string // substring of the error; "" for success
		txn    string // "", "committed" or "aborted"
		unused []string
	}
	for _, tc := range []struct {
		name    string
		file    string
		content string
		opts    Options
		want    want
	}{
		{
			name: "csv ds column routing", file: "purchases.csv", content: purchasesCSV,
			opts: Options{DSColumn: "ds", BatchRows: 2},
			want: want{schema: inferred, rows: purchasesByDS, txn: "committed"},
		},
		{
			name: "csv overrides", file: "purchases.csv", content: purchasesCSV,
			opts: Options{DSColumn: "ds", SchemaOverrides: spec(t, "user_id:string,product_id:string,purchase_price:double,ds:string")},
			want: want{schema: overridden, rows: purchasesByDS, txn: "committed"},
		},
		{
			name: "csv every column overridden", file: "purchases.csv", content: purchasesCSV,
			opts: Options{DSColumn: "ds", BatchRows: 3, SchemaOverrides: spec(t, "ts:long,purchase_id:string,user_id:string,product_id:string,purchase_price:double")},
			want: want{schema: overridden, rows: purchasesByDS, txn: "committed"},
		},
		{
			name: "gzip csv", file: "purchases.csv.gz", content: gzipped(t, purchasesCSV),
			opts: Options{DSColumn: "ds", BatchRows: 1},
			want: want{schema: inferred, rows: purchasesByDS, txn: "committed"},
		},
		{
			name: "jsonl", file: "purchases.jsonl", content: purchasesJSONL,
			opts: Options{DSColumn: "ds", BatchRows: 2},
			want: want{schema: "ts:int64,purchase_id:utf8,user_id:utf8,product_id:utf8,purchase_price:int64", rows: purchasesByDS, txn: "committed"},
		},
		{
			name: "jsonl with explicit format", file: "purchases.txt", content: purchasesJSONL,
			opts: Options{DSColumn: "ds", Format: "JSONL"},
			want: want{schema: "ts:int64,purchase_id:utf8,user_id:utf8,product_id:utf8,purchase_price:int64", rows: purchasesByDS, txn: "committed"},
		},
		{
			name: "fixed ds", file: "users.csv", content: "user_id,account_created_ds,email_verified\n0,2023-01-01,1\n1,2023-02-01,0\n",
			opts: Options{DS: "2023-11-29", SchemaOverrides: spec(t, "user_id:string,email_verified:string")},
			want: want{
				schema: "user_id:utf8,account_created_ds:utf8,email_verified:utf8",
				rows:   map[string][]string{"2023-11-29": {"0|2023-01-01|1", "1|2023-02-01|0"}}, txn: "committed",
			},
		},
		{
			name: "fixed ds of an empty file writes an empty partition", file: "users.csv", content: "user_id,email\n",
			opts: Options{DS: "2023-11-29"},
			want: want{schema: "user_id:utf8,email:utf8", rows: map[string][]string{"2023-11-29": {}}, txn: "committed"},
		},
		{
			name: "ds column of an empty file writes nothing", file: "users.csv", content: "ds,user_id\n",
			opts: Options{DSColumn: "ds"},
			want: want{schema: "user_id:utf8", rows: map[string][]string{}, txn: "committed"},
		},
		{
			name: "ds column with another name", file: "e.csv", content: "day,v\n2023-11-02,1\n2023-11-01,2\n",
			opts: Options{DSColumn: "day"},
			want: want{schema: "v:int64", rows: map[string][]string{"2023-11-01": {"2"}, "2023-11-02": {"1"}}, txn: "committed"},
		},
		{
			name: "malformed cell", file: "purchases.csv",
			content: strings.Replace(purchasesCSV, "2023-11-03,1699056448000", "2023-11-03,abc", 1),
			opts:    Options{DSColumn: "ds", BatchRows: 1, SchemaOverrides: spec(t, "ts:long")},
			want:    want{err: `line 5: column "ts": "abc" is not a long`, txn: "aborted"},
		},
		{
			name: "bad ds value", file: "purchases.csv",
			content: strings.Replace(purchasesCSV, "2023-11-03,", "2023-11-31,", 1),
			opts:    Options{DSColumn: "ds", BatchRows: 1},
			want:    want{err: `line 5: column "ds": "2023-11-31" is not a YYYY-MM-DD date`, txn: "aborted"},
		},
		{
			name: "empty ds value", file: "purchases.csv",
			content: strings.Replace(purchasesCSV, "2023-11-03,", ",", 1),
			opts:    Options{DSColumn: "ds", BatchRows: 4},
			want:    want{err: `line 5: column "ds": has no partition value`, txn: "aborted"},
		},
		{
			name: "bad jsonl value", file: "p.jsonl",
			content: purchasesJSONL + `{"ds": "2023-11-04", "ts": "soon"}` + "\n",
			opts:    Options{DSColumn: "ds", SchemaOverrides: spec(t, "ts:long")},
			want:    want{err: `line 7: column "ts": "soon" is not a long`, txn: "aborted"},
		},
		{
			name: "short row fails before the transaction", file: "p.csv", content: purchasesCSV + "2023-11-04,1\n",
			opts: Options{DSColumn: "ds"},
			want: want{err: "line 7: has 2 fields, the header has 6"},
		},
		{
			name: "missing ds column", file: "p.csv", content: purchasesCSV, opts: Options{DSColumn: "day"},
			want: want{err: `ds column "day" is not in the file (columns: ds, ts, purchase_id, user_id, product_id, purchase_price)`},
		},
		{
			name: "overrides of missing columns are ignored", file: "p.csv", content: purchasesCSV,
			opts: Options{DSColumn: "ds", SchemaOverrides: spec(t, "price:double,user_id:string,product_id:string,purchase_price:double,zz:long")},
			want: want{schema: overridden, rows: purchasesByDS, txn: "committed", unused: []string{"price", "zz"}},
		},
		{
			name: "non-string ds override", file: "p.csv", content: purchasesCSV,
			opts: Options{DSColumn: "ds", SchemaOverrides: spec(t, "ds:long")},
			want: want{err: `ds column "ds" must be a string, not long`},
		},
		{
			name: "ds data column with a fixed ds", file: "p.csv", content: purchasesCSV, opts: Options{DS: "2023-11-01"},
			want: want{err: `the file has a column named "ds", the partition column`},
		},
		{
			name: "only a ds column", file: "p.csv", content: "ds\n2023-11-01\n", opts: Options{DSColumn: "ds"},
			want: want{err: "no data columns"},
		},
		{
			name: "neither ds nor ds column", file: "p.csv", content: purchasesCSV, opts: Options{},
			want: want{err: "give a fixed ds (YYYY-MM-DD) for every row or the column holding each row's ds"},
		},
		{
			name: "both ds and ds column", file: "p.csv", content: purchasesCSV, opts: Options{DS: "2023-11-01", DSColumn: "ds"},
			want: want{err: "not both"},
		},
		{
			name: "bad fixed ds", file: "p.csv", content: purchasesCSV, opts: Options{DS: "2023/11/01"},
			want: want{err: `bad ds "2023/11/01"`},
		},
		{
			name: "unknown extension", file: "p.txt", content: purchasesCSV, opts: Options{DSColumn: "ds"},
			want: want{err: "cannot tell the format"},
		},
		{
			name: "unknown format", file: "p.csv", content: purchasesCSV, opts: Options{DSColumn: "ds", Format: "xml"},
			want: want{err: `unknown format "xml"`},
		},
		{
			name: "bad table name", file: "p.csv", content: purchasesCSV, opts: Options{DSColumn: "ds", Table: "purchases"},
			want: want{err: `bad table name "purchases"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), tc.file, tc.content)
			opts := tc.opts
			opts.File = path
			if opts.Table == "" {
				opts.Table = "data.purchases"
			}
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			opts.Mem = mem
			wh := &fakeWarehouse{}
			res, err := Import(context.Background(), wh, opts)
			txn := wh.only()
			if len(wh.txns) > 1 {
				t.Fatalf("%d transactions begun, want at most 1", len(wh.txns))
			}
			checkTxn(t, txn, tc.want.txn)
			if tc.want.txn == "committed" && (txn.opts.Mode != warehouse.Overwrite || txn.table != opts.Table) {
				t.Errorf("Begin(%q, mode %v), want %q in Overwrite mode", txn.table, txn.opts.Mode, opts.Table)
			}
			if tc.want.err != "" {
				prefix := fmt.Sprintf("import %s from %s: ", opts.Table, path)
				if err == nil || !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tc.want.err) {
					t.Fatalf("error = %v\nwant %q + ...%q...", err, prefix, tc.want.err)
				}
				if res != nil {
					t.Errorf("result %+v on error", res)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := schemaString(txn.schema); got != tc.want.schema {
				t.Errorf("schema %s, want %s", got, tc.want.schema)
			}
			if got := schemaString(res.Schema); got != tc.want.schema {
				t.Errorf("result schema %s, want %s", got, tc.want.schema)
			}
			if !reflect.DeepEqual(txn.rows, tc.want.rows) {
				t.Errorf("rows by partition:\n%v\nwant\n%v", txn.rows, tc.want.rows)
			}
			var total int64
			var parts []PartitionRows
			for ds, rows := range tc.want.rows {
				parts = append(parts, PartitionRows{DS: ds, Rows: int64(len(rows))})
				total += int64(len(rows))
			}
			slices.SortFunc(parts, func(a, b PartitionRows) int { return strings.Compare(a.DS, b.DS) })
			if res.Rows != total || !reflect.DeepEqual(res.Partitions, parts) && len(parts)+len(res.Partitions) > 0 {
				t.Errorf("result rows %d partitions %v, want %d %v", res.Rows, res.Partitions, total, parts)
			}
			if !slices.Equal(res.UnusedOverrides, tc.want.unused) {
				t.Errorf("unused overrides %q, want %q", res.UnusedOverrides, tc.want.unused)
			}
			if res.Table != opts.Table || res.File != path || res.Elapsed <= 0 {
				t.Errorf("result %+v", res)
			}
		})
	}
}

func TestImportErrorMessage(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("ds,ts,user_id\n")
	for i := 2; i <= 20; i++ {
		ts := fmt.Sprint(1698883648000 + i)
		if i == 17 {
			ts = "abc"
		}
		fmt.Fprintf(&b, "2023-11-%02d,%s,%d\n", i%3+1, ts, i)
	}
	path := writeFile(t, dir, "purchases.csv", b.String())
	t.Chdir(dir)
	wh := &fakeWarehouse{}
	_, err := Import(context.Background(), wh, Options{
		Table: "data.purchases", File: "purchases.csv", DSColumn: "ds", BatchRows: 4,
		SchemaOverrides: spec(t, "ts:long"),
	})
	const want = `import data.purchases from purchases.csv: line 17: column "ts": "abc" is not a long`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
	txn := wh.only()
	if txn == nil || !txn.aborted || txn.committed || txn.writes == 0 {
		t.Fatalf("want an aborted transaction with some writes, got %+v", txn)
	}
	_ = path
}

func TestImportWriteError(t *testing.T) {
	path := writeFile(t, t.TempDir(), "p.csv", purchasesCSV)
	wh := &fakeWarehouse{failWriteAt: 2}
	_, err := Import(context.Background(), wh, Options{Table: "data.p", File: path, DSColumn: "ds", BatchRows: 1})
	if err == nil || !strings.Contains(err.Error(), "write partition 2023-11-0") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("error = %v", err)
	}
	if txn := wh.only(); txn == nil || !txn.aborted || txn.committed {
		t.Fatalf("transaction not aborted: %+v", txn)
	}
}

func TestImportCanceled(t *testing.T) {
	path := writeFile(t, t.TempDir(), "p.csv", purchasesCSV)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	wh := &fakeWarehouse{}
	_, err := Import(ctx, wh, Options{Table: "data.p", File: path, DSColumn: "ds"})
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("error = %v", err)
	}
	if txn := wh.only(); txn == nil || !txn.aborted {
		t.Fatalf("transaction not aborted: %+v", txn)
	}
}

// TestImportManyPartitions routes rows in random partition order with small
// batches, so that rows are split, buffered, concatenated and flushed when
// too many are held.
func TestImportManyPartitions(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("ds,id,x\n")
	want := map[string][]string{}
	const rows = 5000
	for i := 0; i < rows; i++ {
		ds := batch.FormatDS(time.Date(2023, 10, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(60)))
		x := fmt.Sprintf("%.2f", rng.Float64()*100)
		fmt.Fprintf(&b, "%s,%d,%s\n", ds, i, x)
		want[ds] = append(want[ds], fmt.Sprintf("%d|%s", i, strings.TrimRight(strings.TrimRight(x, "0"), ".")))
	}
	path := writeFile(t, t.TempDir(), "many.csv", b.String())
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	wh := &fakeWarehouse{}
	res, err := Import(context.Background(), wh, Options{Table: "ns.many", File: path, DSColumn: "ds", BatchRows: 16, Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	txn := wh.only()
	if !reflect.DeepEqual(txn.rows, want) {
		t.Errorf("rows differ from the input's")
	}
	if res.Rows != rows || len(res.Partitions) != len(want) {
		t.Errorf("result %d rows in %d partitions, want %d in %d", res.Rows, len(res.Partitions), rows, len(want))
	}
	if txn.writes >= rows/2 {
		t.Errorf("%d writes for %d rows: rows are not batched", txn.writes, rows)
	}
}

func TestImportProgress(t *testing.T) {
	path := writeFile(t, t.TempDir(), "p.csv", purchasesCSV)
	var got []Progress
	_, err := Import(context.Background(), &fakeWarehouse{}, Options{
		Table: "data.p", File: path, DSColumn: "ds", BatchRows: 1,
		Progress: func(p Progress) { got = append(got, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(purchasesCSV))
	var finals []Progress
	for _, p := range got {
		if p.Final {
			finals = append(finals, p)
		}
	}
	want := []Progress{
		{Phase: PhaseInfer, Done: size, Total: size, Unit: UnitBytes, Rows: 5, Final: true},
		{Phase: PhaseLoad, Done: size, Total: size, Unit: UnitBytes, Rows: 5, Final: true},
	}
	if !reflect.DeepEqual(finals, want) {
		t.Errorf("final reports %+v, want %+v", finals, want)
	}
	if len(got) > 6 {
		t.Errorf("%d reports for a tiny file: not throttled", len(got))
	}

	// With every column overridden there is no inference pass to report.
	got = nil
	_, err = Import(context.Background(), &fakeWarehouse{}, Options{
		Table: "data.p", File: path, DSColumn: "ds",
		SchemaOverrides: spec(t, "ts:long,purchase_id:string,user_id:string,product_id:string,purchase_price:long"),
		Progress:        func(p Progress) { got = append(got, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range got {
		if p.Phase != PhaseLoad {
			t.Errorf("report %+v of a skipped inference", p)
		}
	}
}

func TestProgressReporterLogs(t *testing.T) {
	var out bytes.Buffer
	r := NewProgressReporter(&out, nil, time.Nanosecond)
	r.Report(Progress{Phase: PhaseInfer, Done: 10, Total: 100, Unit: UnitBytes})
	time.Sleep(time.Millisecond)
	r.Report(Progress{Phase: PhaseInfer, Done: 50, Total: 100, Unit: UnitBytes, Rows: 7})
	r.Report(Progress{Phase: PhaseInfer, Done: 100, Total: 100, Unit: UnitBytes, Rows: 9, Final: true})
	r.Report(Progress{Phase: PhaseLoad, Done: 100, Total: 0, Unit: UnitRows, Rows: 9, Final: true})
	r.Close()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("log:\n%s\nwant 3 lines", out.String())
	}
	for i, want := range []string{
		`msg="import progress" phase=infer rows=7 done=50 unit=bytes total=100 percent=50`,
		`msg="import phase done" phase=infer rows=9 done=100 unit=bytes total=100 percent=100`,
		`msg="import phase done" phase=load rows=9 done=100 unit=rows`,
	} {
		if !strings.HasSuffix(lines[i], want) {
			t.Errorf("line %d = %q, want it to end with %q", i+1, lines[i], want)
		}
	}
}
