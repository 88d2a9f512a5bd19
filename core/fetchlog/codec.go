// SPDX-License-Identifier: Apache-2.0

package fetchlog

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/core/online"
)

// version is the first byte of encoded keys and values.
const version = 1

// ErrCorrupt is wrapped by every decoding error of key or value bytes. Use
// errors.Is.
var ErrCorrupt = errors.New("fetchlog: corrupt record")

// EncodeKeys encodes a request's keys against the schema's key fields.
// Each value is cast to its field's type as the fetcher casts keys
// (core/online CoerceKey: "5" reaches a long key); a missing key is null,
// and request keys that are not key fields are ignored (Chronon's rule).
// A value that cannot be cast is an error naming the key.
func (s *Schema) EncodeKeys(keys map[string]any) ([]byte, error) {
	row := make([]any, len(s.Keys))
	for i, f := range s.Keys {
		v, err := online.CoerceKey(keys[f.Name], f.Type)
		if err != nil {
			return nil, fmt.Errorf("fetchlog: join %s: key %s: %w", s.JoinName, f.Name, err)
		}
		row[i] = v
	}
	return encode(s.keyTypes, row, nil)
}

// EncodeValues encodes a response's values (the value convention of
// core/batch) against the schema's value fields. A value field absent from
// vals is null; a name that is not a value field, or a value whose Go type
// does not fit its field, goes to the extras as JSON (see the package doc).
func (s *Schema) EncodeValues(vals map[string]any) ([]byte, error) {
	row := make([]any, len(s.Values))
	var extras map[string]any
	for name, v := range vals {
		i, ok := s.valueIndex[name]
		if ok && batch.CheckValue(v, s.Values[i].Type) == nil {
			row[i] = v
			continue
		}
		if extras == nil {
			extras = map[string]any{}
		}
		extras[name] = v
	}
	return encode(s.valueTypes, row, extras)
}

// encode writes the version, the row and the extras (sorted by name, so
// equal inputs encode equally).
func encode(types []arrow.DataType, row []any, extras map[string]any) ([]byte, error) {
	r, err := online.AppendRow(nil, types, row)
	if err != nil {
		return nil, fmt.Errorf("fetchlog: %w", err)
	}
	dst := binary.AppendUvarint([]byte{version}, uint64(len(r)))
	dst = append(dst, r...)
	dst = binary.AppendUvarint(dst, uint64(len(extras)))
	for _, name := range slices.Sorted(maps.Keys(extras)) {
		dst = appendString(dst, name)
		dst = appendString(dst, extraJSON(extras[name]))
	}
	return dst, nil
}

// extraJSON renders an extra value as JSON, or as a JSON string of its Go
// formatting when it has no JSON form (NaN, a channel), so it is never
// dropped.
func extraJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprintf("%v", v))
	}
	return string(b)
}

func appendString(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

// DecodeKeys decodes EncodeKeys' bytes into the key values, aligned with
// the schema's key fields. It never panics on malformed input.
func (s *Schema) DecodeKeys(b []byte) ([]any, error) {
	row, extras, err := decode(s.keyTypes, b)
	if err == nil && len(extras) > 0 {
		err = fmt.Errorf("%w: keys have %d extras", ErrCorrupt, len(extras))
	}
	if err != nil {
		return nil, fmt.Errorf("join %s keys: %w", s.JoinName, err)
	}
	return row, nil
}

// DecodeValues decodes EncodeValues' bytes into the values, aligned with
// the schema's value fields, and the extras (name to JSON text). It never
// panics on malformed input.
func (s *Schema) DecodeValues(b []byte) ([]any, map[string]string, error) {
	row, extras, err := decode(s.valueTypes, b)
	if err != nil {
		return nil, nil, fmt.Errorf("join %s values: %w", s.JoinName, err)
	}
	return row, extras, nil
}

func decode(types []arrow.DataType, b []byte) ([]any, map[string]string, error) {
	if len(b) == 0 || b[0] != version {
		return nil, nil, fmt.Errorf("%w: unknown version", ErrCorrupt)
	}
	b = b[1:]
	rowBytes, b, ok := cutString(b)
	if !ok {
		return nil, nil, fmt.Errorf("%w: bad row length", ErrCorrupt)
	}
	row, err := online.DecodeRow(rowBytes, types)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) {
		return nil, nil, fmt.Errorf("%w: bad extras count", ErrCorrupt)
	}
	b = b[w:]
	var extras map[string]string
	for i := range n {
		var name, text []byte
		if name, b, ok = cutString(b); ok {
			text, b, ok = cutString(b)
		}
		if !ok {
			return nil, nil, fmt.Errorf("%w: extra %d: short input", ErrCorrupt, i)
		}
		if !json.Valid(text) {
			return nil, nil, fmt.Errorf("%w: extra %q: not JSON", ErrCorrupt, name)
		}
		if extras == nil {
			extras = map[string]string{}
		}
		extras[string(name)] = string(text)
	}
	if len(b) != 0 {
		return nil, nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(b))
	}
	return row, extras, nil
}

// cutString splits a uvarint-length-prefixed string off b.
func cutString(b []byte) (s, rest []byte, ok bool) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)-w) {
		return nil, b, false
	}
	end := w + int(n)
	return b[w:end:end], b[end:], true
}
