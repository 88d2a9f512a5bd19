// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chronon-go/chronon/core/batch"
)

var files = []string{"purchases.csv", "returns.csv", "users.csv", "checkouts.csv"}

func testConfig() config {
	return defaultConfig(time.Date(2023, 12, 1, 8, 0, 0, 0, time.UTC))
}

func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = b
	}
	return out
}

func readCSV(t *testing.T, data []byte) (header []string, rows [][]string) {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[0], recs[1:]
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func TestDefaultConfig(t *testing.T) {
	c := defaultConfig(time.Date(2024, 3, 1, 0, 30, 0, 0, time.FixedZone("x", 3*3600)))
	// 2024-03-01 00:30 +03:00 is 2024-02-29 21:30 UTC: yesterday is 2024-02-28.
	if c.endDate != "2024-02-28" {
		t.Errorf("default end date %s, want 2024-02-28", c.endDate)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	c := testConfig()
	a, b, other := t.TempDir(), t.TempDir(), t.TempDir()
	if _, err := generate(a, c); err != nil {
		t.Fatal(err)
	}
	if _, err := generate(b, c); err != nil {
		t.Fatal(err)
	}
	ga, gb := readAll(t, a), readAll(t, b)
	for _, f := range files {
		if !bytes.Equal(ga[f], gb[f]) {
			t.Errorf("%s differs between two runs with the same config", f)
		}
	}
	c.seed++
	if _, err := generate(other, c); err != nil {
		t.Fatal(err)
	}
	for f, data := range readAll(t, other) {
		if bytes.Equal(data, ga[f]) {
			t.Errorf("%s is the same with another seed", f)
		}
	}
	// More purchases leave the other tables as they were.
	c.seed--
	c.purchases = 700
	more := t.TempDir()
	if _, err := generate(more, c); err != nil {
		t.Fatal(err)
	}
	gm := readAll(t, more)
	for _, f := range files[1:] {
		if !bytes.Equal(gm[f], ga[f]) {
			t.Errorf("%s changed with the purchases count", f)
		}
	}
}

func TestGenerateContents(t *testing.T) {
	c := testConfig()
	dir := t.TempDir()
	stats, err := generate(dir, c)
	if err != nil {
		t.Fatal(err)
	}
	data := readAll(t, dir)
	for i, st := range stats {
		if st.name != files[i] || st.bytes != int64(len(data[st.name])) {
			t.Errorf("stats %d: %+v (file has %d bytes)", i, st, len(data[st.name]))
		}
	}

	events := []struct {
		file, header    string
		rows            int
		firstDS, lastDS string
	}{
		{"purchases.csv", "ds,ts,purchase_id,user_id,product_id,purchase_price", 500, "2023-11-01", "2023-11-30"},
		{"returns.csv", "ds,ts,return_id,user_id,product_id,refund_amt", 500, "2023-11-01", "2023-11-30"},
		{"checkouts.csv", "ds,ts,return_id,user_id,product_id,refund_amt", 200, "2023-11-30", "2023-11-30"},
	}
	for _, ev := range events {
		header, rows := readCSV(t, data[ev.file])
		if strings.Join(header, ",") != ev.header {
			t.Errorf("%s header %v, want %s", ev.file, header, ev.header)
		}
		if len(rows) != ev.rows {
			t.Errorf("%s has %d rows, want %d", ev.file, len(rows), ev.rows)
		}
		days := map[string]bool{}
		ids := map[string]bool{}
		var lastTS int64
		for i, r := range rows {
			ds := r[0]
			ts, err := strconv.ParseInt(r[1], 10, 64)
			if err != nil {
				t.Fatalf("%s row %d: ts %q", ev.file, i+1, r[1])
			}
			if got := batch.DSOfMillis(ts); got != ds {
				t.Errorf("%s row %d: ds %s but ts %d is on %s", ev.file, i+1, ds, ts, got)
			}
			if ds < ev.firstDS || ds > ev.lastDS {
				t.Errorf("%s row %d: ds %s outside %s..%s", ev.file, i+1, ds, ev.firstDS, ev.lastDS)
			}
			if ts < lastTS {
				t.Errorf("%s row %d: ts goes back", ev.file, i+1)
			}
			lastTS = ts
			days[ds] = true
			if ids[r[2]] {
				t.Errorf("%s row %d: id %s repeats", ev.file, i+1, r[2])
			}
			ids[r[2]] = true
			for _, v := range r[2:5] {
				if !isDigits(v) {
					t.Errorf("%s row %d: id %q is not digits", ev.file, i+1, v)
				}
			}
			if u, _ := strconv.Atoi(r[3]); u >= c.users {
				t.Errorf("%s row %d: user %s out of range", ev.file, i+1, r[3])
			}
			if amt, err := strconv.Atoi(r[5]); err != nil || amt <= 0 {
				t.Errorf("%s row %d: amount %q is not a positive integer", ev.file, i+1, r[5])
			}
		}
		want, _ := batch.DSRange(ev.firstDS, ev.lastDS)
		if len(days) != len(want) {
			t.Errorf("%s covers %d days, want %d", ev.file, len(days), len(want))
		}
	}

	header, rows := readCSV(t, data["users.csv"])
	if strings.Join(header, ",") != "ds,user_id,account_created_ds,email_verified" {
		t.Errorf("users header %v", header)
	}
	if len(rows) != 100 {
		t.Fatalf("users has %d rows, want 100", len(rows))
	}
	verified := map[string]int{}
	for i, r := range rows {
		if r[0] != "2023-11-29" || r[1] != strconv.Itoa(i) {
			t.Errorf("users row %d: ds %s user %s, want 2023-11-29 %d", i+1, r[0], r[1], i)
		}
		if !batch.ValidDS(r[2]) || r[2] > r[0] {
			t.Errorf("users row %d: account_created_ds %q", i+1, r[2])
		}
		verified[r[3]]++
	}
	if len(verified) != 2 || verified["0"] == 0 || verified["1"] == 0 {
		t.Errorf("email_verified values %v, want both 0 and 1", verified)
	}
}

func TestRun(t *testing.T) {
	now := time.Date(2023, 12, 1, 8, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	err := run([]string{"--out", dir, "--purchases", "1000", "--rows-scale", "2.5", "--users", "10", "--seed", "7"}, &stdout, &stderr, now)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{
		"wrote purchases.csv: 2500 rows, ds 2023-11-01..2023-11-30,",
		"wrote returns.csv: 1250 rows,",
		"wrote users.csv: 10 rows, ds 2023-11-29,",
		"wrote checkouts.csv: 500 rows, ds 2023-11-30,",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{}, "--out is required"},
		{[]string{"--out", dir, "--end-date", "2023-02-30"}, "bad end date"},
		{[]string{"--out", dir, "--users", "0"}, "users must be at least 1"},
		{[]string{"--out", dir, "--rows-scale", "0"}, "--rows-scale must be positive"},
		{[]string{"--out", dir, "extra"}, "unexpected arguments"},
		{[]string{"--nope"}, "flag provided but not defined"},
	} {
		if err := run(tc.args, &stdout, &stderr, now); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("run(%q) error = %v, want %q", tc.args, err, tc.err)
		}
	}
}

func TestGenerateLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large generation")
	}
	c := testConfig()
	c.purchases = 200_000
	start := time.Now()
	stats, err := generate(t.TempDir(), c)
	if err != nil {
		t.Fatal(err)
	}
	if stats[0].rows != 200_000 {
		t.Errorf("purchases rows %d", stats[0].rows)
	}
	t.Logf("200k purchases in %s", time.Since(start))
}
