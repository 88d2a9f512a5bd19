// SPDX-License-Identifier: Apache-2.0

package api

import "encoding/json"

// The types below mirror Chronon's api.thrift. Struct fields are declared in
// Thrift field-id order so that the JSON we write lists them in the order
// Chronon's TSimpleJSONProtocol does. Optional fields are omitted when unset.

// Query describes how a source table is read (Thrift Query).
type Query struct {
	// Selects maps output column -> Spark SQL expression, in the order given.
	Selects *OrderedMap `json:"selects,omitempty"`
	// Wheres are ANDed filters evaluated against the raw table columns.
	Wheres         []string `json:"wheres,omitempty"`
	StartPartition string   `json:"startPartition,omitempty"`
	EndPartition   string   `json:"endPartition,omitempty"`
	// TimeColumn is an expression producing epoch milliseconds; it becomes ts.
	TimeColumn string   `json:"timeColumn,omitempty"`
	Setups     []string `json:"setups"`
	// MutationTimeColumn becomes mutation_ts on entity mutation rows.
	MutationTimeColumn string `json:"mutationTimeColumn,omitempty"`
	// ReversalColumn becomes is_before on entity mutation rows.
	ReversalColumn string `json:"reversalColumn,omitempty"`
	// PartitionColumn overrides the partition column (default ds).
	PartitionColumn string `json:"partitionColumn,omitempty"`
}

// StagingQuery is a SQL query whose daily output is a table (Thrift StagingQuery).
type StagingQuery struct {
	MetaData       *MetaData `json:"metaData,omitempty"`
	Query          string    `json:"query,omitempty"`
	StartPartition string    `json:"startPartition,omitempty"`
	Setups         []string  `json:"setups,omitempty"`
	CreateView     Bool      `json:"createView,omitempty"`
}

// EventSource is a ds-partitioned table of events, optionally with a topic
// carrying the same events in real time (Thrift EventSource).
type EventSource struct {
	Table        string `json:"table,omitempty"`
	Topic        string `json:"topic,omitempty"`
	Query        *Query `json:"query,omitempty"`
	IsCumulative Bool   `json:"isCumulative,omitempty"`
}

// EntitySource is a daily snapshot table, optionally with a table and topic of
// mutations (Thrift EntitySource).
type EntitySource struct {
	SnapshotTable string `json:"snapshotTable,omitempty"`
	MutationTable string `json:"mutationTable,omitempty"`
	MutationTopic string `json:"mutationTopic,omitempty"`
	Query         *Query `json:"query,omitempty"`
}

// ExternalSourceFactoryConfig names a factory that builds an external source
// handler.
type ExternalSourceFactoryConfig struct {
	FactoryName   string            `json:"factoryName,omitempty"`
	FactoryParams map[string]string `json:"factoryParams,omitempty"`
}

// ExternalSource is a service called at fetch time (Thrift ExternalSource).
// Note Chronon spells its metadata field "metadata" here.
type ExternalSource struct {
	MetaData       *MetaData                    `json:"metadata,omitempty"`
	KeySchema      *TDataType                   `json:"keySchema,omitempty"`
	ValueSchema    *TDataType                   `json:"valueSchema,omitempty"`
	FactoryConfig  *ExternalSourceFactoryConfig `json:"factoryConfig,omitempty"`
	OfflineGroupBy *GroupBy                     `json:"offlineGroupBy,omitempty"`
}

// JoinSource is the output of a Join used as a GroupBy source (chaining).
type JoinSource struct {
	Join  *Join  `json:"join,omitempty"`
	Query *Query `json:"query,omitempty"`
}

// Source is a union: exactly one of its fields is set.
type Source struct {
	Events     *EventSource  `json:"events,omitempty"`
	Entities   *EntitySource `json:"entities,omitempty"`
	JoinSource *JoinSource   `json:"joinSource,omitempty"`
}

// Window is a time window; see Window.Unbounded.
type Window struct {
	Length   int32    `json:"length"`
	TimeUnit TimeUnit `json:"timeUnit"`
}

// Aggregation is one operation over an input column, expanded to one output
// column per (bucket, window) (Thrift Aggregation).
type Aggregation struct {
	InputColumn string            `json:"inputColumn,omitempty"`
	Operation   Operation         `json:"operation"`
	ArgMap      map[string]string `json:"argMap"`
	Windows     []Window          `json:"windows,omitempty"`
	Buckets     []string          `json:"buckets,omitempty"`
	ElementWise Bool              `json:"elementWise,omitempty"`
}

