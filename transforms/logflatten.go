// SPDX-License-Identifier: Apache-2.0

package transforms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/chronon-go/chronon/core/fetchlog"
	"github.com/chronon-go/chronon/plugins/warehouse"
	"github.com/chronon-go/chronon/plugins/warehouse/parquet"
)

func init() {
	register.DoFn2x1[context.Context, string, error](&flattenLogsFn{})
}

// LogFlattenJob describes a log flattening pipeline; it travels to the
// workers as JSON inside the DoFn.
type LogFlattenJob struct {
	// Warehouse is the warehouse root.
	Warehouse string `json:"warehouse"`
	// LogTable is "namespace.chronon_log_table"; Output the join's
	// _logged table.
	LogTable string `json:"logTable"`
	Output   string `json:"output"`
	// JoinName is the join's team/name.v1, the log rows' name.
	JoinName string `json:"joinName"`
	// Schemas are the join's logging schema strings, every one known when
	// the job was planned, oldest first: the flattened table's columns
	// follow this order.
	Schemas []string `json:"schemas"`
}

// MalformedProperty is the Output table property that reports, per
// flattened day, the log records that could not be flattened:
// "<MalformedProperty><ds>" = "<count>: <first error>". The job skips such
// records and counts them here, durably, instead of failing the day.
const MalformedProperty = "log_flatten_malformed_"

// SchemaProperty prefixes the Output table properties holding every
// logging schema flattened into it (Chronon's schema_hash_<hash>), so later
// runs still know schemas whose publish events left the log table.
const SchemaProperty = "schema_hash_"

// flushRows is how many rows a worker builds before writing them.
const flushRows = 8192

// LogFlatten flattens the log table's partitions named by days
// (PCollection<string> of ds) into job.Output, one transaction per day
// overwriting that partition, so each day appears whole or not at all.
func LogFlatten(s beam.Scope, job *LogFlattenJob, days beam.PCollection) error {
	s = s.Scope("transforms.LogFlatten")
	spec, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("encode log flatten job: %w", err)
	}
	beam.ParDo0(s, &flattenLogsFn{Job: string(spec)}, beam.Reshuffle(s, days))
	return nil
}

type flattenLogsFn struct {
	Job string `json:"job"`

	job     LogFlattenJob
	schemas map[string]*fetchlog.Schema
	list    []*fetchlog.Schema
	wh      warehouse.Warehouse
}

func (f *flattenLogsFn) Setup() error {
	if err := json.Unmarshal([]byte(f.Job), &f.job); err != nil {
		return fmt.Errorf("decode log flatten job: %w", err)
	}
	var err error
	if f.schemas, f.list, err = ParseLogSchemas(f.job.Schemas); err != nil {
		return err
	}
	f.wh, err = parquet.Open(f.job.Warehouse, nil)
	return err
}

func (f *flattenLogsFn) Teardown() {
	if f.wh != nil {
		f.wh.Close()
	}
}

// ParseLogSchemas parses schema strings, keeping their order, and
// indexes them by hash.
func ParseLogSchemas(strs []string) (map[string]*fetchlog.Schema, []*fetchlog.Schema, error) {
	byHash := make(map[string]*fetchlog.Schema, len(strs))
	list := make([]*fetchlog.Schema, 0, len(strs))
	for i, str := range strs {
		s, err := fetchlog.ParseSchema(str)
		if err != nil {
			return nil, nil, fmt.Errorf("schema %d: %w", i, err)
		}
		if byHash[s.Hash()] == nil {
			byHash[s.Hash()] = s
			list = append(list, s)
		}
	}
	return byHash, list, nil
}

func (f *flattenLogsFn) ProcessElement(ctx context.Context, ds string) error {
	fl, err := fetchlog.NewFlattener(f.job.JoinName, f.list)
	if err != nil {
		return err
	}
	defer fl.Release()
	props := map[string]string{}
	for h, s := range f.schemas {
		props[SchemaProperty+h] = s.String()
	}
	txn, err := f.wh.Begin(ctx, f.job.Output, fl.Schema(), warehouse.WriteOptions{Mode: warehouse.Overwrite, Properties: props})
	if err != nil {
		return fmt.Errorf("flatten %s: %w", ds, err)
	}
	defer txn.Abort()
	write := func() error {
		rb := fl.Flush()
		defer rb.Release()
		return txn.Write(ctx, ds, rb)
	}
	var malformed int
	var firstErr error
	err = scanLog(ctx, f.wh, f.job.LogTable, ds, f.job.JoinName, func(rec fetchlog.Record, err error) error {
		if err == nil {
			err = fl.Add(rec, f.schemas)
		}
		switch {
		case errors.Is(err, fetchlog.ErrMalformed):
			if malformed++; firstErr == nil {
				firstErr = err
			}
			return nil
		case err != nil:
			return err
		case fl.Rows() >= flushRows:
			return write()
		}
		return nil
	})
	if err == nil {
		err = write() // the rest, or an empty batch that marks the day done
	}
	if err != nil {
		return fmt.Errorf("flatten %s partition %s into %s: %w", f.job.LogTable, ds, f.job.Output, err)
	}
	if malformed > 0 {
		msg := strconv.Itoa(malformed) + ": " + firstErr.Error()
		ps, ok := txn.(warehouse.PropertySetter)
		if !ok {
			return fmt.Errorf("flatten %s partition %s: %s malformed records, and the warehouse cannot record the count", f.job.LogTable, ds, msg)
		}
		ps.SetProperties(map[string]string{MalformedProperty + ds: msg})
	}
	return txn.Commit(ctx)
}

// scanLog calls visit with every record of join in the log table's
// partition ds; a row that is not a readable record is passed with an
// error wrapping fetchlog.ErrMalformed.
func scanLog(ctx context.Context, wh warehouse.Warehouse, table, ds, join string, visit func(fetchlog.Record, error) error) error {
	return ScanLogRows(ctx, wh, table, ds, ds, func(r *fetchlog.Reader, i int) error {
		if r.Name(i) != join {
			return nil
		}
		rec, err := r.Record(i)
		if err != nil {
			err = fmt.Errorf("%w: %w", fetchlog.ErrMalformed, err)
		}
		return visit(rec, err)
	})
}

// ScanLogRows calls visit with each row of the log table's partitions in
// [start, end] (bounds inclusive, "" unbounded).
func ScanLogRows(ctx context.Context, wh warehouse.Warehouse, table, start, end string, visit func(r *fetchlog.Reader, i int) error) error {
	sc, err := wh.Scan(ctx, table, warehouse.ScanOptions{StartDS: start, EndDS: end,
		Columns: []string{fetchlog.ColKey, fetchlog.ColValue, fetchlog.ColTsMillis, fetchlog.ColSchemaHash, fetchlog.ColName}})
	if err != nil {
		return err
	}
	defer sc.Close()
	for {
		rb, err := sc.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		err = visitRows(rb, visit)
		rb.Release()
		if err != nil {
			return err
		}
	}
}

func visitRows(rb arrow.RecordBatch, visit func(r *fetchlog.Reader, i int) error) error {
	r, err := fetchlog.NewReader(rb)
	if err != nil {
		return err
	}
	for i := range int(rb.NumRows()) {
		if err := visit(r, i); err != nil {
			return err
		}
	}
	return nil
}
