// SPDX-License-Identifier: Apache-2.0

// Package api is the definition model of chronon-go: GroupBy, Join,
// StagingQuery and everything they contain, field for field as in Chronon's
// Thrift API (api.thrift).
//
// It reads and writes Chronon's compiled JSON (Thrift simple JSON: field
// names as keys, enums and bools as integers, unknown fields ignored), compiles
// the YAML authoring format into that model (see yaml.go), validates
// definitions with errors that name the field at fault, and derives the names
// Chronon derives: output columns, join-part prefixes, tables, KV datasets and
// semantic hashes.
//
// A Go program can build the same objects with the helpers in builders.go:
//
//	purchases := api.NewGroupBy("quickstart.purchases.v1",
//		[]*api.Source{api.EventsSource("data.purchases", api.NewQuery(api.Selects("user_id", "purchase_price"), "ts"))},
//		[]string{"user_id"},
//		api.Sum("purchase_price", api.Days(3), api.Days(14)),
//		api.LastK("purchase_price", 10))
//
// The package performs no I/O beyond what its callers hand it as bytes.
package api