// AggregationPart is one output column of an Aggregation: a single window and
// bucket (Thrift AggregationPart).
type AggregationPart struct {
	InputColumn string            `json:"inputColumn,omitempty"`
	Operation   Operation         `json:"operation"`
	ArgMap      map[string]string `json:"argMap,omitempty"`
	// Window is nil for an unbounded window.
	Window      *Window `json:"window,omitempty"`
	Bucket      string  `json:"bucket,omitempty"`
	ElementWise Bool    `json:"elementWise,omitempty"`
}

// MetaData names and configures a definition (Thrift MetaData).
type MetaData struct {
	Name            string            `json:"name,omitempty"`
	Online          Bool              `json:"online,omitempty"`
	Production      Bool              `json:"production,omitempty"`
	CustomJSON      string            `json:"customJson,omitempty"`
	Dependencies    []string          `json:"dependencies,omitempty"`
	TableProperties map[string]string `json:"tableProperties,omitempty"`
	OutputNamespace string            `json:"outputNamespace,omitempty"`
	Team            string            `json:"team,omitempty"`
	// ModeToEnvMap maps a job mode (backfill, upload, streaming) to env vars.
	ModeToEnvMap     map[string]map[string]string `json:"modeToEnvMap,omitempty"`
	ConsistencyCheck Bool                         `json:"consistencyCheck,omitempty"`
	// SamplePercent is the percentage of online requests that are logged.
	SamplePercent            float64 `json:"samplePercent,omitempty"`
	OfflineSchedule          string  `json:"offlineSchedule,omitempty"`
	ConsistencySamplePercent float64 `json:"consistencySamplePercent,omitempty"`
	HistoricalBackfill       Bool    `json:"historicalBackfill,omitempty"`
	DeprecationDate          string  `json:"deprecationDate,omitempty"`
	Description              string  `json:"description,omitempty"`
}

// GroupBy aggregates sources by keys (Thrift GroupBy).
type GroupBy struct {
	MetaData   *MetaData `json:"metaData,omitempty"`
	Sources    []*Source `json:"sources,omitempty"`
	KeyColumns []string  `json:"keyColumns,omitempty"`
	// Aggregations is nil for a GroupBy whose source is already grouped.
	Aggregations []*Aggregation `json:"aggregations,omitempty"`
	// Accuracy is nil when unset; see GroupBy.InferredAccuracy.
	Accuracy          *Accuracy     `json:"accuracy,omitempty"`
	BackfillStartDate string        `json:"backfillStartDate,omitempty"`
	Derivations       []*Derivation `json:"derivations,omitempty"`
	IsIncremental     Bool          `json:"isIncremental,omitempty"`
}

// JoinPart is a GroupBy inside a Join (Thrift JoinPart).
type JoinPart struct {
	GroupBy *GroupBy `json:"groupBy,omitempty"`
	// KeyMapping maps left column name -> group-by key name.
	KeyMapping map[string]string `json:"keyMapping,omitempty"`
	// Prefix is nil when unset; "" is a real (empty) prefix.
	Prefix *string `json:"prefix,omitempty"`
}

// ExternalPart is an external source inside a Join (Thrift ExternalPart).
type ExternalPart struct {
	Source *ExternalSource `json:"source,omitempty"`
	// KeyMapping maps left key -> external source key (rename only).
	KeyMapping map[string]string `json:"keyMapping,omitempty"`
	Prefix     *string           `json:"prefix,omitempty"`
}

// Derivation is a named Spark SQL expression over a Join's or GroupBy's
// output; name "*" with expression "*" keeps every raw column.
type Derivation struct {
	Name       string    `json:"name,omitempty"`
	Expression string    `json:"expression,omitempty"`
	MetaData   *MetaData `json:"metaData,omitempty"`
}

// BootstrapPart supplies precomputed values for a Join's columns.
type BootstrapPart struct {
	MetaData   *MetaData `json:"metaData,omitempty"`
	Table      string    `json:"table,omitempty"`
	Query      *Query    `json:"query,omitempty"`
	KeyColumns []string  `json:"keyColumns,omitempty"`
}

