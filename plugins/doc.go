// SPDX-License-Identifier: Apache-2.0

// Package plugins groups the extension points of chronon-go: warehouse
// storage, KV stores and external-source handlers. Each kind lives in its own
// subpackage with a small Go interface; built-ins implement it in process and
// any implementation can run as a go-plugin process (DESIGN.md section 8).
package plugins
