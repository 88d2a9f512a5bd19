// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/blob"
)

// Scan streams the committed rows of table in the partitions selected by
// opts, in partition order, reading the manifest once: the scan sees the
// table as of that moment. Only the projected columns are decoded; a
// projected column that a file predates reads as nulls. Batches hold at most
// Options.RowGroupRows rows. On GCS each file is read with ranged requests
// made with the context of the Next call that opened the file.
func (w *Warehouse) Scan(ctx context.Context, table string, opts warehouse.ScanOptions) (warehouse.Scanner, error) {
	s, err := w.scan(ctx, table, opts)
	if err != nil {
		return nil, fmt.Errorf("parquet: scan %s: %w", table, err)
	}
	return s, nil
}

func (w *Warehouse) scan(ctx context.Context, table string, opts warehouse.ScanOptions) (*scanner, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, ds := range []string{opts.StartDS, opts.EndDS} {
		if ds != "" && !batch.ValidDS(ds) {
			return nil, fmt.Errorf("bad partition bound %q: want YYYY-MM-DD", ds)
		}
	}
	dir, m, err := w.load(ctx, table)
	if err != nil {
		return nil, err
	}
	s := &scanner{w: w, table: table}
	dsField := arrow.Field{Name: warehouse.PartitionColumn, Type: arrow.BinaryTypes.String}
	var fields []arrow.Field
	if opts.Columns == nil {
		fields = append(fields, m.schema.Fields()...)
		fields = append(fields, dsField)
		s.cols = make([]int, m.schema.NumFields()+1)
		for i := range m.schema.NumFields() {
			s.cols[i] = i
		}
		s.cols[m.schema.NumFields()] = -1
	} else {
		fields = make([]arrow.Field, 0, len(opts.Columns))
		s.cols = make([]int, 0, len(opts.Columns))
		for _, c := range opts.Columns {
			if c == warehouse.PartitionColumn {
				fields = append(fields, dsField)
				s.cols = append(s.cols, -1)
				continue
			}
			i := m.schema.FieldIndices(c)
			if len(i) == 0 {
				return nil, fmt.Errorf("table %s has no column %q", table, c)
			}
			fields = append(fields, m.schema.Field(i[0]))
			s.cols = append(s.cols, i[0])
		}
	}
	s.schema = arrow.NewSchema(fields, nil)
	for _, ds := range sortedKeys(m.Partitions) {
		if (opts.StartDS != "" && ds < opts.StartDS) || (opts.EndDS != "" && ds > opts.EndDS) {
			continue
		}
		for _, f := range m.Partitions[ds].Files {
			s.files = append(s.files, scanFile{ds: ds, path: dir + "/" + f})
		}
	}
	if err := w.acquire(); err != nil {
		return nil, err
	}
	return s, nil
}

// scanFile is one data file to scan.
type scanFile struct {
	ds   string
	path string // relative to the root
}

// scanner is the warehouse.Scanner of a Scan.
type scanner struct {
	w      *Warehouse
	table  string
	schema *arrow.Schema
	cols   []int // per output column, the table column index, or -1 for ds
	files  []scanFile
	next   int // index in files of the next file to open
	cur    *fileScan
	closed bool
}

// Schema returns the schema of every record Next returns.
func (s *scanner) Schema() *arrow.Schema { return s.schema }

// Next returns the next non-empty batch, or io.EOF after the last one.
func (s *scanner) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.closed {
		return nil, fmt.Errorf("parquet: scan %s: scanner is closed", s.table)
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if s.cur == nil {
			if s.next == len(s.files) {
				return nil, io.EOF
			}
			f := s.files[s.next]
			s.next++
			cur, err := s.open(ctx, f)
			if err != nil {
				return nil, fmt.Errorf("parquet: scan %s: ds=%s: %w", s.table, f.ds, err)
			}
			s.cur = cur
		}
		rec, err := s.cur.read()
		if err == io.EOF {
			s.cur.close()
			s.cur = nil
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parquet: scan %s: %s: %w", s.table, s.cur.uri, err)
		}
		return rec, nil
	}
}

// Close releases the file being read.
func (s *scanner) Close() error {
	if s.closed {
		return nil
	}
	if s.cur != nil {
		s.cur.close()
		s.cur = nil
	}
	s.closed = true
	s.w.release()
	return nil
}

// fileScan reads the projected columns of one file.
type fileScan struct {
	s    *scanner
	ds   string
	uri  string // of the file, for errors
	blob blob.Reader
	rdr  *file.Reader
	// rr reads the projected columns the file has; nil when it has none, and
	// then rows are counted from the row group metadata.
	rr  pqarrow.RecordReader
	src []int // per output column, its index in rr's records, or -1
	rg  int   // without rr: next row group
	// left is, without rr, the rows of row group rg-1 not returned yet.
	left int64
}

