// SPDX-License-Identifier: Apache-2.0

// Package expr is the Spark-SQL expression subset used by selects, wheres,
// derivations and skew keys: parsed once, type-checked against an input
// schema, and evaluated over Arrow batches (offline) and single rows (online)
// with the same results.
//
// It performs no I/O and imports no Beam, Echo or plugin code.
package expr
