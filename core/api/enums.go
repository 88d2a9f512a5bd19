// SPDX-License-Identifier: Apache-2.0

package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Bool is a Thrift bool. Chronon's compiled JSON writes bools as 0 or 1; Bool
// writes them that way and reads 0, 1, true or false.
type Bool bool

// MarshalJSON writes 1 for true and 0 for false.
func (b Bool) MarshalJSON() ([]byte, error) {
	if b {
		return []byte("1"), nil
	}
	return []byte("0"), nil
}

// UnmarshalJSON accepts 0, 1, true and false.
func (b *Bool) UnmarshalJSON(data []byte) error {
	switch string(bytes.TrimSpace(data)) {
	case "1", "true":
		*b = true
	case "0", "false", "null":
		*b = false
	default:
		return fmt.Errorf("bool must be 0, 1, true or false, got %s", data)
	}
	return nil
}

// Operation is an aggregation operation (Thrift enum Operation).
type Operation int32

// The operations, with Chronon's Thrift values.
const (
	OpMin                Operation = 0
	OpMax                Operation = 1
	OpFirst              Operation = 2
	OpLast               Operation = 3
	OpUniqueCount        Operation = 4
	OpApproxUniqueCount  Operation = 5
	OpCount              Operation = 6
	OpSum                Operation = 7
	OpAverage            Operation = 8
	OpVariance           Operation = 9
	OpSkew               Operation = 10
	OpKurtosis           Operation = 11
	OpApproxPercentile   Operation = 12
	OpLastK              Operation = 13
	OpFirstK             Operation = 14
	OpTopK               Operation = 15
	OpBottomK            Operation = 16
	OpHistogram          Operation = 17
	OpApproxHistogramK   Operation = 18
	OpBoundedUniqueCount Operation = 19
)

var operationNames = [...]string{
	"min", "max", "first", "last", "unique_count", "approx_unique_count", "count", "sum", "average",
	"variance", "skew", "kurtosis", "approx_percentile", "last_k", "first_k", "top_k", "bottom_k",
	"histogram", "approx_histogram_k", "bounded_unique_count",
}

// Valid reports whether op is one of Chronon's operations.
func (op Operation) Valid() bool { return op >= 0 && int(op) < len(operationNames) }

// String returns the lowercase name, e.g. "last_k".
func (op Operation) String() string { return enumName(operationNames[:], int32(op), "operation") }

// NeedsK reports whether the operation requires argMap "k".
func (op Operation) NeedsK() bool {
	switch op {
	case OpLastK, OpFirstK, OpTopK, OpBottomK:
		return true
	}
	return false
}

// Deletable reports whether the operation supports removing inputs
// (reversals, mutations, window-tail subtraction).
func (op Operation) Deletable() bool {
	switch op {
	case OpSum, OpCount, OpAverage, OpHistogram:
		return true
	}
	return false
}

// ParseOperation parses an operation name, case-insensitively ("sum",
// "LAST_K"). Python-style aliases are accepted: "histogram_k" (HISTOGRAM with
// k), "approx_unique_count_lgk" and "bounded_unique_count_k".
func ParseOperation(name string) (Operation, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "histogram_k":
		return OpHistogram, nil
	case "approx_unique_count_lgk":
		return OpApproxUniqueCount, nil
	case "bounded_unique_count_k":
		return OpBoundedUniqueCount, nil
	}
	i, err := lookupEnum(operationNames[:], n, "operation")
	return Operation(i), err
}

// TimeUnit is the unit of a Window's length (Thrift enum TimeUnit).
type TimeUnit int32

// Time units with Chronon's Thrift values.
const (
	UnitHours TimeUnit = 0
	UnitDays  TimeUnit = 1
)

// Millis returns the unit's length in milliseconds, or 0 for an unknown unit.
func (u TimeUnit) Millis() int64 {
	switch u {
	case UnitHours:
		return 3600 * 1000
	case UnitDays:
		return 24 * 3600 * 1000
	}
	return 0
}

// Suffix returns the unit's letter in column names: "h" or "d".
func (u TimeUnit) Suffix() string {
	switch u {
	case UnitHours:
		return "h"
	case UnitDays:
		return "d"
	}
	return fmt.Sprintf("unit(%d)", int32(u))
}

// Accuracy says whether a GroupBy is computed point in time (TEMPORAL) or as of
// midnight (SNAPSHOT) (Thrift enum Accuracy).
type Accuracy int32

// Accuracies with Chronon's Thrift values.
const (
	Temporal Accuracy = 0
	Snapshot Accuracy = 1
)

var accuracyNames = [...]string{"temporal", "snapshot"}

