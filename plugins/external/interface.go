// SPDX-License-Identifier: Apache-2.0

package external

import "context"

// Request is one lookup of an external source: its key values by the
// source's key names (after the join's key mapping).
type Request struct {
	Keys map[string]any
}

// Result answers one Request: the source's values by field name (a field
// may be missing or nil), or the error of this request alone.
type Result struct {
	Values map[string]any
	Err    error
}

// Handler fetches an external source's values. Implementations must be safe
// for concurrent use. The fetcher deduplicates identical requests before
// calling Fetch.
//
// Values are JSON-like: nil, bool, string, float64 or int64, []any and
// map[string]any. The fetcher converts them to the types the source's
// valueSchema declares.
type Handler interface {
	// Fetch answers every request, in order. The returned error is for a
	// failure of the whole call (the service is unreachable); a request
	// that fails alone has its own Result.Err.
	Fetch(ctx context.Context, reqs []Request) ([]Result, error)
	// Close releases the handler's resources.
	Close() error
}

// Contextual is the name of the built-in contextual source, whose values
// are the request's own keys (Chronon's "contextual" external source).
const Contextual = "contextual"

// ContextualHandler echoes each request's keys as its values.
type ContextualHandler struct{}

// Fetch implements Handler.
func (ContextualHandler) Fetch(_ context.Context, reqs []Request) ([]Result, error) {
	out := make([]Result, len(reqs))
	for i, r := range reqs {
		vals := make(map[string]any, len(r.Keys))
		for k, v := range r.Keys {
			vals[k] = v
		}
		out[i] = Result{Values: vals}
	}
	return out, nil
}

// Close implements Handler.
func (ContextualHandler) Close() error { return nil }
