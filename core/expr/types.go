// SPDX-License-Identifier: Apache-2.0

package expr

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Result and internal types. Every value an expression produces has one of
// these Arrow types (or a list, map or struct built from them).
var (
	tNull   arrow.DataType = arrow.Null
	tBool   arrow.DataType = arrow.FixedWidthTypes.Boolean
	tI8     arrow.DataType = arrow.PrimitiveTypes.Int8
	tI16    arrow.DataType = arrow.PrimitiveTypes.Int16
	tI32    arrow.DataType = arrow.PrimitiveTypes.Int32
	tI64    arrow.DataType = arrow.PrimitiveTypes.Int64
	tF32    arrow.DataType = arrow.PrimitiveTypes.Float32
	tF64    arrow.DataType = arrow.PrimitiveTypes.Float64
	tStr    arrow.DataType = arrow.BinaryTypes.String
	tBin    arrow.DataType = arrow.BinaryTypes.Binary
	tDate   arrow.DataType = arrow.FixedWidthTypes.Date32
	tTS     arrow.DataType = TimestampType
	tStrArr arrow.DataType = arrow.ListOf(arrow.BinaryTypes.String)
)

// TimestampType is the Arrow type of TIMESTAMP results: microseconds since
// the epoch, UTC (Spark's TIMESTAMP). Timestamp columns of any unit and time
// zone are accepted as input and read as UTC instants.
var TimestampType arrow.DataType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

// kind is the physical representation of a type during evaluation.
type kind uint8

const (
	kNull kind = iota
	kBool
	kI8
	kI16
	kI32
	kI64
	kF32
	kF64
	kStr
	kDate // int32 days
	kTS   // int64 microseconds
	kAny  // boxed Go values: binary, list, map, struct
)

func kindOf(t arrow.DataType) kind {
	switch t.ID() {
	case arrow.NULL:
		return kNull
	case arrow.BOOL:
		return kBool
	case arrow.INT8:
		return kI8
	case arrow.INT16:
		return kI16
	case arrow.INT32:
		return kI32
	case arrow.INT64:
		return kI64
	case arrow.FLOAT32:
		return kF32
	case arrow.FLOAT64:
		return kF64
	case arrow.STRING:
		return kStr
	case arrow.DATE32:
		return kDate
	case arrow.TIMESTAMP:
		return kTS
	}
	return kAny
}

func isNumeric(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return false
}

func isIntegral(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		return true
	}
	return false
}

func isFloat(t arrow.DataType) bool { return t.ID() == arrow.FLOAT32 || t.ID() == arrow.FLOAT64 }

func isNull(t arrow.DataType) bool { return t.ID() == arrow.NULL }

// isAtomic reports whether t is a scalar (not list, map or struct) type.
func isAtomic(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.LIST, arrow.MAP, arrow.STRUCT:
		return false
	}
	return true
}

func numRank(t arrow.DataType) int {
	switch t.ID() {
	case arrow.INT8:
		return 1
	case arrow.INT16:
		return 2
	case arrow.INT32:
		return 3
	case arrow.INT64:
		return 4
	case arrow.FLOAT32:
		return 5
	case arrow.FLOAT64:
		return 6
	}
	return 0
}

// listElem returns the element type of a list type.
func listElem(t arrow.DataType) arrow.DataType { return t.(*arrow.ListType).Elem() }

// mapItem returns the value type of a map type.
func mapItem(t arrow.DataType) arrow.DataType { return t.(*arrow.MapType).ItemType() }

func listOf(t arrow.DataType) arrow.DataType { return arrow.ListOf(t) }

func mapOf(t arrow.DataType) arrow.DataType { return arrow.MapOf(tStr, t) }

// sameType compares types structurally, ignoring list element names and
// nullability flags.
func sameType(a, b arrow.DataType) bool {
	if a.ID() != b.ID() {
		return false
	}
	switch a.ID() {
	case arrow.LIST:
		return sameType(listElem(a), listElem(b))
	case arrow.MAP:
		return sameType(a.(*arrow.MapType).KeyType(), b.(*arrow.MapType).KeyType()) && sameType(mapItem(a), mapItem(b))
	case arrow.STRUCT:
		sa, sb := a.(*arrow.StructType), b.(*arrow.StructType)
		if sa.NumFields() != sb.NumFields() {
			return false
		}
		for i := 0; i < sa.NumFields(); i++ {
			if sa.Field(i).Name != sb.Field(i).Name || !sameType(sa.Field(i).Type, sb.Field(i).Type) {
				return false
			}
		}
		return true
	case arrow.TIMESTAMP:
		return true // all timestamps are normalised to TimestampType
	}
	return true
}