// String returns "temporal" or "snapshot".
func (a Accuracy) String() string { return enumName(accuracyNames[:], int32(a), "accuracy") }

// ParseAccuracy parses "temporal" or "snapshot", case-insensitively.
func ParseAccuracy(s string) (Accuracy, error) {
	i, err := lookupEnum(accuracyNames[:], strings.ToLower(strings.TrimSpace(s)), "accuracy")
	return Accuracy(i), err
}

// DataKind is the kind of a TDataType (Thrift enum DataKind).
type DataKind int32

// Data kinds with Chronon's Thrift values.
const (
	BooleanKind   DataKind = 0
	ByteKind      DataKind = 1
	ShortKind     DataKind = 2
	IntKind       DataKind = 3
	LongKind      DataKind = 4
	FloatKind     DataKind = 5
	DoubleKind    DataKind = 6
	StringKind    DataKind = 7
	BinaryKind    DataKind = 8
	DateKind      DataKind = 9
	TimestampKind DataKind = 10
	MapKind       DataKind = 11
	ListKind      DataKind = 12
	StructKind    DataKind = 13
)

var dataKindNames = [...]string{
	"boolean", "byte", "short", "int", "long", "float", "double", "string", "binary", "date",
	"timestamp", "map", "list", "struct",
}

// String returns the lowercase kind name, e.g. "long".
func (k DataKind) String() string { return enumName(dataKindNames[:], int32(k), "kind") }

// ParseDataKind parses a scalar kind name ("string", "long", "bool", ...).
func ParseDataKind(s string) (DataKind, error) {
	n := strings.ToLower(strings.TrimSpace(s))
	if n == "bool" {
		return BooleanKind, nil
	}
	i, err := lookupEnum(dataKindNames[:], n, "data type")
	return DataKind(i), err
}

// enumName returns names[v], or "what(v)" for a value outside the enum.
func enumName(names []string, v int32, what string) string {
	if v < 0 || int(v) >= len(names) {
		return fmt.Sprintf("%s(%d)", what, v)
	}
	return names[v]
}

// lookupEnum returns the index of name in names, or an error listing them.
func lookupEnum(names []string, name, what string) (int32, error) {
	for i, s := range names {
		if s == name {
			return int32(i), nil
		}
	}
	return 0, fmt.Errorf("unknown %s %q (supported: %s)", what, name, strings.Join(names, ", "))
}

// OrderedMap is a string-to-string map that keeps its insertion order, used
// for Query.Selects so output columns come out in the order they were written.
// The zero value is an empty map ready to use.
type OrderedMap struct {
	keys []string
	vals map[string]string
}

// NewOrderedMap returns a map holding kv pairs in order: key1, value1, key2, ...
// It panics on an odd number of arguments.
func NewOrderedMap(kv ...string) *OrderedMap {
	if len(kv)%2 != 0 {
		panic("api.NewOrderedMap: odd number of arguments")
	}
	m := &OrderedMap{}
	for i := 0; i < len(kv); i += 2 {
		m.Set(kv[i], kv[i+1])
	}
	return m
}

// Set adds or replaces key; a new key goes last.
func (m *OrderedMap) Set(key, value string) {
	if m.vals == nil {
		m.vals = map[string]string{}
	}
	if _, ok := m.vals[key]; !ok {
		m.keys = append(m.keys, key)
	}
	m.vals[key] = value
}

// Get returns key's value.
func (m *OrderedMap) Get(key string) (string, bool) {
	if m == nil {
		return "", false
	}
	v, ok := m.vals[key]
	return v, ok
}

// Keys returns the keys in order. The caller must not modify the slice.
func (m *OrderedMap) Keys() []string {
	if m == nil {
		return nil
	}
	return m.keys
}

// Len returns the number of keys.
func (m *OrderedMap) Len() int {
	if m == nil {
		return 0
	}
	return len(m.keys)
}

// MarshalJSON writes the map in insertion order.
func (m *OrderedMap) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, k := range m.Keys() {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		vb, _ := json.Marshal(m.vals[k])
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// UnmarshalJSON reads a JSON object keeping its key order. A null value means
// "same as the key" (Chronon's Python select("col")).
func (m *OrderedMap) UnmarshalJSON(data []byte) error {
	*m = OrderedMap{}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want a JSON object of strings, got %s", data)
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return err
		}
		key := kt.(string)
		var v *string
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("value of %q: %w", key, err)
		}
		if v == nil {
			m.Set(key, key)
		} else {
			m.Set(key, *v)
		}
	}
	_, err = dec.Token()
	return err
}
