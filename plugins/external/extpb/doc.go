// SPDX-License-Identifier: Apache-2.0

// Package extpb is the generated protobuf and gRPC code of the
// external-source plugin protocol (external.proto), which
// plugins/external/extplugin speaks. Regenerate it with "make generate";
// do not edit the .pb.go files.
package extpb
