// SPDX-License-Identifier: Apache-2.0

package fetchlog

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/batch"
)

// Encoding names the key and value encoding in a schema's key_schema and
// value_schema. A reader refuses encodings it does not know.
const Encoding = "chronon-go-row-v1"

// Schema is a join's logging schema: the fields its logged keys and values
// are encoded against. It is immutable once built.
type Schema struct {
	// JoinName is team/name.v1.
	JoinName string
	// Keys and Values are the encoded fields, in encoding order.
	Keys, Values []arrow.Field

	keyTypes, valueTypes []arrow.DataType
	valueIndex           map[string]int
	str, hash            string
}

// fieldsJSON is the JSON of key_schema and value_schema.
type fieldsJSON struct {
	Encoding string            `json:"encoding"`
	Fields   []batch.JSONField `json:"fields"`
}

// schemaJSON is the logging schema (Chronon's JoinCodec.buildLoggingSchema
// keys); its fields are JSON strings themselves, as in Chronon.
type schemaJSON struct {
	JoinName    string `json:"join_name"`
	KeySchema   string `json:"key_schema"`
	ValueSchema string `json:"value_schema"`
}

// NewSchema builds the logging schema of a join's keys and values. Field
// names must be unique within keys and within values, and every type must
// have a JSON form (core/batch FieldToJSON).
func NewSchema(joinName string, keys, values []arrow.Field) (*Schema, error) {
	s := &Schema{JoinName: joinName, Keys: slices.Clone(keys), Values: slices.Clone(values)}
	ks, err := fieldsString(keys)
	if err != nil {
		return nil, fmt.Errorf("fetchlog: join %s: key schema: %w", joinName, err)
	}
	vs, err := fieldsString(values)
	if err != nil {
		return nil, fmt.Errorf("fetchlog: join %s: value schema: %w", joinName, err)
	}
	b, err := json.Marshal(schemaJSON{JoinName: joinName, KeySchema: ks, ValueSchema: vs})
	if err != nil {
		return nil, fmt.Errorf("fetchlog: join %s: %w", joinName, err)
	}
	s.str = string(b)
	s.hash = Hash(s.str)
	s.index()
	return s, nil
}

func fieldsString(fields []arrow.Field) (string, error) {
	out := fieldsJSON{Encoding: Encoding, Fields: make([]batch.JSONField, 0, len(fields))}
	seen := map[string]bool{}
	for _, f := range fields {
		if seen[f.Name] {
			return "", fmt.Errorf("field %q appears twice", f.Name)
		}
		seen[f.Name] = true
		jf, err := batch.FieldToJSON(f)
		if err != nil {
			return "", fmt.Errorf("field %q: %w", f.Name, err)
		}
		out.Fields = append(out.Fields, jf)
	}
	b, err := json.Marshal(out)
	return string(b), err
}

func (s *Schema) index() {
	s.keyTypes = fieldTypes(s.Keys)
	s.valueTypes = fieldTypes(s.Values)
	s.valueIndex = make(map[string]int, len(s.Values))
	for i, f := range s.Values {
		s.valueIndex[f.Name] = i
	}
}

func fieldTypes(fields []arrow.Field) []arrow.DataType {
	out := make([]arrow.DataType, len(fields))
	for i, f := range fields {
		out[i] = f.Type
	}
	return out
}

// String returns the schema string that is published and hashed.
func (s *Schema) String() string { return s.str }

// Hash returns the schema's hash (Hash of String).
func (s *Schema) Hash() string { return s.hash }

// Hash is Chronon's HashUtils.md5Base64: the first 10 characters of the
// standard base64 encoding of s's MD5.
func Hash(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])[:10]
}

// ParseSchema parses a published schema string. Its hash is computed from
// str, so a schema read back hashes as it was published.
func ParseSchema(str string) (*Schema, error) {
	var sj schemaJSON
	if err := json.Unmarshal([]byte(str), &sj); err != nil {
		return nil, fmt.Errorf("fetchlog: logging schema: %w", err)
	}
	s := &Schema{JoinName: sj.JoinName, str: str, hash: Hash(str)}
	var err error
	if s.Keys, err = parseFields(sj.KeySchema); err != nil {
		return nil, fmt.Errorf("fetchlog: logging schema of %s: key_schema: %w", sj.JoinName, err)
	}
	if s.Values, err = parseFields(sj.ValueSchema); err != nil {
		return nil, fmt.Errorf("fetchlog: logging schema of %s: value_schema: %w", sj.JoinName, err)
	}
	s.index()
	return s, nil
}

func parseFields(str string) ([]arrow.Field, error) {
	var fj fieldsJSON
	if err := json.Unmarshal([]byte(str), &fj); err != nil {
		return nil, err
	}
	if fj.Encoding != Encoding {
		return nil, fmt.Errorf("encoding %q is not supported (supported: %s)", fj.Encoding, Encoding)
	}
	out := make([]arrow.Field, 0, len(fj.Fields))
	seen := map[string]bool{}
	for _, jf := range fj.Fields {
		if seen[jf.Name] {
			return nil, fmt.Errorf("field %q appears twice", jf.Name)
		}
		seen[jf.Name] = true
		f, err := batch.FieldFromJSON(jf)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", jf.Name, err)
		}
		out = append(out, f)
	}
	return out, nil
}
