// SPDX-License-Identifier: Apache-2.0

package bigtable

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	bt "cloud.google.com/go/bigtable"

	"github.com/chronon-go/chronon/plugins/kv"
)

const base int64 = 1_700_000_000_000

// TestRowKeys checks the row-key encoding: escapes, and that no two
// (dataset, key) pairs, nor a pair and a dataset row, share a row key. The
// check is exhaustive over short strings of the bytes that matter.
func TestRowKeys(t *testing.T) {
	tests := []struct {
		dataset, key, row string
	}{
		{"CHRONON_METADATA", "team/name.v1", "CHRONON_METADATA#team/name.v1"},
		{"a", "b#c", "a#b#c"},
		{"a#b", "c", "a%23b#c"},
		{"a%23b", "c", "a%2523b#c"},
		{"100%", "", "100%25#"},
		{"d", "\x00\xff", "d#\x00\xff"},
	}
	for _, tc := range tests {
		if got := valueRowKey(escapeDataset(tc.dataset), []byte(tc.key)); got != tc.row {
			t.Errorf("valueRowKey(%q, %q) = %q, want %q", tc.dataset, tc.key, got, tc.row)
		}
	}

	// Every string of up to 3 bytes from the alphabet.
	alphabet := []string{"a", "#", "%", "2", "3", "$"}
	words := []string{""}
	for n, last := 0, []string{""}; n < 3; n++ {
		var next []string
		for _, w := range last {
			for _, c := range alphabet {
				next = append(next, w+c)
			}
		}
		words = append(words, next...)
		last = next
	}
	seen := map[string]string{}
	add := func(row, what string) {
		if prev, dup := seen[row]; dup {
			t.Fatalf("row key %q of %s and of %s", row, prev, what)
		}
		seen[row] = what
	}
	for _, ds := range words[1:] { // the empty name is refused
		esc := escapeDataset(ds)
		if strings.ContainsRune(esc, sep) {
			t.Fatalf("escapeDataset(%q) = %q holds the separator", ds, esc)
		}
		add(datasetRowKey(esc), fmt.Sprintf("dataset row %q", ds))
		start, end := valueRange(esc)
		for _, key := range words {
			rk := valueRowKey(esc, []byte(key))
			add(rk, fmt.Sprintf("dataset %q key %q", ds, key))
			if rk < start || rk >= end {
				t.Fatalf("row %q outside its dataset's range [%q, %q)", rk, start, end)
			}
		}
	}
	if len(seen) != (len(words)-1)*(len(words)+1) {
		t.Fatalf("%d row keys", len(seen))
	}
}

