// SPDX-License-Identifier: Apache-2.0

// Package stream holds the pure logic of streaming GroupBys that needs no
// Pub/Sub client: how Chronon's topic string maps onto Pub/Sub resources,
// and how one message's bytes become a row of Go values.
//
// # Topics
//
// A GroupBy source's topic is Chronon's topic string, e.g.
//
//	events.returns/fields=ts,return_id,user_id,product_id,refund_amt/host=kafka/port=9092
//
// ParseTopic splits it as Chronon does: the part before the first "/" is
// the topic id (here the Pub/Sub topic "events.returns"), every later part
// is a key=value parameter, and fields=a,b,c gives the column order of CSV
// messages. Parameters Pub/Sub has no use for (host, port) are kept in
// Topic.Params and ignored. An optional "kafka://" or "pubsub://" prefix,
// which newer Chronon versions accept, is kept in Topic.Type.
//
// The streaming job of GroupBy G reads the subscription SubscriptionName(G)
// ("chronon-" + G's clean name) and sends messages it cannot decode to
// DeadLetterTopic(id) ("<id>-dead-letter"). Both follow Pub/Sub's resource
// id rules (CheckID).
//
// # Messages
//
// A Decoder turns a payload into a row: column name → Go value in core/expr's
// value convention, the type of each value that of its column in the source
// schema. A payload whose first non-blank byte is "{" is a JSON object;
// anything else is one CSV record whose columns are the topic's fields=, in
// order. An empty CSV field and a JSON null are null; columns the message
// does not carry are null (absent from the row); JSON members and CSV
// columns that are not columns of the schema are ignored. Errors are
// *DecodeError values naming the field and the reason, e.g.
//
//	field user_id: cannot parse "x" as long
//
// so that the streaming job can count and dead-letter malformed messages
// with a reason a person can act on.
//
// The package performs no I/O; everything in it is safe for concurrent use.
package stream
