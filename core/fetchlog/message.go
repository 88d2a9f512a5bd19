// SPDX-License-Identifier: Apache-2.0

package fetchlog

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrBadMessage is wrapped by DecodeMessage's errors: the bytes are not a
// log message a log table can hold. Use errors.Is.
var ErrBadMessage = errors.New("fetchlog: bad log message")

// Message is the JSON of a log record on Pub/Sub: Chronon's
// LoggableResponseBase64 (keyBase64, valueBase64, name, tsMillis,
// schemaHash), schemaHash null for a schema-publish event.
type Message struct {
	KeyBase64   string  `json:"keyBase64"`
	ValueBase64 string  `json:"valueBase64"`
	Name        string  `json:"name"`
	TsMillis    int64   `json:"tsMillis"`
	SchemaHash  *string `json:"schemaHash"`
}

// NewMessage returns r's message.
func NewMessage(r Record) Message {
	m := Message{
		KeyBase64:   base64.StdEncoding.EncodeToString(r.KeyBytes),
		ValueBase64: base64.StdEncoding.EncodeToString(r.ValueBytes),
		Name:        r.JoinName,
		TsMillis:    r.TsMillis,
	}
	if r.SchemaHash != "" {
		m.SchemaHash = &r.SchemaHash
	}
	return m
}

// Record decodes a message back into its record. It checks the base64
// only; DecodeMessage checks the rest.
func (m Message) Record() (Record, error) {
	r := Record{JoinName: m.Name, TsMillis: m.TsMillis}
	if m.SchemaHash != nil {
		r.SchemaHash = *m.SchemaHash
	}
	var err error
	if r.KeyBytes, err = base64.StdEncoding.DecodeString(m.KeyBase64); err != nil {
		return r, fmt.Errorf("%w: keyBase64: %w", ErrBadMessage, err)
	}
	if r.ValueBytes, err = base64.StdEncoding.DecodeString(m.ValueBase64); err != nil {
		return r, fmt.Errorf("%w: valueBase64: %w", ErrBadMessage, err)
	}
	return r, nil
}

// EncodeMessage returns the JSON Message of r.
func EncodeMessage(r Record) ([]byte, error) {
	b, err := json.Marshal(NewMessage(r))
	if err != nil {
		return nil, fmt.Errorf("fetchlog: encode record of %s: %w", r.JoinName, err)
	}
	return b, nil
}

// DecodeMessage decodes a JSON Message into its record. Besides JSON and
// base64 it rejects what no log table row may be: an empty name, a
// tsMillis <= 0, a data record without schemaHash and a schema-publish
// event with one. Every error wraps ErrBadMessage.
func DecodeMessage(data []byte) (Record, error) {
	var m Message
	if err := json.Unmarshal(data, &m); err != nil {
		return Record{}, fmt.Errorf("%w: %w", ErrBadMessage, err)
	}
	switch {
	case m.Name == "":
		return Record{}, fmt.Errorf("%w: no name", ErrBadMessage)
	case m.TsMillis <= 0:
		return Record{}, fmt.Errorf("%w: %s: tsMillis %d", ErrBadMessage, m.Name, m.TsMillis)
	case m.Name == SchemaPublishEvent && m.SchemaHash != nil:
		return Record{}, fmt.Errorf("%w: %s with a schemaHash", ErrBadMessage, m.Name)
	case m.Name != SchemaPublishEvent && (m.SchemaHash == nil || *m.SchemaHash == ""):
		return Record{}, fmt.Errorf("%w: %s: no schemaHash", ErrBadMessage, m.Name)
	}
	return m.Record()
}
