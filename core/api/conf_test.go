// SPDX-License-Identifier: Apache-2.0

package api

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestResolveConf(t *testing.T) {
	repo := fstest.MapFS{
		"production/joins/quickstart/training_set.v1":    {Data: []byte("join")},
		"production/group_bys/quickstart/purchases.v1":   {Data: []byte("gb")},
		"production/staging_queries/quickstart/daily.v1": {Data: []byte("sq")},
	}
	cwd := fstest.MapFS{"elsewhere/production/joins/t/j.v1": {Data: []byte("local")}, "notes.txt": {Data: []byte("x")}}
	for _, tc := range []struct {
		conf  string
		kinds []Kind
		data  string
		kind  Kind
		err   string
	}{
		{conf: "quickstart.training_set.v1", data: "join", kind: KindJoin},
		{conf: "quickstart/training_set.v1", data: "join", kind: KindJoin},
		{conf: "quickstart.purchases.v1", kinds: []Kind{KindGroupBy}, data: "gb", kind: KindGroupBy},
		{conf: "production/group_bys/quickstart/purchases.v1", data: "gb", kind: KindGroupBy},
		{conf: "./elsewhere/production/joins/t/j.v1", data: "local", kind: KindJoin},
		{conf: "elsewhere/production/joins/t/j.v1", kinds: []Kind{KindGroupBy}, err: "is a joins, want one of group_bys"},
		{conf: "notes.txt", err: "cannot tell its kind"},
		{conf: "quickstart.purchases.v1", kinds: []Kind{KindJoin}, err: "no definition of that name"},
		{conf: "nope.v1", err: "run chronon compile"},
	} {
		data, kind, err := ResolveConf(cwd, repo, tc.conf, tc.kinds...)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ResolveConf(%s) error = %v, want %q", tc.conf, err, tc.err)
			}
			continue
		}
		if err != nil || string(data) != tc.data || kind != tc.kind {
			t.Errorf("ResolveConf(%s) = %q, %s, %v", tc.conf, data, kind, err)
		}
	}
}
