// SPDX-License-Identifier: Apache-2.0

// Package kvpb is the generated protobuf and gRPC code of the KV plugin
// protocol (kv.proto), which plugins/kv/kvplugin speaks. Regenerate it
// with "make generate"; do not edit the .pb.go files.
package kvpb
