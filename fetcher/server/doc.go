// SPDX-License-Identifier: Apache-2.0

// Package server is chronon's HTTP feature service (Echo), compatible with
// Chronon's service routes and JSON:
//
//	POST /v1/features/join/TEAM%2FNAME.v1     [{"user_id": "5"}, ...]
//	POST /v1/features/groupby/TEAM%2FNAME.v1
//	GET  /v1/join/TEAM%2FNAME.v1/schema
//	GET  /ping, /healthz, /config, /metrics
//
// A features response is {"results": [{"status": "Success", "entityKeys":
// {...}, "features": {...}}, {"status": "Failure", "entityKeys": {...},
// "error": "..."}]} in request order. Errors of the whole request are
// {"errors": ["..."]}: 400 for a malformed body or too many keys, 413 for
// an oversized body, 401 without the bearer token when one is configured.
// The server never waits longer than its per-request timeout: parts not
// answered by then become _exception features.
package server
