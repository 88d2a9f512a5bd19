// SPDX-License-Identifier: Apache-2.0

package beamrun

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	beamlog "github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/direct"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"
)

// Runner names.
const (
	Direct   = "direct"
	Prism    = "prism"
	Dataflow = "dataflow"
	Flink    = "flink"
)

// Names lists the runners Run accepts.
var Names = []string{Direct, Prism, Dataflow, Flink}

// Options choose and configure the runner.
type Options struct {
	// Runner is one of Names; "" means direct.
	Runner string
	// Endpoint is a portable job server (flink; optional for prism, which
	// otherwise starts in process).
	Endpoint string
	// Dataflow settings.
	Project, Region, StagingLocation, TempLocation string
	// DryRun prints the Dataflow job instead of submitting it.
	DryRun bool
	// EnvironmentType and EnvironmentConfig choose how a portable runner
	// starts workers (LOOPBACK, PROCESS, DOCKER, EXTERNAL).
	EnvironmentType, EnvironmentConfig string
	// WorkerBinary is the worker a portable runner starts (default: Beam
	// builds one; the chronon binary is its own worker).
	WorkerBinary string
	// JobName names the job on the runner.
	JobName string
	// Parallelism is the Flink parallelism (0: the runner's default).
	Parallelism int
	// Log receives Beam's log lines (nil: discarded).
	Log *slog.Logger
}

// initOnce guards beam.Init: the launcher calls it once before building
// pipelines (a worker process calls it from main instead).
var initOnce sync.Once

// Init initializes Beam in a launcher process. It is idempotent.
func Init() { initOnce.Do(beam.Init) }

// Run executes p and waits for it (a Dataflow dry run returns after
// printing the job).
func Run(ctx context.Context, p *beam.Pipeline, o Options) error {
	set := func(name, value string) error {
		if value == "" {
			return nil
		}
		if err := flag.Set(name, value); err != nil {
			return fmt.Errorf("runner option %s: %w", name, err)
		}
		return nil
	}
	settings := [][2]string{
		{"endpoint", o.Endpoint},
		{"job_name", o.JobName},
		{"environment_type", o.EnvironmentType},
		{"environment_config", o.EnvironmentConfig},
		{"worker_binary", o.WorkerBinary},
	}
	if o.Parallelism > 0 {
		settings = append(settings, [2]string{"parallelism", strconv.Itoa(o.Parallelism)})
	}
	var exec func(context.Context, *beam.Pipeline) (beam.PipelineResult, error)
	switch o.Runner {
	case "", Direct:
		exec = direct.Execute
	case Prism:
		exec = prism.Execute
	case Flink:
		if o.Endpoint == "" {
			return fmt.Errorf("runner flink: --endpoint (the Flink job server, host:port) is required")
		}
		exec = universal.Execute
	case Dataflow:
		if o.Project == "" || o.Region == "" {
			return fmt.Errorf("runner dataflow: --project and --region are required")
		}
		if o.StagingLocation == "" {
			if !o.DryRun {
				return fmt.Errorf("runner dataflow: --staging-location (gs://bucket/path) is required")
			}
			// A dry run stages nothing; the job names this placeholder.
			o.StagingLocation = "gs://dry-run/staging"
		}
		settings = append(settings,
			[2]string{"project", o.Project},
			[2]string{"region", o.Region},
			[2]string{"staging_location", o.StagingLocation},
			[2]string{"temp_location", o.TempLocation},
			[2]string{"dry_run", strconv.FormatBool(o.DryRun)})
		exec = dataflow.Execute
	default:
		return fmt.Errorf("unknown runner %q (runners: direct, prism, dataflow, flink)", o.Runner)
	}
	for _, s := range settings {
		if err := set(s[0], s[1]); err != nil {
			return err
		}
	}
	Init()
	l := o.Log
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	// Beam's logger is process-wide; the last run's wins.
	beamlog.SetLogger(slogger{l: l, verbose: o.DryRun})
	if _, err := exec(ctx, p); err != nil {
		return fmt.Errorf("run pipeline on %s: %w", o.Name(), err)
	}
	return nil
}

// Name is the runner o chooses ("direct" when unset).
func (o Options) Name() string {
	if o.Runner == "" {
		return Direct
	}
	return o.Runner
}
