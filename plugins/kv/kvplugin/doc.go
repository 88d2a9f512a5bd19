// SPDX-License-Identifier: Apache-2.0

// Package kvplugin carries kv.Store over go-plugin's gRPC transport: the
// handshake of KV plugins, the go-plugin adapter (Plugin) with its client
// and server shims over the kvpb protocol, Serve for a plugin's main, and
// Open for the host, which returns a kv.Store backed by a plugin process
// that pluginhost restarts when it crashes.
//
// Host side:
//
//	st, err := kvplugin.Open(ctx, pluginhost.Options{
//		Path:   "/opt/chronon/plugins/my-kv",
//		Config: map[string]any{"dsn": "..."},
//		Logger: logger,
//	})
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//	res, err := st.MultiGet(ctx, reqs)
//
// Plugin side (or sdk.ServeKV, the same):
//
//	func main() { kvplugin.Serve(myStore) }
//
// Errors cross the wire: a request's own error stays in its
// kv.GetResult.Err, kv.ErrNoDataset and the context's errors still match
// errors.Is on the host, and a call made while the plugin is down fails
// with an error wrapping pluginhost.ErrUnavailable.
package kvplugin
