// SPDX-License-Identifier: Apache-2.0

package blob

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseRoot(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		root    string
		want    location
		wantErr string
	}{
		{root: "/abs/dir", want: location{scheme: "file", dir: "/abs/dir"}},
		{root: "/abs/dir/", want: location{scheme: "file", dir: "/abs/dir"}},
		{root: "rel/wh", want: location{scheme: "file", dir: filepath.Join(wd, "rel", "wh")}},
		{root: "./.chronon/warehouse", want: location{scheme: "file", dir: filepath.Join(wd, ".chronon", "warehouse")}},
		{root: "file:///abs/dir", want: location{scheme: "file", dir: "/abs/dir"}},
		{root: "file://localhost/abs/dir", want: location{scheme: "file", dir: "/abs/dir"}},
		{root: "FILE:///abs", want: location{scheme: "file", dir: "/abs"}},
		{root: "gs://bucket", want: location{scheme: "gs", bucket: "bucket"}},
		{root: "gs://bucket/", want: location{scheme: "gs", bucket: "bucket"}},
		{root: "gs://my-bucket_1.example/prefix", want: location{scheme: "gs", bucket: "my-bucket_1.example", prefix: "prefix/"}},
		{root: "gs://bucket/a/b/", want: location{scheme: "gs", bucket: "bucket", prefix: "a/b/"}},
		{root: "gs://bucket/ds=2024-01-01", want: location{scheme: "gs", bucket: "bucket", prefix: "ds=2024-01-01/"}},

		{root: "", wantErr: "empty root"},
		{root: "gs://", wantErr: "without a bucket"},
		{root: "gs:///wh", wantErr: "without a bucket"},
		{root: "gs://Bucket/wh", wantErr: `bad bucket name "Bucket"`},
		{root: "gs://ab", wantErr: "bad bucket name"},
		{root: "gs://-bucket", wantErr: "bad bucket name"},
		{root: "gs://bucket/a/../b", wantErr: "bad prefix"},
		{root: "gs://bucket/a//b", wantErr: "bad prefix"},
		{root: "gs://bucket/./a", wantErr: "bad prefix"},
		{root: "gs://bucket/wh?x=1", wantErr: "query"},
		{root: "gs://bucket/wh?", wantErr: "query"},
		{root: "gs://bucket/wh#frag", wantErr: "fragment"},
		{root: "gs://user@bucket/wh", wantErr: "user"},
		{root: "gs://bucket:80/wh", wantErr: "port"},
		{root: "s3://bucket/wh", wantErr: `unsupported warehouse root scheme "s3" (supported: local path, file://, gs://)`},
		{root: "hdfs://nn/wh", wantErr: "unsupported warehouse root scheme"},
		{root: "file://host/x", wantErr: `remote host "host"`},
		{root: "file://", wantErr: "without a path"},
	} {
		got, err := parseRoot(tc.root)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("parseRoot(%q) = %+v, %v; want an error containing %q", tc.root, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseRoot(%q) = %+v, %v; want %+v", tc.root, got, err, tc.want)
		}
	}
}

func TestIsLocal(t *testing.T) {
	for root, want := range map[string]bool{
		"/a": true, "rel": true, "file:///a": true, "FILE:///a": true,
		"gs://b/p": false, "s3://b": false,
	} {
		if got := IsLocal(root); got != want {
			t.Errorf("IsLocal(%q) = %v", root, got)
		}
	}
}

func TestCheckPath(t *testing.T) {
	for _, p := range []string{"a", "a/b", "ns/t/ds=2024-01-01/part-x-0.parquet", "_staging/1-ab/x", ".hidden"} {
		if err := checkPath(p); err != nil {
			t.Errorf("checkPath(%q): %v", p, err)
		}
	}
	for _, p := range []string{"", "/a", "a/", "a//b", "../a", "a/..", "./a", "a/./b", `a\b`, "a\x00"} {
		if err := checkPath(p); err == nil {
			t.Errorf("checkPath(%q) succeeded", p)
		}
	}
}