// LabelPart defines labels joined to a Join's rows after the fact.
type LabelPart struct {
	Labels []*JoinPart `json:"labels,omitempty"`
	// LeftStartOffset and LeftEndOffset are in days before label_ds.
	LeftStartOffset int32     `json:"leftStartOffset"`
	LeftEndOffset   int32     `json:"leftEndOffset"`
	MetaData        *MetaData `json:"metaData,omitempty"`
}

// InferenceSpec says how a model is served.
type InferenceSpec struct {
	ModelBackend       string            `json:"modelBackend,omitempty"`
	ModelBackendParams map[string]string `json:"modelBackendParams,omitempty"`
}

// Model describes an ML model (Thrift Model, CHIP-9).
type Model struct {
	MetaData      *MetaData      `json:"metaData,omitempty"`
	InferenceSpec *InferenceSpec `json:"inferenceSpec,omitempty"`
	InputSchema   *TDataType     `json:"inputSchema,omitempty"`
	OutputSchema  *TDataType     `json:"outputSchema,omitempty"`
}

// ModelTransform applies a model to a Join's output.
type ModelTransform struct {
	Model          *Model            `json:"model,omitempty"`
	InputMappings  map[string]string `json:"inputMappings,omitempty"`
	OutputMappings map[string]string `json:"outputMappings,omitempty"`
	Prefix         string            `json:"prefix,omitempty"`
}

// ModelTransforms is the list of model transforms of a Join.
type ModelTransforms struct {
	Transforms        []*ModelTransform `json:"transforms,omitempty"`
	PassthroughFields []string          `json:"passthroughFields,omitempty"`
}

// Join enriches a left source with join parts (Thrift Join).
type Join struct {
	MetaData  *MetaData   `json:"metaData,omitempty"`
	Left      *Source     `json:"left,omitempty"`
	JoinParts []*JoinPart `json:"joinParts"`
	// SkewKeys maps a left column to SQL literals whose rows are excluded.
	SkewKeys            map[string][]string `json:"skewKeys,omitempty"`
	OnlineExternalParts []*ExternalPart     `json:"onlineExternalParts,omitempty"`
	LabelPart           *LabelPart          `json:"labelPart,omitempty"`
	BootstrapParts      []*BootstrapPart    `json:"bootstrapParts,omitempty"`
	RowIDs              []string            `json:"rowIds,omitempty"`
	Derivations         []*Derivation       `json:"derivations,omitempty"`
	ModelTransforms     *ModelTransforms    `json:"modelTransforms,omitempty"`
}

// DataField is a named field of a struct type.
type DataField struct {
	Name     string     `json:"name,omitempty"`
	DataType *TDataType `json:"dataType,omitempty"`
}

// TDataType is a (possibly nested) data type (Thrift TDataType). Params hold
// a list's element, a map's key and value, or a struct's fields.
type TDataType struct {
	Kind   DataKind     `json:"kind"`
	Params []*DataField `json:"params,omitempty"`
	// Name is set for structs only.
	Name string `json:"name,omitempty"`
}

// GroupByServingInfo is what an upload stores next to a GroupBy's batch data
// so the fetcher can decode it (Thrift GroupByServingInfo).
type GroupByServingInfo struct {
	GroupBy            *GroupBy `json:"groupBy,omitempty"`
	InputAvroSchema    string   `json:"inputAvroSchema,omitempty"`
	SelectedAvroSchema string   `json:"selectedAvroSchema,omitempty"`
	KeyAvroSchema      string   `json:"keyAvroSchema,omitempty"`
	// BatchEndDate is the last uploaded partition (Chronon's endDs); the
	// batch end is midnight after it.
	BatchEndDate string `json:"batchEndDate,omitempty"`
	DateFormat   string `json:"dateFormat,omitempty"`
	// Our own fields (Chronon keeps Avro schemas instead).
	// SelectedSchema is the projected source schema the GroupBy was
	// compiled against (core/batch JSONSchema), so a fetcher compiles the
	// same aggregations without the warehouse.
	SelectedSchema json.RawMessage `json:"selectedSchema,omitempty"`
	// WindowTail is the effective window tail mode of the upload.
	WindowTail string `json:"windowTail,omitempty"`
}
