// SPDX-License-Identifier: Apache-2.0

// Command external-http is an example chronon external-source handler
// plugin, written with plugins/sdk: it answers a batch of fetch requests
// with one call of an HTTP JSON service and returns the fields of the
// service's answers as the source's values. See README.md for how to
// build it and name it in chronon.yaml.
//
// The service gets, for a batch of requests, either (method POST) a JSON
// array of the requests' key maps, or (method GET, the default) the keys
// in the query string, each key name once per request in request order:
//
//	POST /users   [{"user_id": 5}, {"user_id": 7}]
//	GET  /users?user_id=5&user_id=7
//
// and answers with a JSON array of the same length and order, each
// element an object of fields or null for "not found":
//
//	[{"name": "Ann", "age": 31, "score": 0.75}, null]
//
// Integral numbers become int64 values, other numbers float64 (so 3.0
// stays a float). An HTTP error, an unreachable service or an answer of
// the wrong length fails the whole batch; chronon reports it as the
// external part's _exception.
//
// Config keys: url (required), method (GET or POST), timeout (a Go
// duration, default 5s), headers (a map of header to value).
package main
