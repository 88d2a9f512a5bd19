// SPDX-License-Identifier: Apache-2.0

package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestDefault(t *testing.T) {
	c := Default("/work/dir")
	if c.Warehouse.Root != "/work/dir/.chronon/warehouse" || c.KV.Path != "/work/dir/.chronon/kv.db" {
		t.Errorf("paths: %s %s", c.Warehouse.Root, c.KV.Path)
	}
	if c.KV.Store != "sqlite" || c.Runner.Name != "direct" || c.WindowTail != "exact" ||
		c.Logging.Namespace != "chronon" || c.Logging.Sink != "warehouse" || c.PubSub.Project != "local" || c.Repo != "/work/dir" {
		t.Errorf("defaults: %+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
}

func TestParse(t *testing.T) {
	c, err := Parse([]byte(`
repo: defs
warehouse: {root: gs://bucket/wh}
kv: {store: bigtable, project: p, instance: i}
pubsub: {project: prod, emulator: 127.0.0.1:8085}
runner: {name: dataflow, project: p, region: us-central1, max_workers: 10}
window_tail: hop
logging: {namespace: logs, sink: pubsub}
external_sources: {risk: {plugin: ./bin/risk, config: {url: "http://127.0.0.1:1"}}}
`), "/etc/chronon")
	if err != nil {
		t.Fatal(err)
	}
	if c.Repo != filepath.Join("/etc/chronon", "defs") || c.Warehouse.Root != "gs://bucket/wh" || c.KV.Store != "bigtable" ||
		c.Runner.MaxWorkers != 10 || c.WindowTail != "hop" || c.ExternalSources["risk"].Plugin != "./bin/risk" {
		t.Errorf("parsed: %+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"window_tail: sawtooth", `window_tail: "sawtooth" is not supported (supported: exact, hop)`},
		{"kv: {store: redis}", `kv.store: "redis" is not supported`},
		{"kv: {store: bigtable}", "needs project and instance"},
		{"runner: {name: flink}", "flink needs endpoint"},
		{"\nwarehouse: {rot: x}", "line 2"},
		{"external_sources: {x: {}}", "external_sources.x: plugin is required"},
	} {
		_, err := Parse([]byte(tc.in), "/")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want %q", tc.in, err, tc.want)
		}
	}
}
