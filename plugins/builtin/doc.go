// SPDX-License-Identifier: Apache-2.0

// Package builtin serves chronon's built-in plugins out of process: the
// chronon binary runs "chronon plugin serve <name>", which calls Serve, so
// any built-in can run as a go-plugin process of its own under
// pluginhost (isolating a store's crashes or memory from the server), with
// the config the host passes in CHRONON_PLUGIN_CONFIG.
//
// The built-ins and their config keys:
//
//	sqlite      KV store (plugins/kv/sqlite)
//	            path (string, required): the SQLite file
//	bigtable    KV store (plugins/kv/bigtable)
//	            project, instance (strings; required unless emulator is set)
//	            emulator (host:port of a Bigtable emulator)
//	            table (default "chronon"), app_profile,
//	            skip_create (bool: the table exists, needs no admin rights)
//	contextual  external-source handler (external.ContextualHandler): no config
//
// A host starts one as, for example:
//
//	kvplugin.Open(ctx, pluginhost.Options{
//		Path:   chrononBinary,
//		Args:   []string{"plugin", "serve", "sqlite"},
//		Config: map[string]any{"path": "./.chronon/kv.db"},
//	})
package builtin
