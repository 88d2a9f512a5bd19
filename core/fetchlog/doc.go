// SPDX-License-Identifier: Apache-2.0

// Package fetchlog holds the codecs of fetch logging, shared by the fetcher
// (which writes logs) and the log flattening job (which reads them): the
// logged record, the schema-publish event, the logging schema and its hash,
// the key and value encodings, and Chronon's deterministic per-key sampling
// (Fetcher.logResponseInternal, JoinCodec.scala, HashUtils.scala).
//
// # Records
//
// A sampled join fetch becomes a Record: the encoded request keys, the
// encoded values the fetch returned (base values ++ derived values, as
// Chronon logs full values), the join name (team/name.v1), the request time
// and the hash of the logging schema the bytes follow. The schema itself
// travels once per hash as a schema-publish event: a Record named
// SchemaPublishEvent whose key is the hash and whose value is the schema.
//
// # Logging schema
//
// The schema is the string Chronon builds with Gson,
//
//	{"join_name":"team/name.v1","key_schema":"<json>","value_schema":"<json>"}
//
// where key_schema and value_schema are, instead of Avro schemas, our JSON
// form of the fields (core/batch JSONField) with an "encoding" version:
//
//	{"encoding":"chronon-go-row-v1","fields":[{"name":"user","type":"utf8","nullable":true}]}
//
// Its hash is Chronon's HashUtils.md5Base64: the first 10 characters of
// the standard base64 of the string's MD5.
//
// # Key and value bytes
//
// Keys and values are encoded against the schema's fields alone, so the
// flattening job decodes them from the schema string:
//
//	byte 1 (the encoding version)
//	uvarint length + a core/online row of the fields (AppendRow)
//	uvarint count + that many (uvarint length + name, uvarint length + JSON)
//
// The trailing entries ("extras") hold values the row cannot: a name that
// is not a schema field (an undeclared external-source field) or a value
// whose Go type does not follow the value convention of its field's type
// (core/batch CheckValue); they are JSON text, so nothing the fetcher
// answered is lost. Keys never have extras.
//
// # Sampling
//
// A request is logged iff h > 0 && h % 100000 <= samplePercent * 1000,
// where h = |md5Long(keyBytes)| and md5Long reads the first 8 bytes of the
// MD5 as a big-endian signed integer (Java's ByteBuffer.getLong). The rule
// is deterministic per key: a key is always or never logged at a given
// percentage.
package fetchlog
