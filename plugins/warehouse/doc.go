// SPDX-License-Identifier: Apache-2.0

// Package warehouse defines the offline table storage contract: ds-partitioned
// tables of Arrow record batches, read with projection and partition pruning and
// written in transactions that become visible atomically.
//
// The built-in implementation is package parquet (a local directory of Hive-style
// Parquet partitions); other warehouses plug in behind the same interface.
package warehouse
