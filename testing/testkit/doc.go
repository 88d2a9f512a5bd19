// SPDX-License-Identifier: Apache-2.0

// Package testkit holds setup that tests of several packages share: local
// stand-ins for cloud services, started in process and stopped when the
// test ends.
package testkit
