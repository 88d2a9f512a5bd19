// SPDX-License-Identifier: Apache-2.0

package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
)

// DefaultDir is the directory, relative to the working directory, holding the
// embedded setup's data when no config file says otherwise.
const DefaultDir = ".chronon"

// Config is the content of chronon.yaml.
type Config struct {
	// Repo is the definitions repository (holding production/). The default
	// value is the working directory.
	Repo string `yaml:"repo"`
	// Warehouse configures offline table storage.
	Warehouse Warehouse `yaml:"warehouse"`
	// KV configures the online key/value store.
	KV KV `yaml:"kv"`
	// PubSub configures streaming sources and the log sink.
	PubSub PubSub `yaml:"pubsub"`
	// Runner chooses where Beam pipelines run.
	Runner Runner `yaml:"runner"`
	// WindowTail is "exact" (T - W <= ts < T to the millisecond) or "hop"
	// (Chronon's tails rounded down to the hop). The default value is "exact".
	WindowTail string `yaml:"window_tail"`
	// Logging configures fetch logging.
	Logging Logging `yaml:"logging"`
	// ExternalSources maps an external source name to the plugin serving it.
	ExternalSources map[string]Plugin `yaml:"external_sources"`
	// Orchestration configures `chronon run` and `chronon dags`.
	Orchestration Orchestration `yaml:"orchestration"`
}

// Orchestration configures `chronon run` (and the DAGs `chronon dags`
// writes, which run its steps). Zero fields mean the defaults.
type Orchestration struct {
	// Parallelism is how many steps run at once. The default value is 4.
	Parallelism int `yaml:"parallelism"`
	// WaitTimeout is how long a run waits for missing input partitions
	// (a Go duration, e.g. 30m). The default value is 1h.
	WaitTimeout string `yaml:"wait_timeout"`
	// PollInterval is how often missing inputs are checked again. The
	// default value is 30s.
	PollInterval string `yaml:"poll_interval"`
	// Retention says what old data the run removes.
	Retention Retention `yaml:"retention"`
	// DagStartDate is the start_date of generated Airflow DAGs
	// (YYYY-MM-DD). The default value is 2023-01-01.
	DagStartDate string `yaml:"dag_start_date"`
}

// Retention says how much old data `chronon run` keeps.
type Retention struct {
	// BatchVersions is how many daily batch uploads of a group-by the KV
	// store keeps (the latest is always kept). The default value is 3.
	BatchVersions int `yaml:"batch_versions"`
	// StreamingSlackDays keeps streaming values this many days older than
	// the latest batch end (the fetcher reads from the batch end on; the
	// slack covers fetchers still serving the previous upload). The
	// default value is 1; -1 keeps none.
	StreamingSlackDays int `yaml:"streaming_slack_days"`
	// LogTTLDays is how many days of fetch log partitions (the raw log
	// table and each join's _logged table) are kept; older ones are
	// emptied. The default value is 30.
	LogTTLDays int `yaml:"log_ttl_days"`
}

// Warehouse configures offline table storage.
type Warehouse struct {
	// Root is a local path, a file:// URI or (with the offline engine) a gs://
	// URI. The default value is ./.chronon/warehouse.
	Root string `yaml:"root"`
	// Plugin, when set, serves the warehouse from a plugin binary instead.
	Plugin string `yaml:"plugin"`
	// Config is passed to the plugin as is.
	Config map[string]any `yaml:"config"`
}

// KV configures the online key/value store.
type KV struct {
	// Store is "sqlite" (embedded) or "bigtable". The default value is
	// "sqlite", or "plugin" when Plugin is set.
	Store string `yaml:"store"`
	// Path is the SQLite database file. The default value is ./.chronon/kv.db.
	Path string `yaml:"path"`
	// Project and Instance name the Bigtable instance (store: bigtable).
	Project  string `yaml:"project"`
	Instance string `yaml:"instance"`
	// Emulator is a Bigtable emulator address (host:port) for tests.
	Emulator string `yaml:"emulator"`
	// Process runs the built-in store (sqlite or bigtable) as a plugin
	// process ("chronon plugin serve <store>") instead of in process: a
	// crash of the store cannot take the server down, and the host
	// restarts it with backoff.
	Process bool `yaml:"process"`
	// Plugin is the path of a KV store plugin binary.
	Plugin string `yaml:"plugin"`
	// Config is passed to the plugin as is.
	Config map[string]any `yaml:"config"`
}

// PubSub configures Google Pub/Sub.
type PubSub struct {
	// Project is the Pub/Sub project. The default value is "local".
	Project string `yaml:"project"`
	// Emulator is a pstest/emulator address; PUBSUB_EMULATOR_HOST is used when
	// it is empty. The default value is "" (real Pub/Sub).
	Emulator string `yaml:"emulator"`
}

// Runner chooses where Beam pipelines run.
type Runner struct {
	// Name is direct, prism, dataflow or flink. The default value is "direct".
	Name string `yaml:"name"`
	// Endpoint is the Flink job server or an external prism endpoint.
	Endpoint string `yaml:"endpoint"`
	// Dataflow options (name: dataflow).
	Project         string `yaml:"project"`
	Region          string `yaml:"region"`
	TempLocation    string `yaml:"temp_location"`
	StagingLocation string `yaml:"staging_location"`
	MachineType     string `yaml:"machine_type"`
	MaxWorkers      int    `yaml:"max_workers"`
	// Options are passed to the runner as --key=value flags.
	Options map[string]string `yaml:"options"`
}

