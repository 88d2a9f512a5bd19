// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/chronon-go/chronon/fetcher"
)

func TestReadFetchRequests(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []fetcher.Request
		err        string
	}{
		{name: "keys and times", file: `{"keys": {"user_id": "5"}, "atMillis": 1700000000000}

{"keys": {"user_id": 7, "return_id": "r1"}}
`, want: []fetcher.Request{
			{Name: "t/j.v1", Keys: map[string]any{"user_id": "5"}, AtMillis: 1700000000000},
			{Name: "t/j.v1", Keys: map[string]any{"user_id": json.Number("7"), "return_id": "r1"}, AtMillis: 42},
		}},
		{name: "bad JSON names the line", file: "{\"keys\": {}}\n{\"keys\": \n", err: ":2:"},
		{name: "keys must be an object", file: `{"keys": [1]}`, err: ":1: keys"},
		{name: "missing keys", file: `{"atMillis": 5}`, err: ":1: keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "requests.jsonl")
			if err := os.WriteFile(path, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := readFetchRequests(path, "t/j.v1", 42)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}
