// SPDX-License-Identifier: Apache-2.0

package fetchlog

import (
	"encoding/base64"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/chronon-go/chronon/core/batch"
)

// LogTable is the table name of the raw fetch log (Chronon's
// Constants.ChrononLogTable); it lives in chronon.yaml's logging.namespace.
const LogTable = "chronon_log_table"

// SchemaPublishEvent is the join name of schema-publish events (Chronon's
// control event name).
const SchemaPublishEvent = "SCHEMA_PUBLISH_EVENT"

// Column names of the log table, Chronon's (LoggableResponseBase64 as the
// LogFlattenerJob reads it). The table is partitioned by ds, the UTC day of
// ts_millis; Chronon also partitions by name, our warehouse only by ds, so
// name is a plain column.
const (
	ColKey        = "key_base64"
	ColValue      = "value_base64"
	ColTsMillis   = "ts_millis"
	ColSchemaHash = "schema_hash"
	ColName       = "name"
)

// Record is one logged fetch (Chronon's LoggableResponse), or a
// schema-publish event when JoinName is SchemaPublishEvent.
type Record struct {
	// KeyBytes and ValueBytes are the encoded keys and values (Encode).
	KeyBytes, ValueBytes []byte
	// JoinName is the join's name as team/name.v1 (api.NameToFilePath of
	// metaData.name), or SchemaPublishEvent.
	JoinName string
	// TsMillis is the request's time: its atMillis, or its start.
	TsMillis int64
	// SchemaHash is the hash of the logging schema the bytes follow;
	// empty (null) for a schema-publish event.
	SchemaHash string
}

// NewSchemaPublishEvent returns the control record publishing schema s at
// time ts: its key is the hash, its value the schema string.
func NewSchemaPublishEvent(s *Schema, ts int64) Record {
	return Record{KeyBytes: []byte(s.Hash()), ValueBytes: []byte(s.String()), JoinName: SchemaPublishEvent, TsMillis: ts}
}

// DS is the partition of the log table the record belongs to.
func (r Record) DS() string { return batch.DSOfMillis(r.TsMillis) }

// TableSchema is the Arrow schema of the log table's data columns (ds is
// the partition column).
func TableSchema() *arrow.Schema {
	str := arrow.BinaryTypes.String
	return arrow.NewSchema([]arrow.Field{
		{Name: ColKey, Type: str},
		{Name: ColValue, Type: str},
		{Name: ColTsMillis, Type: arrow.PrimitiveTypes.Int64},
		{Name: ColSchemaHash, Type: str, Nullable: true},
		{Name: ColName, Type: str},
	}, nil)
}

// ToArrow builds one batch of the log table from recs (in order). The
// caller releases it.
func ToArrow(recs []Record) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, TableSchema())
	defer b.Release()
	key := b.Field(0).(*array.StringBuilder)
	value := b.Field(1).(*array.StringBuilder)
	ts := b.Field(2).(*array.Int64Builder)
	hash := b.Field(3).(*array.StringBuilder)
	name := b.Field(4).(*array.StringBuilder)
	for _, r := range recs {
		key.Append(base64.StdEncoding.EncodeToString(r.KeyBytes))
		value.Append(base64.StdEncoding.EncodeToString(r.ValueBytes))
		ts.Append(r.TsMillis)
		if r.SchemaHash == "" {
			hash.AppendNull()
		} else {
			hash.Append(r.SchemaHash)
		}
		name.Append(r.JoinName)
	}
	return b.NewRecordBatch()
}

// Reader reads records out of log-table batches.
type Reader struct {
	key, value, hash, name *array.String
	ts                     *array.Int64
}

// NewReader checks that rec has the log table's columns (by name, any
// order, others ignored) and returns a reader of its rows.
func NewReader(rec arrow.RecordBatch) (*Reader, error) {
	r := &Reader{}
	for _, c := range []struct {
		name string
		dst  any
	}{{ColKey, &r.key}, {ColValue, &r.value}, {ColSchemaHash, &r.hash}, {ColName, &r.name}, {ColTsMillis, &r.ts}} {
		idx := rec.Schema().FieldIndices(c.name)
		if len(idx) == 0 {
			return nil, fmt.Errorf("fetchlog: log batch has no column %s", c.name)
		}
		col := rec.Column(idx[0])
		ok := false
		switch dst := c.dst.(type) {
		case **array.String:
			*dst, ok = col.(*array.String)
		case **array.Int64:
			*dst, ok = col.(*array.Int64)
		}
		if !ok {
			return nil, fmt.Errorf("fetchlog: log column %s has type %s", c.name, col.DataType())
		}
	}
	return r, nil
}

// Name returns row i's join name ("" when null).
func (r *Reader) Name(i int) string { return r.name.Value(i) }

// Record decodes row i. A row whose key or value is not base64, or whose
// key, value, ts or name is null, is an error naming what is wrong.
func (r *Reader) Record(i int) (Record, error) {
	if r.key.IsNull(i) || r.value.IsNull(i) || r.ts.IsNull(i) || r.name.IsNull(i) {
		return Record{}, fmt.Errorf("fetchlog: log row %d: null key, value, ts or name", i)
	}
	rec := Record{JoinName: r.name.Value(i), TsMillis: r.ts.Value(i)}
	if !r.hash.IsNull(i) {
		rec.SchemaHash = r.hash.Value(i)
	}
	var err error
	if rec.KeyBytes, err = base64.StdEncoding.DecodeString(r.key.Value(i)); err != nil {
		return Record{}, fmt.Errorf("fetchlog: log row %d: %s: %w", i, ColKey, err)
	}
	if rec.ValueBytes, err = base64.StdEncoding.DecodeString(r.value.Value(i)); err != nil {
		return Record{}, fmt.Errorf("fetchlog: log row %d: %s: %w", i, ColValue, err)
	}
	return rec, nil
}
