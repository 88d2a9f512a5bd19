// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/config"
)

// app holds what every command shares: the global flags and, once loaded,
// the configuration and logger.
type app struct {
	configPath string
	logFormat  string
	cfg        *config.Config
	log        *slog.Logger
}

func newRootCmd() *cobra.Command {
	a := &app{}
	root := &cobra.Command{
		Use:           "chronon",
		Short:         "chronon-go: define features once, get them offline and online",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setup()
		},
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "chronon.yaml to use (default: ./chronon.yaml if present, else the embedded setup in ./.chronon)")
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", "text", "log format on stderr: text or json")
	root.AddCommand(
		newCompileCmd(a),
		newImportCmd(a),
		newTablesCmd(a),
		newShowCmd(a),
		newSQLCmd(a),
		newAnalyzeCmd(a),
		newStagingQueryCmd(a),
		newBackfillCmd(a),
		newGroupByBackfillCmd(a),
		newLabelJoinCmd(a),
		newUploadCmd(a),
		newMetadataUploadCmd(a),
		newServeCmd(a),
		newFetchCmd(a),
		newPluginCmd(a),
		newDevCmd(a),
		newPublishCmd(a),
		newStreamCmd(a),
		newLogIngestCmd(a),
		newLogFlattenCmd(a),
		newConsistencyCmd(a),
		newRunCmd(a),
		newGraphCmd(a),
		newDagsCmd(a),
		newPartitionExistsCmd(a),
	)
	return root
}

// setup loads the configuration and builds the logger.
func (a *app) setup() error {
	var h slog.Handler
	switch a.logFormat {
	case "text":
		h = slog.NewTextHandler(os.Stderr, nil)
	case "json":
		h = slog.NewJSONHandler(os.Stderr, nil)
	default:
		return fmt.Errorf("--log-format %q is not supported (supported: text, json)", a.logFormat)
	}
	a.log = slog.New(h)
	cfg, err := loadConfig(a.configPath)
	if err != nil {
		return err
	}
	a.cfg = cfg
	return nil
}

// loadConfig reads path, or ./chronon.yaml when path is empty and the file
// exists, or returns the embedded default rooted at the working directory.
func loadConfig(path string) (*config.Config, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	explicit := path != ""
	if !explicit {
		path = "chronon.yaml"
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return config.Default(wd), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	cfg, err := config.Parse(data, filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}
