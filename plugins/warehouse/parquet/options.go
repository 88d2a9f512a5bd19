// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
)

// DefaultRowGroupRows is the default Options.RowGroupRows.
const DefaultRowGroupRows = 64 * 1024

// DefaultStaleAge is the default Options.StaleAge.
const DefaultStaleAge = 24 * time.Hour

// Compression selects the codec of the Parquet data pages a warehouse writes.
type Compression int

const (
	// DefaultCompression is Snappy.
	DefaultCompression Compression = iota
	// Snappy compresses fast with a moderate ratio.
	Snappy
	// Zstd compresses better than Snappy at a higher CPU cost.
	Zstd
	// Uncompressed stores pages as they are.
	Uncompressed
)

// String returns the codec's name.
func (c Compression) String() string {
	switch c {
	case DefaultCompression, Snappy:
		return "snappy"
	case Zstd:
		return "zstd"
	case Uncompressed:
		return "uncompressed"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

func (c Compression) codec() (compress.Compression, error) {
	switch c {
	case DefaultCompression, Snappy:
		return compress.Codecs.Snappy, nil
	case Zstd:
		return compress.Codecs.Zstd, nil
	case Uncompressed:
		return compress.Codecs.Uncompressed, nil
	}
	return 0, fmt.Errorf("unknown compression %d", int(c))
}

// Options configure a Warehouse. A nil *Options, or a zero field, means the
// default.
type Options struct {
	// RowGroupRows is the number of rows per Parquet row group. A write
	// buffers at most this many rows per partition before flushing them, and
	// Scan returns batches of at most this many rows. Default
	// DefaultRowGroupRows (65536).
	RowGroupRows int
	// Compression is the codec of written data pages. Default Snappy
	// (DefaultCompression).
	Compression Compression
	// Allocator allocates the Arrow and Parquet buffers of reads and writes.
	// Default memory.DefaultAllocator.
	Allocator memory.Allocator
	// StaleAge applies to gs:// warehouses only: staged files and
	// unreferenced data files older than this are taken for the debris of
	// crashed writers and deleted (see the package documentation). It must
	// be far longer than any transaction stays open. Default
	// DefaultStaleAge (24 hours).
	StaleAge time.Duration
}

// config is Options with the defaults applied.
type config struct {
	rowGroupRows int
	codec        compress.Compression
	mem          memory.Allocator
	staleAge     time.Duration
}

func (o *Options) config() (config, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	c := config{rowGroupRows: opts.RowGroupRows, mem: opts.Allocator, staleAge: opts.StaleAge}
	if c.rowGroupRows < 0 {
		return config{}, fmt.Errorf("RowGroupRows %d is negative", c.rowGroupRows)
	}
	if c.staleAge < 0 {
		return config{}, fmt.Errorf("StaleAge %v is negative", c.staleAge)
	}
	if c.staleAge == 0 {
		c.staleAge = DefaultStaleAge
	}
	if c.rowGroupRows == 0 {
		c.rowGroupRows = DefaultRowGroupRows
	}
	codec, err := opts.Compression.codec()
	if err != nil {
		return config{}, err
	}
	c.codec = codec
	if c.mem == nil {
		c.mem = memory.DefaultAllocator
	}
	return c, nil
}
