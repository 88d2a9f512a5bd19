// SPDX-License-Identifier: Apache-2.0

// Package config reads chronon.yaml, the one file that says where a
// chronon-go installation keeps its data and which services it talks to:
// warehouse root, KV store, Pub/Sub, Beam runner, window tails, fetch logging
// and external-source plugins.
//
// Every key is optional. A nil *Config or a zero field means the default, the
// embedded laptop setup under ./.chronon/ of the working directory; each
// field's doc names its default. docs/configuration.md is the user's
// reference and must be kept in step with this package.
package config