func (s *scanner) open(ctx context.Context, sf scanFile) (_ *fileScan, err error) {
	cfg := s.w.cfg
	uri := s.w.store.URI(sf.path)
	br, err := s.w.store.Open(ctx, sf.path)
	if errors.Is(err, blob.ErrNotExist) {
		return nil, fmt.Errorf("%w (the partition was overwritten during the scan)", err)
	}
	if err != nil {
		return nil, err
	}
	// The section reader adds the Seek the Parquet reader needs, and hides
	// the blob's Close, which fileScan.close calls.
	rdr, err := file.NewParquetReader(io.NewSectionReader(br, 0, br.Size()), file.WithReadProps(parquet.NewReaderProperties(cfg.mem)))
	if err != nil {
		_ = br.Close()
		return nil, fmt.Errorf("%s: %w", uri, err)
	}
	fsc := &fileScan{s: s, ds: sf.ds, uri: uri, blob: br, rdr: rdr, src: make([]int, len(s.cols))}
	defer func() {
		if err != nil {
			fsc.close()
		}
	}()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: int64(cfg.rowGroupRows)}, cfg.mem)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", uri, err)
	}
	fileSchema, err := fr.Schema()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", uri, err)
	}
	var leaves []int
	picked := map[int]bool{}
	for i, c := range s.cols {
		fsc.src[i] = -1
		if c < 0 {
			continue
		}
		want := s.schema.Field(i)
		idx := fileSchema.FieldIndices(want.Name)
		if len(idx) == 0 {
			continue
		}
		got := fileSchema.Field(idx[0])
		if _, ok := mergeType(want.Type, got.Type); !ok {
			return nil, fmt.Errorf("%s: column %q has type %s, the table has %s", uri, want.Name, got.Type, want.Type)
		}
		fsc.src[i] = 0 // resolved below against the reader's schema
		if !picked[idx[0]] {
			picked[idx[0]] = true
			leaves = appendLeaves(leaves, &fr.Manifest.Fields[idx[0]])
		}
	}
	if len(leaves) == 0 || rdr.NumRows() == 0 {
		// Nothing to decode: rows are counted from the metadata.
		for i := range fsc.src {
			fsc.src[i] = -1
		}
		return fsc, nil
	}
	rr, err := fr.GetRecordReader(ctx, leaves, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", uri, err)
	}
	fsc.rr = rr
	for i := range fsc.src {
		if fsc.src[i] < 0 {
			continue
		}
		idx := rr.Schema().FieldIndices(s.schema.Field(i).Name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("%s: column %q not read", uri, s.schema.Field(i).Name)
		}
		fsc.src[i] = idx[0]
	}
	return fsc, nil
}

// appendLeaves appends the Parquet leaf column indices under f.
func appendLeaves(leaves []int, f *pqarrow.SchemaField) []int {
	if f.IsLeaf() {
		return append(leaves, f.ColIndex)
	}
	for i := range f.Children {
		leaves = appendLeaves(leaves, &f.Children[i])
	}
	return leaves
}

// read returns the file's next non-empty batch, or io.EOF.
func (fsc *fileScan) read() (arrow.RecordBatch, error) {
	if fsc.rr != nil {
		for fsc.rr.Next() {
			rec := fsc.rr.RecordBatch()
			if rec.NumRows() > 0 {
				return fsc.build(rec.NumRows(), rec), nil
			}
		}
		if err := fsc.rr.Err(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	for fsc.left == 0 {
		if fsc.rg >= fsc.rdr.NumRowGroups() {
			return nil, io.EOF
		}
		fsc.left = fsc.rdr.MetaData().RowGroup(fsc.rg).NumRows()
		fsc.rg++
	}
	n := min(fsc.left, int64(fsc.s.w.cfg.rowGroupRows))
	fsc.left -= n
	return fsc.build(n, nil), nil
}

// build assembles an output batch of n rows from src, the reader's batch
// (nil when no column comes from the file).
func (fsc *fileScan) build(n int64, src arrow.RecordBatch) arrow.RecordBatch {
	s := fsc.s
	mem := s.w.cfg.mem
	cols := make([]arrow.Array, len(s.cols))
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	for i, f := range s.schema.Fields() {
		switch {
		case s.cols[i] < 0:
			b := array.NewStringBuilder(mem)
			b.Reserve(int(n))
			b.ReserveData(int(n) * len(fsc.ds))
			for range n {
				b.Append(fsc.ds)
			}
			cols[i] = b.NewArray()
			b.Release()
		case fsc.src[i] >= 0:
			d := retype(src.Column(fsc.src[i]).Data(), f.Type)
			cols[i] = array.MakeFromData(d)
			d.Release()
		default:
			cols[i] = array.MakeArrayOfNull(mem, f.Type, int(n))
		}
	}
	return array.NewRecordBatch(s.schema, cols, n)
}

func (fsc *fileScan) close() {
	if fsc.rr != nil {
		fsc.rr.Release()
		fsc.rr = nil
	}
	if fsc.rdr != nil {
		_ = fsc.rdr.Close()
		fsc.rdr = nil
	}
	if fsc.blob != nil {
		_ = fsc.blob.Close()
		fsc.blob = nil
	}
}
