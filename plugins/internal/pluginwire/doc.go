// SPDX-License-Identifier: Apache-2.0

// Package pluginwire holds what both ends of chronon's plugin transport
// agree on and that is the same for every plugin kind: the environment
// variables the host sets (the plugin's config, its log level, the magic
// cookie), the plugin-side Serve wrapper around go-plugin, the JSON
// encoding of JSON-like values (external-source keys and values, plugin
// config) and the translation of errors to gRPC statuses and back.
//
// It is internal: plugin authors use plugins/sdk, hosts use
// plugins/pluginhost with plugins/kv/kvplugin or
// plugins/external/extplugin.
package pluginwire
