// SPDX-License-Identifier: Apache-2.0

// Generate writes deterministic CSV data shaped like Chronon's
// quickstart tables (purchases, returns, users, checkouts) into a
// directory, ready for `chronon import`:
//
//	go run ./examples/quickstart/generate --out DIR [--end-date YYYY-MM-DD] [--seed N]
//	    [--users 100] [--purchases 500] [--returns 500] [--checkouts 200] [--rows-scale X] [--snapshots 1]
//
// The same flags always write byte-identical files (the default end date is
// yesterday in UTC, so pass --end-date for reproducible output across days).
// Purchases and returns span the --days (30) days ending at the end date,
// users are in the day before it (--snapshots 2 adds the same users on the
// end date, for a run that uploads the end date) and checkouts all in it. Unlike
// Chronon's sample data, every row's ds is the UTC day of its ts. Files are
// streamed, so --purchases 1000000 runs in about a second and little memory.
package main