// Logging configures fetch logging.
type Logging struct {
	// Namespace holds chronon_log_table. The default value is "chronon".
	Namespace string `yaml:"namespace"`
	// Sink is where chronon serve writes the fetch logs of joins with
	// samplePercent > 0: "warehouse" (the table chronon_log_table in
	// Namespace, which chronon log-flatten reads), "pubsub" (Topic) or
	// "none". The default value is "warehouse".
	Sink string `yaml:"sink"`
	// Topic is the Pub/Sub topic (sink: pubsub). The default value is
	// "chronon-fetch-log".
	Topic string `yaml:"topic"`
}

// Plugin names a plugin binary and its configuration.
type Plugin struct {
	// Plugin is the path of the plugin binary, or a built-in name.
	Plugin string `yaml:"plugin"`
	// Config is passed to the plugin as is.
	Config map[string]any `yaml:"config"`
}

// Supported values, listed in error messages.
var (
	windowTails = []string{"exact", "hop"}
	kvStores    = []string{"sqlite", "bigtable", "plugin"}
	runners     = []string{"direct", "prism", "dataflow", "flink"}
	logSinks    = []string{"warehouse", "pubsub", "none"}
)

// Parse reads chronon.yaml content. Relative paths in it are resolved
// against baseDir (the config file's directory). Unknown keys and bad values
// are errors naming the key and line.
func Parse(data []byte, baseDir string) (*Config, error) {
	c := &Config{}
	if err := yaml.UnmarshalWithOptions(data, c, yaml.DisallowUnknownField()); err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			return nil, fmt.Errorf("line %d: %s", ye.GetToken().Position.Line, ye.GetMessage())
		}
		return nil, err
	}
	c.resolve(baseDir)
	c.EnsureDefaults()
	return c, c.Validate()
}

// Default returns the embedded laptop setup rooted at workDir.
func Default(workDir string) *Config {
	c := &Config{}
	c.resolve(workDir)
	return c.EnsureDefaults()
}

// resolve makes relative paths absolute against baseDir and fills the
// default paths under baseDir/.chronon.
func (c *Config) resolve(baseDir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) || strings.Contains(p, "://") {
			return p
		}
		return filepath.Join(baseDir, p)
	}
	if c.Repo == "" {
		c.Repo = baseDir
	}
	c.Repo = abs(c.Repo)
	if c.Warehouse.Root == "" && c.Warehouse.Plugin == "" {
		c.Warehouse.Root = filepath.Join(DefaultDir, "warehouse")
	}
	c.Warehouse.Root = abs(c.Warehouse.Root)
	if c.KV.Path == "" {
		c.KV.Path = filepath.Join(DefaultDir, "kv.db")
	}
	c.KV.Path = abs(c.KV.Path)
}

// EnsureDefaults fills every zero field with its default and returns c.
func (c *Config) EnsureDefaults() *Config {
	if c.KV.Store == "" {
		c.KV.Store = "sqlite"
		if c.KV.Plugin != "" {
			c.KV.Store = "plugin"
		}
	}
	if c.PubSub.Project == "" {
		c.PubSub.Project = "local"
	}
	if c.Runner.Name == "" {
		c.Runner.Name = "direct"
	}
	if c.WindowTail == "" {
		c.WindowTail = "exact"
	}
	if c.Logging.Namespace == "" {
		c.Logging.Namespace = "chronon"
	}
	if c.Logging.Sink == "" {
		c.Logging.Sink = "warehouse"
	}
	if c.Logging.Topic == "" {
		c.Logging.Topic = "chronon-fetch-log"
	}
	o := &c.Orchestration
	if o.Parallelism <= 0 {
		o.Parallelism = 4
	}
	if o.WaitTimeout == "" {
		o.WaitTimeout = "1h"
	}
	if o.PollInterval == "" {
		o.PollInterval = "30s"
	}
	if o.DagStartDate == "" {
		o.DagStartDate = "2023-01-01"
	}
	if o.Retention.BatchVersions <= 0 {
		o.Retention.BatchVersions = 3
	}
	if o.Retention.StreamingSlackDays == 0 {
		o.Retention.StreamingSlackDays = 1
	}
	if o.Retention.LogTTLDays <= 0 {
		o.Retention.LogTTLDays = 30
	}
	return c
}

// Validate checks the values of c (after EnsureDefaults).
func (c *Config) Validate() error {
	var errs []error
	check := func(key, v string, allowed []string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		errs = append(errs, fmt.Errorf("%s: %q is not supported (supported: %s)", key, v, strings.Join(allowed, ", ")))
	}
	check("window_tail", c.WindowTail, windowTails)
	check("kv.store", c.KV.Store, kvStores)
	check("runner.name", c.Runner.Name, runners)
	check("logging.sink", c.Logging.Sink, logSinks)
	if c.KV.Store == "bigtable" && (c.KV.Project == "" || c.KV.Instance == "") {
		errs = append(errs, errors.New("kv: store bigtable needs project and instance"))
	}
	if c.KV.Store == "plugin" && c.KV.Plugin == "" {
		errs = append(errs, errors.New("kv: store plugin needs plugin (the binary's path)"))
	}
	if c.KV.Process && c.KV.Store == "plugin" {
		errs = append(errs, errors.New("kv: process runs a built-in store out of process; a plugin always is"))
	}
	if c.Runner.Name == "flink" && c.Runner.Endpoint == "" {
		errs = append(errs, errors.New("runner: flink needs endpoint (the Flink job server)"))
	}
	for key, v := range map[string]string{"orchestration.wait_timeout": c.Orchestration.WaitTimeout, "orchestration.poll_interval": c.Orchestration.PollInterval} {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive duration (e.g. 30m, 1h)", key, v))
		}
	}
	for name, p := range c.ExternalSources {
		if p.Plugin == "" {
			errs = append(errs, fmt.Errorf("external_sources.%s: plugin is required", name))
		}
	}
	return errors.Join(errs...)
}
