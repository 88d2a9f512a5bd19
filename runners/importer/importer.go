// SPDX-License-Identifier: Apache-2.0

package importer

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
)

// Input formats accepted in Options.Format.
const (
	// FormatCSV is comma-separated values with a header row; an empty cell
	// is null.
	FormatCSV = "csv"
	// FormatJSONL is JSON Lines: one flat JSON object per line.
	FormatJSONL = "jsonl"
	// FormatParquet is an Apache Parquet file.
	FormatParquet = "parquet"
)

// Options say what to import and where.
type Options struct {
	// Table is the destination table, "namespace.table".
	Table string
	// File is the path of the input file.
	File string
	// Format is FormatCSV, FormatJSONL or FormatParquet. Empty means from the
	// file's extension: .csv, .jsonl or .ndjson, .parquet or .pq; a CSV or
	// JSONL file may also be gzip-compressed with a further .gz.
	Format string
	// DS, when set, is the partition ("YYYY-MM-DD") of every row.
	DS string
	// DSColumn, when set, names the column holding each row's partition
	// value ("YYYY-MM-DD" strings, or a date32 column in Parquet). The column
	// is not stored as a data column. Exactly one of DS and DSColumn is
	// required.
	DSColumn string
	// SchemaOverrides give the type of some columns (see
	// batch.ParseSchemaSpec) instead of inferring it. In Parquet input, the
	// named columns are cast. Overrides naming columns the file does not
	// have are ignored (one spec can serve several files) and listed in
	// Result.UnusedOverrides.
	SchemaOverrides batch.SchemaSpec
	// BatchRows is the number of rows per decoded batch and the size at
	// which a partition's buffered rows are written. Zero means
	// batch.DefaultDecodeBatchRows.
	BatchRows int
	// Progress, when set, is called with the import's progress, at most a
	// few times a second, and once more at the end of each phase. See
	// NewProgressReporter for a ready-made one.
	Progress func(Progress)
	// Mem allocates the record batches. Nil means memory.DefaultAllocator.
	Mem memory.Allocator
}

// PartitionRows is the number of rows an import wrote to one partition.
type PartitionRows struct {
	DS   string // YYYY-MM-DD
	Rows int64  // rows written (0 for an emptied fixed partition)
}

// Result describes a committed import.
type Result struct {
	// Table and File are those of the Options; Format is the format used.
	Table, File, Format string
	// Schema holds the data columns written (without ds).
	Schema *arrow.Schema
	// Partitions lists each partition written, sorted by DS.
	Partitions []PartitionRows
	// Rows is the total number of rows written.
	Rows int64
	// UnusedOverrides lists the Options.SchemaOverrides columns the file
	// does not have, in spec order.
	UnusedOverrides []string
	// Elapsed is the wall time of the import.
	Elapsed time.Duration
}

