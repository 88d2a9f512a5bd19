// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// ColumnType names the Arrow type of one column.
type ColumnType struct {
	Name string
	Type arrow.DataType
}

// SchemaSpec is an ordered list of column type overrides, as parsed by
// ParseSchemaSpec. A column appears at most once.
type SchemaSpec []ColumnType

// ParseSchemaSpec parses a comma-separated list of "column:type" entries, such
// as "user_id:string,ts:long,price:double", into column type overrides in the
// order given. The type names are those of ParseSpecType. Blanks around names
// and types are ignored; an empty spec yields no overrides. Errors name the
// bad entry.
func ParseSchemaSpec(spec string) (SchemaSpec, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, nil
	}
	var out SchemaSpec
	seen := map[string]bool{}
	for i, entry := range strings.Split(spec, ",") {
		name, typ, ok := strings.Cut(entry, ":")
		name, typ = strings.TrimSpace(name), strings.TrimSpace(typ)
		if !ok || name == "" || typ == "" {
			return nil, fmt.Errorf("schema spec entry %d %q: want column:type", i+1, strings.TrimSpace(entry))
		}
		dt, err := ParseSpecType(typ)
		if err != nil {
			return nil, fmt.Errorf("schema spec entry %d %q: %w", i+1, strings.TrimSpace(entry), err)
		}
		if seen[name] {
			return nil, fmt.Errorf("schema spec entry %d %q: column %q given twice", i+1, strings.TrimSpace(entry), name)
		}
		seen[name] = true
		out = append(out, ColumnType{Name: name, Type: dt})
	}
	return out, nil
}

// ParseSpecType returns the Arrow type of a schema spec type name: string,
// long (int64), int (int32), double (float64), float (float32) and boolean
// (or bool). Names are case-insensitive.
func ParseSpecType(name string) (arrow.DataType, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "string":
		return arrow.BinaryTypes.String, nil
	case "long":
		return arrow.PrimitiveTypes.Int64, nil
	case "int":
		return arrow.PrimitiveTypes.Int32, nil
	case "double":
		return arrow.PrimitiveTypes.Float64, nil
	case "float":
		return arrow.PrimitiveTypes.Float32, nil
	case "boolean", "bool":
		return arrow.FixedWidthTypes.Boolean, nil
	}
	return nil, fmt.Errorf("unknown type %q (want string, long, int, double, float or boolean)", name)
}

// SpecTypeName returns the schema spec name of dt ("long" for int64, ...), or
// dt's Arrow name for a type the spec cannot express.
func SpecTypeName(dt arrow.DataType) string {
	switch dt.ID() {
	case arrow.STRING:
		return "string"
	case arrow.INT64:
		return "long"
	case arrow.INT32:
		return "int"
	case arrow.FLOAT64:
		return "double"
	case arrow.FLOAT32:
		return "float"
	case arrow.BOOL:
		return "boolean"
	}
	return dt.String()
}

// Lookup returns the override type of column name, if the spec has one.
func (s SchemaSpec) Lookup(name string) (arrow.DataType, bool) {
	for _, c := range s {
		if c.Name == name {
			return c.Type, true
		}
	}
	return nil, false
}

// Missing returns, in spec order, the overridden columns that schema lacks.
// Callers use it to reject overrides that name no column of a file.
func (s SchemaSpec) Missing(schema *arrow.Schema) []string {
	var out []string
	for _, c := range s {
		if _, ok := schema.FieldsByName(c.Name); !ok {
			out = append(out, c.Name)
		}
	}
	return out
}

// String formats the spec so that ParseSchemaSpec reads it back.
func (s SchemaSpec) String() string {
	parts := make([]string, len(s))
	for i, c := range s {
		parts[i] = c.Name + ":" + SpecTypeName(c.Type)
	}
	return strings.Join(parts, ",")
}
