// SPDX-License-Identifier: Apache-2.0

// Package extplugin carries external.Handler over go-plugin's gRPC
// transport: the handshake of external-source plugins, the go-plugin
// adapter (Plugin) with its client and server shims over the extpb
// protocol, Serve for a plugin's main, and Open for the host, which
// returns an external.Handler backed by a plugin process that pluginhost
// restarts when it crashes.
//
// # Values
//
// Request keys and result values are JSON-like (nil, bool, string, int64,
// float64, []any, map[string]any) and travel as JSON. JSON has a single
// number type, so the encoding writes every float with a fraction or an
// exponent (float64(2) is 2.0) and every integer without: the other side
// decodes an integral literal as int64 and any other number as float64.
// So int64 and float64 keep their types across the wire, also inside
// lists and maps. Other Go types a handler may return are converted:
// integers of any size to int64, float32 to float64, typed slices and
// string-keyed maps to []any and map[string]any, pointers to what they
// point to; structs and types with a MarshalJSON go through encoding/json
// (so an integral float64 field inside them arrives as int64). An integer
// beyond int64's range arrives as the nearest float64. NaN and ±Inf have
// no JSON form: a result holding one fails alone, with a per-request
// error.
//
// A request's error (external.Result.Err) crosses the wire as its message,
// and still matches context.Canceled or context.DeadlineExceeded with
// errors.Is. A call made while the plugin is down fails with an error
// wrapping pluginhost.ErrUnavailable.
//
// Host side:
//
//	h, err := extplugin.Open(ctx, pluginhost.Options{
//		Path:   "/opt/chronon/plugins/user-profile",
//		Config: map[string]any{"url": "http://profiles.internal/users"},
//		Logger: logger,
//	})
//	if err != nil {
//		return err
//	}
//	defer h.Close()
//	res, err := h.Fetch(ctx, []external.Request{{Keys: map[string]any{"user_id": int64(5)}}})
//
// Plugin side (or sdk.ServeExternal, the same):
//
//	func main() { extplugin.Serve(myHandler) }
package extplugin