// typeName renders t with the names used in error messages (Spark's, with
// long/short/byte for the integer types as in Chronon schema specs).
func typeName(t arrow.DataType) string {
	switch t.ID() {
	case arrow.NULL:
		return "null"
	case arrow.BOOL:
		return "boolean"
	case arrow.INT8:
		return "byte"
	case arrow.INT16:
		return "short"
	case arrow.INT32:
		return "int"
	case arrow.INT64:
		return "long"
	case arrow.FLOAT32:
		return "float"
	case arrow.FLOAT64:
		return "double"
	case arrow.STRING:
		return "string"
	case arrow.BINARY:
		return "binary"
	case arrow.DATE32:
		return "date"
	case arrow.TIMESTAMP:
		return "timestamp"
	case arrow.LIST:
		return "array<" + typeName(listElem(t)) + ">"
	case arrow.MAP:
		return "map<" + typeName(t.(*arrow.MapType).KeyType()) + "," + typeName(mapItem(t)) + ">"
	case arrow.STRUCT:
		st := t.(*arrow.StructType)
		parts := make([]string, st.NumFields())
		for i := range parts {
			parts[i] = st.Field(i).Name + ":" + typeName(st.Field(i).Type)
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	}
	return t.String()
}

// normalizeType maps an input column type to the type expressions see:
// large/view strings and binaries become string/binary, every timestamp
// becomes TimestampType, large and fixed-size lists become lists. It fails
// for types expressions cannot read (unsigned integers, decimals, …).
func normalizeType(t arrow.DataType) (arrow.DataType, error) {
	switch t.ID() {
	case arrow.NULL:
		return tNull, nil
	case arrow.BOOL:
		return tBool, nil
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.FLOAT32, arrow.FLOAT64:
		return t, nil
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return tStr, nil
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY:
		return tBin, nil
	case arrow.DATE32, arrow.DATE64:
		return tDate, nil
	case arrow.TIMESTAMP:
		return tTS, nil
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW:
		e, err := normalizeType(t.(arrow.ListLikeType).Elem())
		if err != nil {
			return nil, err
		}
		return listOf(e), nil
	case arrow.MAP:
		mt := t.(*arrow.MapType)
		k, err := normalizeType(mt.KeyType())
		if err != nil {
			return nil, err
		}
		if k.ID() != arrow.STRING {
			return nil, fmt.Errorf("map keys must be strings, not %s", typeName(k))
		}
		v, err := normalizeType(mt.ItemType())
		if err != nil {
			return nil, err
		}
		return mapOf(v), nil
	case arrow.STRUCT:
		st := t.(*arrow.StructType)
		fs := make([]arrow.Field, st.NumFields())
		for i := range fs {
			ft, err := normalizeType(st.Field(i).Type)
			if err != nil {
				return nil, err
			}
			fs[i] = arrow.Field{Name: st.Field(i).Name, Type: ft, Nullable: true}
		}
		return arrow.StructOf(fs...), nil
	case arrow.DICTIONARY:
		return normalizeType(t.(*arrow.DictionaryType).ValueType)
	}
	return nil, fmt.Errorf("unsupported column type %s", t)
}

// typeFromSpec converts a parsed CAST type name to an Arrow type.
func typeFromSpec(s *typeSpec) (arrow.DataType, error) {
	switch s.name {
	case "boolean", "bool":
		return tBool, nil
	case "tinyint", "byte":
		return tI8, nil
	case "smallint", "short":
		return tI16, nil
	case "int", "integer":
		return tI32, nil
	case "bigint", "long":
		return tI64, nil
	case "float", "real":
		return tF32, nil
	case "double":
		return tF64, nil
	case "string", "varchar", "char", "text":
		return tStr, nil
	case "binary":
		return tBin, nil
	case "date":
		return tDate, nil
	case "timestamp", "timestamp_ltz", "timestamp_ntz":
		return tTS, nil
	case "array":
		e, err := typeFromSpec(s.elems[0])
		if err != nil {
			return nil, err
		}
		return listOf(e), nil
	case "map":
		k, err := typeFromSpec(s.elems[0])
		if err != nil {
			return nil, err
		}
		if k.ID() != arrow.STRING {
			return nil, fmt.Errorf("map keys must be strings, not %s", typeName(k))
		}
		v, err := typeFromSpec(s.elems[1])
		if err != nil {
			return nil, err
		}
		return mapOf(v), nil
	case "struct":
		fs := make([]arrow.Field, len(s.fields))
		for i, f := range s.fields {
			ft, err := typeFromSpec(s.elems[i])
			if err != nil {
				return nil, err
			}
			fs[i] = arrow.Field{Name: f, Type: ft, Nullable: true}
		}
		return arrow.StructOf(fs...), nil
	case "decimal", "dec", "numeric":
		return nil, fmt.Errorf("type %s is not supported (use double)", s.name)
	}
	return nil, fmt.Errorf("unknown type %q", s.name)
}

// widerNumeric returns the wider of two numeric types.
func widerNumeric(a, b arrow.DataType) arrow.DataType {
	if numRank(a) >= numRank(b) {
		return a
	}
	return b
}

// commonType finds the type two values can both be cast to without loss, as
// Spark's findWiderTypeForTwo does: null widens to anything, numbers to the
// wider number, date to timestamp, lists/maps/structs element-wise. With
// stringPromote, a string and a number, date or timestamp meet at string
// (Spark's rule for CASE, COALESCE, IF and friends).
func commonType(a, b arrow.DataType, stringPromote bool) (arrow.DataType, bool) {
	switch {
	case sameType(a, b):
		return a, true
	case isNull(a):
		return b, true
	case isNull(b):
		return a, true
	case isNumeric(a) && isNumeric(b):
		return widerNumeric(a, b), true
	case (a.ID() == arrow.DATE32 && b.ID() == arrow.TIMESTAMP) || (a.ID() == arrow.TIMESTAMP && b.ID() == arrow.DATE32):
		return tTS, true
	case a.ID() == arrow.LIST && b.ID() == arrow.LIST:
		e, ok := commonType(listElem(a), listElem(b), stringPromote)
		if !ok {
			return nil, false
		}
		return listOf(e), true
	case a.ID() == arrow.MAP && b.ID() == arrow.MAP:
		e, ok := commonType(mapItem(a), mapItem(b), stringPromote)
		if !ok {
			return nil, false
		}
		return mapOf(e), true
	case a.ID() == arrow.STRUCT && b.ID() == arrow.STRUCT:
		sa, sb := a.(*arrow.StructType), b.(*arrow.StructType)
		if sa.NumFields() != sb.NumFields() {
			return nil, false
		}
		fs := make([]arrow.Field, sa.NumFields())
		for i := range fs {
			if !strings.EqualFold(sa.Field(i).Name, sb.Field(i).Name) {
				return nil, false
			}
			ft, ok := commonType(sa.Field(i).Type, sb.Field(i).Type, stringPromote)
			if !ok {
				return nil, false
			}
			fs[i] = arrow.Field{Name: sa.Field(i).Name, Type: ft, Nullable: true}
		}
		return arrow.StructOf(fs...), true
	}
	if stringPromote {
		promotable := func(t arrow.DataType) bool {
			return isNumeric(t) || t.ID() == arrow.DATE32 || t.ID() == arrow.TIMESTAMP
		}
		if (a.ID() == arrow.STRING && promotable(b)) || (b.ID() == arrow.STRING && promotable(a)) {
			return tStr, true
		}
	}
	return nil, false
}

// comparisonType is the type two operands of a comparison are cast to:
// commonType, or, when a string meets a number, date, timestamp or boolean,
// the non-string type (Spark 3's rule).
func comparisonType(a, b arrow.DataType) (arrow.DataType, bool) {
	if t, ok := commonType(a, b, false); ok {
		return t, true
	}
	if a.ID() == arrow.STRING && isAtomic(b) && b.ID() != arrow.BINARY {
		return b, true
	}
	if b.ID() == arrow.STRING && isAtomic(a) && a.ID() != arrow.BINARY {
		return a, true
	}
	return nil, false
}

// orderable reports whether values of t can be compared with < and >.
func orderable(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.MAP:
		return false
	case arrow.LIST:
		return orderable(listElem(t))
	case arrow.STRUCT:
		st := t.(*arrow.StructType)
		for i := 0; i < st.NumFields(); i++ {
			if !orderable(st.Field(i).Type) {
				return false
			}
		}
	}
	return true
}
