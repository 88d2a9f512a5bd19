// SPDX-License-Identifier: Apache-2.0

package backfill

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/chronon-go/chronon/core/expr"
	"github.com/chronon-go/chronon/core/online"
)

// KeyEncoder turns the key columns of a record into one byte string per
// row, equal for equal keys whatever the integer width (a left int32 column
// joins a GroupBy's int64 key), so rows can be grouped and sharded.
type KeyEncoder struct {
	cols []arrow.Array
}

// NewKeyEncoder reads the named columns of rec.
func NewKeyEncoder(rec arrow.RecordBatch, names []string) (*KeyEncoder, error) {
	e := &KeyEncoder{}
	for _, n := range names {
		idx := rec.Schema().FieldIndices(n)
		if len(idx) == 0 {
			return nil, fmt.Errorf("key column %q is missing (columns: %v)", n, fieldNames(rec.Schema()))
		}
		e.cols = append(e.cols, rec.Column(idx[0]))
	}
	return e, nil
}

func fieldNames(s *arrow.Schema) []string {
	out := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = f.Name
	}
	return out
}

// Append appends row i's key to dst (core/online's key encoding, the one
// the KV store's keys use) and counts its null key values. Chronon drops a
// source row only when all its keys are null (GroupBy.from), while a left
// row with any null key matches nothing (SQL equality); see Usable.
func (e *KeyEncoder) Append(dst []byte, i int) (out []byte, nulls int) {
	for _, c := range e.cols {
		if c.IsNull(i) {
			nulls++
			dst = online.AppendNull(dst)
			continue
		}
		switch a := c.(type) {
		case *array.String:
			dst = online.AppendString(dst, a.Value(i))
		case *array.LargeString:
			dst = online.AppendString(dst, a.Value(i))
		case *array.Int64:
			dst = online.AppendInt(dst, a.Value(i))
		case *array.Int32:
			dst = online.AppendInt(dst, int64(a.Value(i)))
		case *array.Int16:
			dst = online.AppendInt(dst, int64(a.Value(i)))
		case *array.Int8:
			dst = online.AppendInt(dst, int64(a.Value(i)))
		case *array.Boolean:
			dst = online.AppendBool(dst, a.Value(i))
		case *array.Float64:
			dst = online.AppendFloat(dst, a.Value(i))
		case *array.Float32:
			dst = online.AppendFloat(dst, float64(a.Value(i)))
		case *array.Binary:
			dst = online.AppendBytes(dst, a.Value(i))
		default:
			// Other types (dates, timestamps) key offline joins only.
			dst = online.AppendString(append(dst, 'o'), fmt.Sprint(expr.ValueAt(c, i)))
		}
	}
	return dst, nulls
}

// Int returns row i's key when the key is one integer column (ok false
// otherwise, or when the value is null): the common case gets a map of
// integers instead of encoded bytes.
func (e *KeyEncoder) Int(i int) (v int64, ok bool) {
	if len(e.cols) != 1 || e.cols[0].IsNull(i) {
		return 0, false
	}
	switch a := e.cols[0].(type) {
	case *array.Int64:
		return a.Value(i), true
	case *array.Int32:
		return int64(a.Value(i)), true
	case *array.Int16:
		return int64(a.Value(i)), true
	case *array.Int8:
		return int64(a.Value(i)), true
	}
	return 0, false
}

// Usable reports whether a key with nulls null values takes part: a query
// (left row) needs every key value, a source row at least one.
func (e *KeyEncoder) Usable(nulls int, query bool) bool {
	if query {
		return nulls == 0
	}
	return nulls < len(e.cols)
}

// AppendDay appends a partition day to a key: entity snapshots group rows
// by key and snapshot day.
func AppendDay(dst []byte, day int64) []byte {
	dst = append(dst, 'd')
	return binary.BigEndian.AppendUint64(dst, uint64(day))
}

// ShardOf returns the shard of an encoded key among n, the same in every
// process (FNV-1a, no random seed).
func ShardOf(key []byte, n int) int {
	h := uint64(14695981039346656037)
	for _, c := range key {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return int(h % uint64(n))
}
