// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/runners/orchestrate/airflow"
)

func newDagsCmd(a *app) *cobra.Command {
	var repo, out, command string
	var noCheck bool
	cmd := &cobra.Command{
		Use:   "dags --out DIR [--repo DIR] [--command 'chronon --config ...']",
		Short: "Write Airflow DAG files (one per team) that run the same graph as chronon run",
		Long: `Dags writes DIR/chronon_<team>.py for every team: a @daily DAG with a
BashOperator per step running "chronon run --ds {{ ds }} --step ID", a
BashSensor per table the team's steps wait for that it does not write
(running "chronon partition-exists"), and the edges between them.
orchestration.dag_start_date in chronon.yaml sets start_date.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, err := a.graphForPrinting(cmd, repo, noCheck)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			opts := airflow.Options{Command: command, StartDate: a.cfg.Orchestration.DagStartDate}
			for _, team := range g.Teams() {
				path := filepath.Join(out, airflow.FileName(team))
				// Write aside and rename: a scheduler polling DIR never
				// parses half a file.
				tmp := path + ".tmp"
				if err := os.WriteFile(tmp, airflow.Render(g, team, opts), 0o644); err != nil {
					return err
				}
				if err := os.Rename(tmp, path); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), path)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory for the DAG files (required)")
	cmd.Flags().StringVar(&repo, "repo", "", "definitions repository (default: chronon.yaml's repo, else the working directory)")
	cmd.Flags().StringVar(&command, "command", "chronon", "the chronon command line the tasks run (add --config for production)")
	cmd.Flags().BoolVar(&noCheck, "no-check-tables", false, "do not check the tables read against the warehouse")
	_ = cmd.MarkFlagRequired("out")
	return cmd
}

// errNoPartition makes partition-exists exit non-zero (a sensor pokes
// again).
var errNoPartition = errors.New("partition not there yet")

func newPartitionExistsCmd(a *app) *cobra.Command {
	var table, ds string
	cmd := &cobra.Command{
		Use:   "partition-exists --table NS.T --ds D",
		Short: "Exit 0 when a table has partition D, 1 otherwise (for schedulers' sensors)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !batch.ValidDS(ds) {
				return fmt.Errorf("--ds %q: want YYYY-MM-DD", ds)
			}
			wh, err := a.openWarehouse()
			if err != nil {
				return err
			}
			defer wh.Close()
			ok, err := partitionExists(wh)(cmd.Context(), table, ds)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%s/ds=%s: %w", table, ds, errNoPartition)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s/ds=%s exists\n", table, ds)
			return nil
		},
	}
	cmd.Flags().StringVar(&table, "table", "", "table, namespace.table (required)")
	cmd.Flags().StringVar(&ds, "ds", "", "partition, YYYY-MM-DD (required)")
	_ = cmd.MarkFlagRequired("table")
	_ = cmd.MarkFlagRequired("ds")
	return cmd
}

// yesterday is yesterday's partition, UTC.
func yesterday() string { return batch.FormatDS(time.Now().UTC().AddDate(0, 0, -1)) }
