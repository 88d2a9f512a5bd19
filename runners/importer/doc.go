// SPDX-License-Identifier: Apache-2.0

// Package importer loads a local CSV, JSON Lines or Parquet file into a
// warehouse table, as `chronon import` does: it infers (or takes) the column
// types, routes every row to its ds partition (one fixed partition, or the
// value of a column), and writes all the partitions it touches in one
// overwrite transaction, so an import writes all its partitions or none.
//
// Text files are read twice (once to infer types, once to convert), so a
// file of any size is imported in bounded memory.
package importer
