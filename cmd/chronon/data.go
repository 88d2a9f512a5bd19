// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
	"github.com/chronon-go/chronon/runners/importer"
	"github.com/chronon-go/chronon/runners/warehousesql"
)

// openWarehouse opens the configured warehouse.
func (a *app) openWarehouse() (warehouse.Warehouse, error) {
	if a.cfg.Warehouse.Plugin != "" {
		return nil, fmt.Errorf("warehouse.plugin %q: warehouse plugins are not supported yet; use warehouse.root", a.cfg.Warehouse.Plugin)
	}
	wh, err := parquet.Open(a.cfg.Warehouse.Root, nil)
	if err != nil {
		return nil, fmt.Errorf("open warehouse %s: %w", a.cfg.Warehouse.Root, err)
	}
	return wh, nil
}

func newImportCmd(a *app) *cobra.Command {
	var opts importer.Options
	var schema string
	cmd := &cobra.Command{
		Use:   "import --table NS.T --file F (--ds D | --ds-column COL)",
		Short: "Load a CSV, JSONL or Parquet file into a warehouse table",
		Long: `Import loads a file into the partitions of a warehouse table, in one
transaction: every partition it writes is replaced, others are left alone, and
on any error (a malformed row names its line) nothing changes.

Column types are inferred (integers -> long, decimals -> double, else string)
unless --schema col:type,... says otherwise (string, long, int, double, float,
boolean). Rows go to the partition --ds names, or to the one in --ds-column.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if schema != "" {
				spec, err := batch.ParseSchemaSpec(schema)
				if err != nil {
					return fmt.Errorf("--schema: %w", err)
				}
				opts.SchemaOverrides = spec
			}
			wh, err := a.openWarehouse()
			if err != nil {
				return err
			}
			defer wh.Close()
			progress := importer.NewProgressReporter(cmd.ErrOrStderr(), a.log, 0)
			opts.Progress = progress.Report
			res, err := importer.Import(cmd.Context(), wh, opts)
			progress.Close()
			if err != nil {
				return err
			}
			if len(res.UnusedOverrides) > 0 {
				a.log.Warn("--schema names columns the file does not have", "columns", res.UnusedOverrides)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "imported %d rows into %s (%d partitions, %s .. %s) in %s\n",
				res.Rows, res.Table, len(res.Partitions), firstDS(res), lastDS(res), res.Elapsed.Round(1e6))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Table, "table", "", "destination table, namespace.table (required)")
	f.StringVar(&opts.File, "file", "", "input file (required)")
	f.StringVar(&opts.Format, "format", "", "csv, jsonl or parquet (default: from the file extension)")
	f.StringVar(&opts.DS, "ds", "", "partition (YYYY-MM-DD) for every row")
	f.StringVar(&opts.DSColumn, "ds-column", "", "column holding each row's partition (YYYY-MM-DD)")
	f.StringVar(&schema, "schema", "", "column types, e.g. user_id:string,ts:long")
	_ = cmd.MarkFlagRequired("table")
	_ = cmd.MarkFlagRequired("file")
	cmd.MarkFlagsMutuallyExclusive("ds", "ds-column")
	cmd.MarkFlagsOneRequired("ds", "ds-column")
	return cmd
}

func firstDS(r *importer.Result) string {
	if len(r.Partitions) == 0 {
		return "-"
	}
	return r.Partitions[0].DS
}

func lastDS(r *importer.Result) string {
	if len(r.Partitions) == 0 {
		return "-"
	}
	return r.Partitions[len(r.Partitions)-1].DS
}

func newTablesCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "tables",
		Short: "List warehouse tables with their partitions and row counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			wh, err := a.openWarehouse()
			if err != nil {
				return err
			}
			defer wh.Close()
			return listTables(cmd.Context(), wh, cmd.OutOrStdout())
		},
	}
}

func listTables(ctx context.Context, wh warehouse.Warehouse, out io.Writer) error {
	names, err := wh.Tables(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tPARTITIONS\tFIRST DS\tLAST DS\tROWS\tCOLUMNS")
	for _, n := range names {
		info, err := wh.Describe(ctx, n)
		if err != nil {
			return fmt.Errorf("describe %s: %w", n, err)
		}
		var rows int64
		first, last := "-", "-"
		for _, p := range info.Partitions {
			rows += p.Rows
		}
		if len(info.Partitions) > 0 {
			first, last = info.Partitions[0].DS, info.Partitions[len(info.Partitions)-1].DS
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\t%d\n", n, len(info.Partitions), first, last, rows, info.Schema.NumFields()+1)
	}
	return tw.Flush()
}

func newShowCmd(a *app) *cobra.Command {
	var table, ds, format string
	var limit int64
	cmd := &cobra.Command{
		Use:   "show --table NS.T [--ds D] [--format table|csv|json] [--limit N]",
		Short: "Print a table's rows",
		Long: `Show prints the rows of a table (or of one partition with --ds).
Formats: table (aligned, long cells cut), csv, json (one object per row; lists
as arrays, maps as objects, null as null). --limit 0 prints every row.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ds != "" && !batch.ValidDS(ds) {
				return fmt.Errorf("--ds %q: want YYYY-MM-DD", ds)
			}
			wh, err := a.openWarehouse()
			if err != nil {
				return err
			}
			defer wh.Close()
			sc, err := wh.Scan(cmd.Context(), table, warehouse.ScanOptions{StartDS: ds, EndDS: ds})
			if err != nil {
				return err
			}
			defer sc.Close()
			return render(cmd.OutOrStdout(), format, sc.Schema(), limit, func() (arrow.RecordBatch, error) {
				return sc.Next(cmd.Context())
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&table, "table", "", "table to show, namespace.table (required)")
	f.StringVar(&ds, "ds", "", "only this partition")
	f.StringVar(&format, "format", batch.FormatTable, "table, csv or json")
	f.Int64Var(&limit, "limit", 20, "rows to print at most (0: all)")
	_ = cmd.MarkFlagRequired("table")
	return cmd
}

// render writes batches from next (until io.EOF) in format, stopping after
// limit rows when limit > 0.
func render(out io.Writer, format string, schema *arrow.Schema, limit int64, next func() (arrow.RecordBatch, error)) error {
	r, err := batch.NewRenderer(out, format, schema, batch.RenderOptions{})
	if err != nil {
		return err
	}
	lim := &limitedRenderer{r: r, limit: limit}
	for !lim.full() {
		rec, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		err = lim.write(rec)
		rec.Release()
		if err != nil {
			return err
		}
	}
	return r.Flush()
}

// limitedRenderer passes at most limit rows (all when limit <= 0) to r.
type limitedRenderer struct {
	r     batch.Renderer
	limit int64
	n     int64
}

func (l *limitedRenderer) full() bool { return l.limit > 0 && l.n >= l.limit }

// write renders rec, cut to what the limit leaves; the caller keeps
// ownership of rec.
func (l *limitedRenderer) write(rec arrow.RecordBatch) error {
	if l.full() {
		return nil
	}
	if l.limit > 0 && l.n+rec.NumRows() > l.limit {
		cut := rec.NewSlice(0, l.limit-l.n)
		defer cut.Release()
		rec = cut
	}
	l.n += rec.NumRows()
	return l.r.WriteBatch(rec)
}

func newSQLCmd(a *app) *cobra.Command {
	var format string
	var limit int64
	cmd := &cobra.Command{
		Use:   `sql "SELECT ..."`,
		Short: "Run SQL (DuckDB) over the warehouse; every table is a view ns.table with its ds column",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			wh, err := a.openWarehouse()
			if err != nil {
				return err
			}
			defer wh.Close()
			db, err := warehousesql.Open(cmd.Context(), wh)
			if err != nil {
				return err
			}
			defer db.Close()
			var lim *limitedRenderer
			err = db.QueryEach(cmd.Context(), args[0], func(schema *arrow.Schema, rec arrow.RecordBatch) error {
				if lim == nil {
					r, err := batch.NewRenderer(cmd.OutOrStdout(), format, schema, batch.RenderOptions{})
					if err != nil {
						return err
					}
					lim = &limitedRenderer{r: r, limit: limit}
				}
				return lim.write(rec)
			})
			if err != nil {
				return err
			}
			if lim == nil {
				return nil
			}
			return lim.r.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", batch.FormatTable, "table, csv or json")
	cmd.Flags().Int64Var(&limit, "limit", 0, "rows to print at most (0: all)")
	return cmd
}
