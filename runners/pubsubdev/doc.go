// SPDX-License-Identifier: Apache-2.0

// Package pubsubdev is the Pub/Sub tooling around streaming GroupBys: a
// local emulator, the client connection every Chronon command uses, and
// publishing a file of events to a topic.
//
//   - Serve runs Google's in-process fake, cloud.google.com/go/pubsub/v2/pstest,
//     on a fixed address (chronon dev pubsub), so that laptops and tests
//     stream without a cloud project or Docker. It keeps every published
//     message in memory until it stops: restart it after large runs.
//   - Connect opens a client for chronon.yaml's pubsub section: the emulator
//     named by pubsub.emulator, else by $PUBSUB_EMULATOR_HOST, else real
//     Pub/Sub with Application Default Credentials.
//   - Publish sends each line of a CSV or JSONL file as one message
//     (chronon publish), creating the topic when it does not exist. It works
//     against real Pub/Sub as well as the emulator.
package pubsubdev