// Import reads opts.File and writes its rows to the partitions of
// opts.Table in one warehouse transaction that overwrites every partition
// it writes and leaves the others as they are. On any error the transaction
// is aborted and the table is unchanged. Errors name the table and file, and
// for a bad row its line (text input) or row (Parquet) and column, e.g.
//
//	import data.purchases from purchases.csv: line 17: column "ts": "abc" is not a long
func Import(ctx context.Context, wh warehouse.Warehouse, opts Options) (*Result, error) {
	start := time.Now()
	res, err := run(ctx, wh, &opts)
	if err != nil {
		return nil, fmt.Errorf("import %s from %s: %w", opts.Table, opts.File, err)
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func run(ctx context.Context, wh warehouse.Warehouse, opts *Options) (*Result, error) {
	format, gz, err := checkOptions(opts)
	if err != nil {
		return nil, err
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = batch.DefaultDecodeBatchRows
	}
	if opts.Mem == nil {
		opts.Mem = memory.DefaultAllocator
	}
	var res *Result
	switch format {
	case FormatParquet:
		res, err = importParquet(ctx, wh, opts)
	default:
		res, err = importText(ctx, wh, opts, format, gz)
	}
	if err != nil {
		return nil, err
	}
	res.Table, res.File, res.Format = opts.Table, opts.File, format
	return res, nil
}

// checkOptions validates opts and returns the input format and whether the
// file is gzip-compressed.
func checkOptions(opts *Options) (format string, gz bool, err error) {
	ns, name, ok := strings.Cut(opts.Table, ".")
	if !ok || ns == "" || name == "" || strings.Contains(name, ".") {
		return "", false, fmt.Errorf("bad table name %q: want namespace.table", opts.Table)
	}
	if opts.File == "" {
		return "", false, errors.New("no input file given")
	}
	switch {
	case opts.DS != "" && opts.DSColumn != "":
		return "", false, errors.New("give either a fixed ds or a ds column, not both")
	case opts.DS == "" && opts.DSColumn == "":
		return "", false, errors.New("give a fixed ds (YYYY-MM-DD) for every row or the column holding each row's ds")
	case opts.DS != "" && !batch.ValidDS(opts.DS):
		return "", false, fmt.Errorf("bad ds %q: want YYYY-MM-DD", opts.DS)
	}
	base := strings.ToLower(filepath.Base(opts.File))
	if strings.HasSuffix(base, ".gz") {
		gz = true
		base = strings.TrimSuffix(base, ".gz")
	}
	format = strings.ToLower(opts.Format)
	if format == "" {
		switch filepath.Ext(base) {
		case ".csv":
			format = FormatCSV
		case ".jsonl", ".ndjson":
			format = FormatJSONL
		case ".parquet", ".pq":
			format = FormatParquet
		default:
			return "", false, fmt.Errorf("cannot tell the format from the file name; give one of %s, %s, %s", FormatCSV, FormatJSONL, FormatParquet)
		}
	}
	switch format {
	case FormatCSV, FormatJSONL:
	case FormatParquet:
		if gz {
			return "", false, errors.New("a parquet file cannot be gzip-compressed")
		}
	default:
		return "", false, fmt.Errorf("unknown format %q: want %s, %s or %s", opts.Format, FormatCSV, FormatJSONL, FormatParquet)
	}
	return format, gz, nil
}

// plan maps the input schema to the table's data schema.
type plan struct {
	data    *arrow.Schema // data columns, without the ds column
	dataIdx []int         // input column index of each data column
	dsIdx   int           // input column index of the ds column, or -1
	unused  []string      // overridden columns the file does not have
}

// newPlan checks the input schema against opts and derives the data schema.
func newPlan(in *arrow.Schema, opts *Options) (*plan, error) {
	p := &plan{dsIdx: -1}
	if opts.DSColumn != "" {
		idx := in.FieldIndices(opts.DSColumn)
		if len(idx) == 0 {
			return nil, fmt.Errorf("ds column %q is not in the file (columns: %s)", opts.DSColumn, strings.Join(fieldNames(in), ", "))
		}
		p.dsIdx = idx[0]
		switch in.Field(p.dsIdx).Type.ID() {
		case arrow.STRING, arrow.LARGE_STRING, arrow.DATE32:
		default:
			return nil, fmt.Errorf("ds column %q has type %s: want string or date32", opts.DSColumn, in.Field(p.dsIdx).Type)
		}
	}
	for _, c := range opts.SchemaOverrides {
		if c.Name != opts.DSColumn && len(in.FieldIndices(c.Name)) == 0 {
			p.unused = append(p.unused, c.Name)
		}
	}
	var fields []arrow.Field
	for i, f := range in.Fields() {
		if i == p.dsIdx {
			continue
		}
		if f.Name == warehouse.PartitionColumn {
			return nil, fmt.Errorf("the file has a column named %q, the partition column: import it as the ds column or rename it", f.Name)
		}
		fields = append(fields, arrow.Field{Name: f.Name, Type: f.Type, Nullable: f.Nullable})
		p.dataIdx = append(p.dataIdx, i)
	}
	if len(fields) == 0 {
		return nil, errors.New("the file has no data columns besides the ds column")
	}
	p.data = arrow.NewSchema(fields, nil)
	return p, nil
}

func fieldNames(s *arrow.Schema) []string {
	out := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = f.Name
	}
	return out
}

// textOverrides returns opts' overrides, with the ds column forced to string.
func textOverrides(opts *Options) (batch.SchemaSpec, error) {
	overrides := slices.Clone(opts.SchemaOverrides)
	if opts.DSColumn == "" {
		return overrides, nil
	}
	if dt, ok := overrides.Lookup(opts.DSColumn); ok {
		if dt.ID() != arrow.STRING {
			return nil, fmt.Errorf("ds column %q must be a string, not %s", opts.DSColumn, batch.SpecTypeName(dt))
		}
		return overrides, nil
	}
	return append(overrides, batch.ColumnType{Name: opts.DSColumn, Type: arrow.BinaryTypes.String}), nil
}

// openInput opens path for one pass, counting the (compressed) bytes read,
// and returns the reader and a function closing everything.
func openInput(path string, gz bool, counted func(n int64)) (io.Reader, func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	var r io.Reader = &countingReader{r: f, counted: counted}
	if !gz {
		return r, f.Close, nil
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read gzip: %w", err)
	}
	return zr, func() error { return errors.Join(zr.Close(), f.Close()) }, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r       io.Reader
	n       int64
	counted func(n int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.counted != nil {
		c.counted(c.n)
	}
	return n, err
}

func importText(ctx context.Context, wh warehouse.Warehouse, opts *Options, format string, gz bool) (res *Result, err error) {
	overrides, err := textOverrides(opts)
	if err != nil {
		return nil, err
	}
	var size int64
	if st, err := os.Stat(opts.File); err == nil {
		size = st.Size()
	}
	prog := newTicker(opts.Progress)

	// Pass 1: infer the schema.
	infer := batch.InferCSV
	if format == FormatJSONL {
		infer = batch.InferJSONL
	}
	in, closeIn, err := openInput(opts.File, gz, func(n int64) {
		prog.report(Progress{Phase: PhaseInfer, Unit: UnitBytes, Done: n, Total: size}, false)
	})
	if err != nil {
		return nil, err
	}
	schema, inferRows, err := infer(in, overrides)
	if cerr := closeIn(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if inferRows >= 0 { // else every column was overridden: only the header was read
		prog.report(Progress{Phase: PhaseInfer, Unit: UnitBytes, Done: size, Total: size, Rows: inferRows}, true)
	}
	p, err := newPlan(schema, opts)
	if err != nil {
		return nil, err
	}

	// Pass 2: decode and route.
	var done int64
	in, closeIn, err = openInput(opts.File, gz, func(n int64) { done = n })
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := closeIn(); err == nil && cerr != nil {
			res, err = nil, cerr
		}
	}()
	dopts := batch.DecodeOptions{BatchRows: opts.BatchRows, Mem: opts.Mem}
	var dec batch.RecordDecoder
	if format == FormatJSONL {
		dec, err = batch.NewJSONLDecoder(in, schema, dopts)
	} else {
		dec, err = batch.NewCSVDecoder(in, schema, dopts)
	}
	if err != nil {
		return nil, err
	}
	defer dec.Release()

	return writeAll(ctx, wh, opts, p, func(rt *router) error {
		posErr := func(row int, column, msg string) error {
			return &batch.DecodeError{Line: dec.Line(row), Column: column, Msg: msg}
		}
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			rec, err := dec.Next()
			if err == io.EOF {
				prog.report(Progress{Phase: PhaseLoad, Unit: UnitBytes, Done: size, Total: size, Rows: rt.rows}, true)
				return nil
			}
			if err != nil {
				return err
			}
			err = rt.add(ctx, rec, posErr)
			rec.Release()
			if err != nil {
				return err
			}
			prog.report(Progress{Phase: PhaseLoad, Unit: UnitBytes, Done: done, Total: size, Rows: rt.rows}, false)
		}
	})
}

// writeAll begins a transaction on opts.Table with p's data schema, lets
// feed route every row, and commits; on any error it aborts.
func writeAll(ctx context.Context, wh warehouse.Warehouse, opts *Options, p *plan, feed func(*router) error) (*Result, error) {
	txn, err := wh.Begin(ctx, opts.Table, p.data, warehouse.WriteOptions{Mode: warehouse.Overwrite})
	if err != nil {
		return nil, fmt.Errorf("begin write: %w", err)
	}
	rt := newRouter(txn, p, opts)
	defer rt.release()
	err = feed(rt)
	if err == nil {
		err = rt.finish(ctx)
	}
	if err == nil {
		if err = txn.Commit(ctx); err != nil {
			err = fmt.Errorf("commit: %w", err)
		}
	}
	if err != nil {
		if aerr := txn.Abort(); aerr != nil {
			err = errors.Join(err, fmt.Errorf("abort: %w", aerr))
		}
		return nil, err
	}
	return &Result{Schema: p.data, Partitions: rt.partitions(), Rows: rt.rows, UnusedOverrides: p.unused}, nil
}
