// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestQuickstartTrainingSetByHand backfills the quickstart training set and
// checks one of its rows against values computed here by hand, straight
// from the generated CSV files:
//
//   - quickstart.purchases.v1 has no topic, so it is SNAPSHOT: a checkout
//     at ts sees the purchases with midnight - 3d <= p.ts < midnight, where
//     midnight starts the UTC day of ts (docs/backfill.md);
//   - quickstart.returns.v1 has a topic, so it is TEMPORAL: the returns
//     with ts - 3d <= r.ts < ts;
//   - quickstart.users.v1 is the users snapshot of the day before.
//
// The row is the first checkout whose user has purchases and returns in
// those windows and whose purchases differ between the two rules, so the
// check tells them apart.
func TestQuickstartTrainingSetByHand(t *testing.T) {
	dir := quickstartDir(t, nil)
	mustRun(t, dir, "backfill", "--conf", "quickstart.training_set.v1")

	const day = int64(24 * 60 * 60 * 1000)
	checkouts := readCSV(t, filepath.Join(dir, "checkouts.csv"))
	purchases := readCSV(t, filepath.Join(dir, "purchases.csv"))
	returns := readCSV(t, filepath.Join(dir, "returns.csv"))
	users := readCSV(t, filepath.Join(dir, "users.csv"))

	// sumCount adds up column amount of rows of user with from <= ts < to.
	sumCount := func(rows []map[string]string, user, amount string, from, to int64) (sum, count int64) {
		for _, r := range rows {
			ts := atoi(t, r["ts"])
			if r["user_id"] == user && from <= ts && ts < to {
				sum += atoi(t, r[amount])
				count++
			}
		}
		return sum, count
	}
	seen := map[string]int{}
	for _, c := range checkouts {
		seen[c["user_id"]+"@"+c["ts"]]++
	}
	type expected struct {
		user                   string
		ts                     int64
		pSum, pCount           int64 // purchases, 3d, as of midnight
		rSum, rCount           int64 // returns, 3d, as of ts
		created, emailVerified string
	}
	var want *expected
	for _, c := range checkouts {
		user, ts := c["user_id"], atoi(t, c["ts"])
		midnight := ts / day * day
		pSum, pCount := sumCount(purchases, user, "purchase_price", midnight-3*day, midnight)
		naiveSum, _ := sumCount(purchases, user, "purchase_price", ts-3*day, ts)
		rSum, rCount := sumCount(returns, user, "refund_amt", ts-3*day, ts)
		if pCount == 0 || rCount == 0 || pSum == naiveSum || seen[user+"@"+c["ts"]] != 1 {
			continue
		}
		want = &expected{user: user, ts: ts, pSum: pSum, pCount: pCount, rSum: rSum, rCount: rCount}
		break
	}
	if want == nil {
		t.Fatal("no checkout fits the check; the generated data changed")
	}
	// The users snapshot of the day before the checkout's day.
	for _, u := range users {
		if u["user_id"] == want.user && u["ds"] == "2023-11-29" {
			want.created, want.emailVerified = u["account_created_ds"], u["email_verified"]
		}
	}
	t.Logf("checkout of user %s at %d: purchases 3d sum %d count %d; returns 3d sum %d count %d; account created %s",
		want.user, want.ts, want.pSum, want.pCount, want.rSum, want.rCount, want.created)

	var got map[string]any
	for _, line := range tableRows(t, dir, "default.quickstart_training_set_v1") {
		d := json.NewDecoder(strings.NewReader(line))
		d.UseNumber()
		var row map[string]any
		if err := d.Decode(&row); err != nil {
			t.Fatal(err)
		}
		if row["user_id"] == want.user && row["ts"] == json.Number(strconv.FormatInt(want.ts, 10)) {
			if got != nil {
				t.Fatalf("two output rows for user %s at %d", want.user, want.ts)
			}
			got = row
		}
	}
	if got == nil {
		t.Fatalf("no output row for user %s at %d", want.user, want.ts)
	}
	for col, v := range map[string]any{
		"quickstart_purchases_v1_purchase_price_sum_3d":   json.Number(strconv.FormatInt(want.pSum, 10)),
		"quickstart_purchases_v1_purchase_price_count_3d": json.Number(strconv.FormatInt(want.pCount, 10)),
		"quickstart_returns_v1_refund_amt_sum_3d":         json.Number(strconv.FormatInt(want.rSum, 10)),
		"quickstart_returns_v1_refund_amt_count_3d":       json.Number(strconv.FormatInt(want.rCount, 10)),
		"quickstart_users_v1_account_created_ds":          want.created,
		"quickstart_users_v1_email_verified":              want.emailVerified,
		"ds":                                              "2023-11-30",
	} {
		if got[col] != v {
			t.Errorf("%s = %v, computed by hand %v", col, got[col], v)
		}
	}
}

// readCSV reads a CSV file with a header into maps from column to value.
func readCSV(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]map[string]string, 0, len(records)-1)
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, col := range records[0] {
			row[col] = rec[i]
		}
		rows = append(rows, row)
	}
	return rows
}

func atoi(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