// TestLayout writes through a Store and reads the table beneath it: rows,
// families, cell timestamps in microseconds, dataset rows.
func TestLayout(t *testing.T) {
	srv := newServer(t)
	s := openStore(t, srv.Addr, func(o *Options) { o.Table = "layout" })
	ctx := t.Context()
	for _, ds := range []string{"a", "a#b"} {
		if err := s.CreateDataset(ctx, ds); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MultiPut(ctx, "a", []kv.Entry{
		{Key: []byte("b#c"), Value: []byte("v1"), TsMillis: base},
		{Key: []byte("b#c"), Value: []byte("v2"), TsMillis: base + 1},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.BulkLoad(ctx, "a#b", []kv.Entry{{Key: []byte("c"), Value: []byte("w"), TsMillis: 7}}); err != nil {
		t.Fatal(err)
	}

	c, ac := rawClients(t, srv.Addr)
	info, err := ac.TableInfo(ctx, "layout")
	if err != nil {
		t.Fatal(err)
	}
	var fams []string
	for _, f := range info.FamilyInfos {
		fams = append(fams, f.Name+" "+f.GCPolicy)
	}
	slices.Sort(fams)
	// v has no garbage collection policy.
	if want := []string{"d versions() > 1", "v "}; !slices.Equal(fams, want) {
		t.Errorf("families %q, want %q", fams, want)
	}

	var got []string
	err = c.Open("layout").ReadRows(ctx, bt.InfiniteRange(""), func(r bt.Row) bool {
		for fam, items := range r {
			for _, it := range items {
				got = append(got, fmt.Sprintf("%q %s %s@%d=%s", r.Key(), fam, it.Column, it.Timestamp, it.Value))
			}
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := []string{
		`"a" d d:d@0=a`,
		`"a#b#c" v v:v@1700000000000000=v1`,
		`"a#b#c" v v:v@1700000000001000=v2`,
		`"a%23b" d d:d@0=a#b`,
		`"a%23b#c" v v:v@7000=w`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("cells:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Dataset "a" key "b#c" and dataset "a#b" key "c" stay apart.
	res, err := s.MultiGet(ctx, []kv.GetRequest{
		{Dataset: "a", Key: []byte("b#c"), AfterMillis: 1},
		{Dataset: "a#b", Key: []byte("c"), AfterMillis: 1},
		{Dataset: "a", Key: []byte("c")},
		{Dataset: "a#b", Key: []byte("b#c")},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantVals := []string{"v1@1700000000000 v2@1700000000001", "w@7", "", ""}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("request %d: %v", i, r.Err)
		}
		var vs []string
		for _, e := range r.Values {
			vs = append(vs, fmt.Sprintf("%s@%d", e.Value, e.TsMillis))
		}
		if g := strings.Join(vs, " "); g != wantVals[i] {
			t.Errorf("request %d: %q, want %q", i, g, wantVals[i])
		}
	}
}

// TestFilters checks the read filters and the requests MultiGet sorts out
// before reading.
func TestFilters(t *testing.T) {
	if got, want := valueFilter(false, 0).String(), "col(*,1)"; got != want {
		t.Errorf("latest filter %s, want %s", got, want)
	}
	if got, want := valueFilter(true, 5).String(), "timestamp_range(5000,0)"; got != want {
		t.Errorf("after filter %s, want %s", got, want)
	}

	s := openStore(t, newServer(t).Addr, nil)
	ctx := t.Context()
	if err := s.CreateDataset(ctx, "ds"); err != nil {
		t.Fatal(err)
	}
	var es []kv.Entry
	for _, ts := range []int64{0, 10, 20, 30} {
		es = append(es, kv.Entry{Key: []byte("k"), Value: fmt.Appendf(nil, "v%d", ts), TsMillis: ts})
	}
	es = append(es, kv.Entry{Key: []byte("max"), Value: []byte("m"), TsMillis: maxTsMillis})
	if err := s.MultiPut(ctx, "ds", es); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key   string
		after int64
		want  string
	}{
		{"k", 0, "v30@30"},
		{"k", -5, "v30@30"}, // AfterMillis <= 0 is "latest"
		{"k", 1, "v10@10 v20@20 v30@30"},
		{"k", 20, "v20@20 v30@30"}, // inclusive
		{"k", 21, "v30@30"},
		{"k", 31, ""},
		{"k", maxTsMillis + 1, ""}, // beyond any cell timestamp
		{"max", 0, fmt.Sprintf("m@%d", maxTsMillis)},
		{"max", maxTsMillis, fmt.Sprintf("m@%d", maxTsMillis)},
	}
	// One MultiGet: one read for the latest requests, one from the
	// smallest AfterMillis for the others, each keeping its own values.
	reqs := make([]kv.GetRequest, len(tests))
	for i, tc := range tests {
		reqs[i] = kv.GetRequest{Dataset: "ds", Key: []byte(tc.key), AfterMillis: tc.after}
	}
	res, err := s.MultiGet(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range tests {
		var vs []string
		for _, e := range res[i].Values {
			vs = append(vs, fmt.Sprintf("%s@%d", e.Value, e.TsMillis))
		}
		if got := strings.Join(vs, " "); res[i].Err != nil || got != tc.want {
			t.Errorf("%s after %d: %q, %v; want %q", tc.key, tc.after, got, res[i].Err, tc.want)
		}
	}
}

// TestTimestamps: a TsMillis without a Bigtable timestamp fails the whole
// call before anything is written.
func TestTimestamps(t *testing.T) {
	s := openStore(t, newServer(t).Addr, nil)
	ctx := t.Context()
	if err := s.CreateDataset(ctx, "ds"); err != nil {
		t.Fatal(err)
	}
	for _, ts := range []int64{-1, maxTsMillis + 1} {
		err := s.MultiPut(ctx, "ds", []kv.Entry{
			{Key: []byte("ok"), Value: []byte("v"), TsMillis: base},
			{Key: []byte("bad"), Value: []byte("v"), TsMillis: ts},
		})
		if err == nil || !strings.Contains(err.Error(), `dataset "ds"`) || !strings.Contains(err.Error(), "entry 1") {
			t.Errorf("MultiPut of TsMillis %d: %v, want an error naming the dataset and entry 1", ts, err)
		}
	}
	res, err := s.MultiGet(ctx, []kv.GetRequest{{Dataset: "ds", Key: []byte("ok")}})
	if err != nil || res[0].Err != nil || len(res[0].Values) != 0 {
		t.Errorf("after failed writes: %v, %+v; want no values", err, res)
	}
}

// TestChunks writes and expires with tiny request limits: requests follow
// each other in order, so the last of equal (key, TsMillis) entries wins
// even across requests, and Expire pages.
func TestChunks(t *testing.T) {
	s := openStore(t, newServer(t).Addr, func(o *Options) {
		o.Experimental.BulkMutations = 3
		o.Experimental.BulkBytes = 40
		o.Experimental.ExpirePageRows = 2
	})
	ctx := t.Context()
	if err := s.CreateDataset(ctx, "ds"); err != nil {
		t.Fatal(err)
	}
	var es []kv.Entry
	for round := range 3 {
		for k := range 5 {
			for ts := range int64(2) {
				es = append(es, kv.Entry{
					Key:      fmt.Appendf(nil, "key%d", k),
					Value:    fmt.Appendf(nil, "r%d", round),
					TsMillis: base + ts,
				})
			}
		}
	}
	es = append(es, kv.Entry{Key: []byte("big"), Value: []byte(strings.Repeat("x", 100)), TsMillis: base})
	if err := s.BulkLoad(ctx, "ds", es); err != nil {
		t.Fatal(err)
	}
	var reqs []kv.GetRequest
	for k := range 5 {
		reqs = append(reqs, kv.GetRequest{Dataset: "ds", Key: fmt.Appendf(nil, "key%d", k), AfterMillis: 1})
	}
	res, err := s.MultiGet(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil || len(r.Values) != 2 || string(r.Values[0].Value) != "r2" || string(r.Values[1].Value) != "r2" {
			t.Errorf("key%d: %+v", i, r)
		}
	}
	n, err := s.Expire(ctx, "ds", base+1, false)
	if err != nil || n != 6 {
		t.Errorf("Expire = %d, %v; want 6 (5 keys and big)", n, err)
	}
	n, err = s.Expire(ctx, "ds", base+2, true)
	if err != nil || n != 0 {
		t.Errorf("Expire keepLatest = %d, %v; want 0", n, err)
	}
}

// TestRowErrors: a row Bigtable refuses fails the write with the count of
// failed rows and the dataset's name. Here the table lacks family v.
func TestRowErrors(t *testing.T) {
	srv := newServer(t)
	ctx := t.Context()
	_, ac := rawClients(t, srv.Addr)
	if err := ac.CreateTable(ctx, "nov"); err != nil {
		t.Fatal(err)
	}
	if err := ac.CreateColumnFamily(ctx, "nov", familyDataset); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, srv.Addr, func(o *Options) { o.Table = "nov"; o.SkipCreate = true })
	if err := s.CreateDataset(ctx, "ds"); err != nil {
		t.Fatal(err)
	}
	err := s.BulkLoad(ctx, "ds", []kv.Entry{
		{Key: []byte("a"), Value: []byte("1"), TsMillis: base},
		{Key: []byte("b"), Value: []byte("2"), TsMillis: base},
	})
	if err == nil || !strings.Contains(err.Error(), `bulkload dataset "ds"`) || !strings.Contains(err.Error(), "2 of 2 rows failed") {
		t.Errorf("BulkLoad without family v: %v", err)
	}
}

// TestOpen covers the emulator wiring and table creation.
func TestOpen(t *testing.T) {
	t.Run("environment", func(t *testing.T) {
		srv := newServer(t)
		t.Setenv(EmulatorEnv, srv.Addr)
		s := openStore(t, "", nil) // no Emulator, Project or Instance
		if s.opts.Emulator != srv.Addr || s.opts.Project != emulatorProject || s.opts.Table != DefaultTable {
			t.Errorf("options %+v", s.opts)
		}
		if err := s.CreateDataset(t.Context(), "ds"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("scheme", func(t *testing.T) {
		s := openStore(t, "http://"+newServer(t).Addr, nil)
		if err := s.CreateDataset(t.Context(), "ds"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no project", func(t *testing.T) {
		t.Setenv(EmulatorEnv, "")
		for _, o := range []Options{{}, {Project: "p"}, {Instance: "i"}} {
			if s, err := Open(t.Context(), o); err == nil {
				_ = s.Close()
				t.Errorf("Open(%+v) succeeded", o)
			}
		}
	})
	t.Run("bad knob", func(t *testing.T) {
		o := Options{Emulator: "localhost:1"}
		o.Experimental.BulkMutations = DefaultBulkMutations + 1
		if s, err := Open(t.Context(), o); err == nil {
			_ = s.Close()
			t.Error("Open with BulkMutations over the limit succeeded")
		}
	})
	t.Run("adds missing family", func(t *testing.T) {
		srv := newServer(t)
		_, ac := rawClients(t, srv.Addr)
		ctx := t.Context()
		if err := ac.CreateTable(ctx, DefaultTable); err != nil {
			t.Fatal(err)
		}
		if err := ac.CreateColumnFamily(ctx, DefaultTable, familyValue); err != nil {
			t.Fatal(err)
		}
		openStore(t, srv.Addr, nil)
		openStore(t, srv.Addr, nil) // again: nothing to do
		info, err := ac.TableInfo(ctx, DefaultTable)
		if err != nil {
			t.Fatal(err)
		}
		if len(info.FamilyInfos) != 2 {
			t.Errorf("families %+v, want v and d", info.FamilyInfos)
		}
	})
	t.Run("skip create", func(t *testing.T) {
		s := openStore(t, newServer(t).Addr, func(o *Options) { o.SkipCreate = true })
		if s.admin != nil {
			t.Error("SkipCreate made an admin client")
		}
		err := s.CreateDataset(t.Context(), "ds")
		if err == nil || !strings.Contains(err.Error(), "not found") {
			t.Errorf("CreateDataset without a table: %v, want not found", err)
		}
	})
}

// TestDatasets: the empty name, and datasets created by another Store
// (process) after this one looked for them.
func TestDatasets(t *testing.T) {
	srv := newServer(t)
	ctx := t.Context()
	a := openStore(t, srv.Addr, nil)
	b := openStore(t, srv.Addr, nil)

	if err := a.CreateDataset(ctx, ""); err == nil {
		t.Error("CreateDataset of the empty name succeeded")
	}
	res, err := a.MultiGet(ctx, []kv.GetRequest{{Dataset: "", Key: []byte("k")}})
	if err != nil || !errors.Is(res[0].Err, kv.ErrNoDataset) {
		t.Errorf("MultiGet of the empty name: %v, %+v", err, res)
	}
	if err := a.MultiPut(ctx, "", nil); !errors.Is(err, kv.ErrNoDataset) {
		t.Errorf("MultiPut of the empty name: %v", err)
	}

	get := func() error {
		res, err := b.MultiGet(ctx, []kv.GetRequest{{Dataset: "late", Key: []byte("k")}})
		if err != nil {
			return err
		}
		return res[0].Err
	}
	if err := get(); !errors.Is(err, kv.ErrNoDataset) || !strings.Contains(err.Error(), `"late"`) {
		t.Errorf("before CreateDataset: %v, want kv.ErrNoDataset naming the dataset", err)
	}
	if err := a.CreateDataset(ctx, "late"); err != nil {
		t.Fatal(err)
	}
	if err := get(); err != nil {
		t.Errorf("after CreateDataset in another store: %v", err)
	}
	if !b.isKnown("late") {
		t.Error("the dataset is not cached")
	}
}

// TestClosed: a closed Store fails every call; Close again does nothing.
func TestClosed(t *testing.T) {
	s := openStore(t, newServer(t).Addr, nil)
	ctx := t.Context()
	if err := s.CreateDataset(ctx, "ds"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.MultiGet(ctx, []kv.GetRequest{{Dataset: "ds", Key: []byte("k")}}); !errors.Is(err, errClosed) {
		t.Errorf("MultiGet: %v", err)
	}
	if err := s.MultiPut(ctx, "ds", nil); !errors.Is(err, errClosed) {
		t.Errorf("MultiPut: %v", err)
	}
	if err := s.BulkLoad(ctx, "ds", nil); !errors.Is(err, errClosed) {
		t.Errorf("BulkLoad: %v", err)
	}
	if _, err := s.Expire(ctx, "ds", base, false); !errors.Is(err, errClosed) {
		t.Errorf("Expire: %v", err)
	}
	if err := s.CreateDataset(ctx, "ds"); !errors.Is(err, errClosed) {
		t.Errorf("CreateDataset: %v", err)
	}
}
