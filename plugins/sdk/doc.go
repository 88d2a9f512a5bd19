// SPDX-License-Identifier: Apache-2.0

// Package sdk is what a chronon plugin's main needs: ServeKV or
// ServeExternal to serve an implementation of kv.Store or
// external.Handler, Config or DecodeConfig to read the config chronon.yaml
// gives the plugin, and Logger to log through chronon's logger.
//
// A plugin is a program of its own. chronon starts it (go-plugin over
// gRPC, with mutual TLS), passes its config in the environment, calls it
// from many goroutines, restarts it if it crashes, and stops it when done;
// a plugin whose chronon process dies exits too. Its stdout belongs to the
// handshake until ServeKV or ServeExternal runs: do not print to it
// before (log instead).
//
// # Example
//
// An external-source handler that looks up a user's tier in a map given
// by the config:
//
//	// Command tiers is a chronon external-source plugin: it answers
//	// {"user_id": ...} with {"tier": ..., "known": ...} from its config.
//	package main
//
//	import (
//		"context"
//		"fmt"
//		"os"
//
//		"github.com/chronon-go/chronon/plugins/external"
//		"github.com/chronon-go/chronon/plugins/sdk"
//	)
//
//	type config struct {
//		Tiers   map[string]string `json:"tiers"`
//		Default string            `json:"default"`
//	}
//
//	type handler struct{ cfg config }
//
//	func (h *handler) Fetch(ctx context.Context, reqs []external.Request) ([]external.Result, error) {
//		out := make([]external.Result, len(reqs))
//		for i, r := range reqs {
//			id, ok := r.Keys["user_id"]
//			if !ok {
//				out[i].Err = fmt.Errorf("tiers: request has no user_id")
//				continue
//			}
//			tier, known := h.cfg.Tiers[fmt.Sprint(id)]
//			if !known {
//				tier = h.cfg.Default
//			}
//			out[i].Values = map[string]any{"tier": tier, "known": known}
//		}
//		return out, nil
//	}
//
//	func (h *handler) Close() error { return nil }
//
//	func main() {
//		log := sdk.Logger()
//		h := &handler{cfg: config{Default: "basic"}}
//		if err := sdk.DecodeConfig(&h.cfg); err != nil {
//			log.Error("bad config", "error", err)
//			os.Exit(1)
//		}
//		log.Info("serving", "tiers", len(h.cfg.Tiers))
//		sdk.ServeExternal(h)
//	}
//
// Build it with "go build -o tiers ." and name it in chronon.yaml:
//
//	external_sources:
//	  user_tier:
//	    plugin: /opt/chronon/plugins/tiers
//	    config: {default: basic, tiers: {"5": gold, "7": silver}}
//
// A KV store plugin is the same with a kv.Store and sdk.ServeKV; run the
// conformance tests of plugins/kv/kvtest against the store first.
//
// # Values
//
// Keys arrive as JSON-like values: strings, int64 for integers, float64
// for other numbers, bool, nil, []any and map[string]any; return values
// of the same types. int64 and float64 stay distinct across the wire
// (package extplugin describes the encoding).
package sdk
