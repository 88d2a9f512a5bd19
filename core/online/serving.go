// SPDX-License-Identifier: Apache-2.0

package online

import (
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/core/batch"
)

// ServingInfo is what a batch upload stores next to a GroupBy's values
// (KV key api.ServingInfoKey in its batch dataset): the definition, the
// uploaded day and what a fetcher needs to compile the same aggregations
// without reading the warehouse.
type ServingInfo struct {
	GroupBy *api.GroupBy
	// BatchDS is the last uploaded partition; values hold data before
	// BatchEnd, midnight after it.
	BatchDS  string
	BatchEnd int64
	// Selected is the projected source schema: key and value columns.
	Selected *arrow.Schema
	// WindowTail is the effective window tail mode ("exact" or "hop").
	WindowTail string
}

const dayMillis = 24 * 60 * 60 * 1000

// NewServingInfo describes an upload of g's partition ds compiled over
// selected under window tail mode tail.
func NewServingInfo(g *api.GroupBy, ds string, selected *arrow.Schema, tail string) (*ServingInfo, error) {
	start, err := batch.MillisOfDS(ds)
	if err != nil {
		return nil, fmt.Errorf("serving info: batch day: %w", err)
	}
	return &ServingInfo{GroupBy: g, BatchDS: ds, BatchEnd: start + dayMillis, Selected: selected, WindowTail: tail}, nil
}

// MarshalServingInfo encodes s as Chronon's GroupByServingInfo JSON plus our
// own fields (selectedSchema, windowTail).
func MarshalServingInfo(s *ServingInfo) ([]byte, error) {
	js, err := batch.SchemaToJSON(s.Selected)
	if err != nil {
		return nil, fmt.Errorf("serving info: selected schema: %w", err)
	}
	sel, err := json.Marshal(js)
	if err != nil {
		return nil, err
	}
	return api.Marshal(&api.GroupByServingInfo{
		GroupBy:        s.GroupBy,
		BatchEndDate:   s.BatchDS,
		DateFormat:     "yyyy-MM-dd",
		SelectedSchema: sel,
		WindowTail:     s.WindowTail,
	})
}

// ParseServingInfo decodes what MarshalServingInfo wrote.
func ParseServingInfo(data []byte) (*ServingInfo, error) {
	info, err := api.ParseGroupByServingInfo(data)
	if err != nil {
		return nil, err
	}
	if info.GroupBy == nil || info.GroupBy.MetaData == nil {
		return nil, fmt.Errorf("serving info: no groupBy")
	}
	name := info.GroupBy.MetaData.Name
	if len(info.SelectedSchema) == 0 {
		return nil, fmt.Errorf("serving info of %s: no selectedSchema (uploaded by an older version: upload again)", name)
	}
	var js batch.JSONSchema
	if err := json.Unmarshal(info.SelectedSchema, &js); err != nil {
		return nil, fmt.Errorf("serving info of %s: selectedSchema: %w", name, err)
	}
	sel, err := batch.SchemaFromJSON(js)
	if err != nil {
		return nil, fmt.Errorf("serving info of %s: selectedSchema: %w", name, err)
	}
	s, err := NewServingInfo(info.GroupBy, info.BatchEndDate, sel, info.WindowTail)
	if err != nil {
		return nil, fmt.Errorf("serving info of %s: batchEndDate: %w", name, err)
	}
	return s, nil
}
