// SPDX-License-Identifier: Apache-2.0

// Package external defines the contract of external-source handlers: the
// services a join's onlineExternalParts call at fetch time (a fraud score,
// a user profile service). A handler answers a batch of key maps with value
// maps. Handlers are registered by name (the external source's metadata
// name) in chronon.yaml; they run in process or as go-plugin processes.
//
// The contextual source (Chronon's ContextualHandler) is built in: it echoes
// request keys back as values, so request-time context (a request id, a cart
// total) flows into derivations and logs.
package external
