// SPDX-License-Identifier: Apache-2.0

package sqlite

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/plugins/kv"
)

// TestLayout checks the file's settings and that every statement on
// values is a search of the primary key, never a scan of the table.
func TestLayout(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "kv.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()

	var mode string
	var version int
	if err := s.r.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v; want wal", mode, err)
	}
	if err := s.r.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil || version != schemaVersion {
		t.Errorf("user_version = %d, %v; want %d", version, err, schemaVersion)
	}
	var ddl string
	if err := s.r.QueryRowContext(ctx, "SELECT sql FROM sqlite_schema WHERE name = 'kv_values'").Scan(&ddl); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ddl, "PRIMARY KEY (dataset, key, ts)") || !strings.HasSuffix(ddl, "WITHOUT ROWID") {
		t.Errorf("kv_values: %s", ddl)
	}
	if _, err := s.r.ExecContext(ctx, "CREATE TABLE x (a)"); err == nil {
		t.Error("a read connection can write")
	}

	get := func(n int) string {
		return sqlGetPrefix + strings.Repeat(sqlGetRow+",", n-1) + sqlGetRow + sqlGetSuffix
	}
	getArgs := []any{0, 1, []byte("k"), 0, 1, 1, []byte("k"), 5}
	tests := []struct {
		name, sql string
		args      []any
		want      []string // plan lines, in order
	}{
		{"lookup", sqlLookup, []any{"D"}, []string{"SEARCH kv_datasets USING COVERING INDEX"}},
		{"get", get(2), getArgs, []string{
			"SCAN 2 CONSTANT ROWS",
			"SCAN req",
			"SEARCH v USING PRIMARY KEY (dataset=? AND key=? AND ts>?)",
			"SEARCH m USING PRIMARY KEY (dataset=? AND key=?)",
		}},
		{"put", sqlPutPrefix + sqlPutRow + sqlPutSuffix, []any{1, []byte("k"), 5, []byte("v")}, nil},
		{"expire", sqlExpire, []any{1, 5}, []string{"SEARCH kv_values USING PRIMARY KEY (dataset=?)"}},
		{"expire keep latest", sqlExpireKeepLatest, []any{1, 5}, []string{
			"SEARCH kv_values USING PRIMARY KEY (dataset=?)",
			"SEARCH newer USING PRIMARY KEY (dataset=? AND key=? AND ts>?)",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := s.w.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tc.sql, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			want := tc.want
			for _, line := range plan {
				if len(want) > 0 && strings.HasPrefix(line, want[0]) {
					want = want[1:]
					continue
				}
				if strings.Contains(line, "SCAN") || strings.Contains(line, "TEMP B-TREE") {
					t.Errorf("plan line %q scans or sorts", line)
				}
			}
			if len(want) > 0 {
				t.Errorf("plan %q lacks %q", plan, want)
			}
			t.Logf("%s: %q", tc.name, plan)
		})
	}
}

// TestEmptyKeyAndValue: an empty key is a key like any other, and nil and
// empty values read back empty.
func TestEmptyKeyAndValue(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "kv.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	if err := s.CreateDataset(ctx, "D"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		key, value []byte
	}{
		{"nil key", nil, []byte("nil")},
		{"empty key again", []byte{}, []byte("empty")},
		{"nil value", []byte("a"), nil},
		{"empty value", []byte("b"), []byte{}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := int64(100 + i)
			if err := s.BulkLoad(ctx, "D", []kv.Entry{{Key: tc.key, Value: tc.value, TsMillis: ts}}); err != nil {
				t.Fatal(err)
			}
			res, err := s.MultiGet(ctx, []kv.GetRequest{{Dataset: "D", Key: tc.key}})
			if err != nil || res[0].Err != nil {
				t.Fatal(err, res[0].Err)
			}
			if v := res[0].Values; len(v) != 1 || string(v[0].Value) != string(tc.value) || v[0].TsMillis != ts {
				t.Errorf("got %+v, want one value %q at %d", v, tc.value, ts)
			}
		})
	}
}
