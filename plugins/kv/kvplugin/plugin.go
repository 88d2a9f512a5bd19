// SPDX-License-Identifier: Apache-2.0

package kvplugin

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/chronon-go/chronon/plugins/internal/pluginwire"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/kvpb"
	"github.com/chronon-go/chronon/plugins/pluginhost"
)

// Name is the kind's name: the go-plugin dispense key and the value of
// the magic cookie.
const Name = "kv"

// ProtocolVersion is the version of the KV plugin protocol (kvpb). Bump
// it on any change to kv.Store or kv.proto that an older peer cannot
// follow: go-plugin then refuses the pair with a clear error instead of
// failing calls.
const ProtocolVersion = 1

// Handshake returns the go-plugin handshake of KV plugins:
// ProtocolVersion, and the magic cookie CHRONON_PLUGIN=kv.
func Handshake() plugin.HandshakeConfig {
	return pluginwire.Handshake(Name, ProtocolVersion)
}

// Kind returns the KV kind for pluginhost.Start.
func Kind() pluginhost.Kind {
	return pluginhost.Kind{Name: Name, Handshake: Handshake(), Plugin: Plugin(nil)}
}

// Plugin returns the go-plugin adapter of kv.Store over gRPC. impl is
// what the plugin process serves; the host passes nil, and its GRPCClient
// returns a kv.Store that calls the plugin (without restarts: Open adds
// those).
func Plugin(impl kv.Store) *pluginwire.GRPCAdapter[kv.Store] {
	return &pluginwire.GRPCAdapter[kv.Store]{
		Impl:           impl,
		RegisterServer: func(s *grpc.Server, impl kv.Store) { kvpb.RegisterKVServer(s, &grpcServer{impl: impl}) },
		NewClient:      func(cc *grpc.ClientConn) kv.Store { return &grpcClient{c: kvpb.NewKVClient(cc)} },
	}
}

// Serve serves impl as a KV plugin; call it from the plugin's main. It
// returns when the host is done with the plugin (the host calls impl's
// Close first). A process the host did not start as a KV plugin prints why
// and exits with status 1.
func Serve(impl kv.Store) {
	pluginwire.Serve(Handshake(), Plugin(impl))
}

// Open starts the KV plugin opts describes and returns it as a kv.Store.
// The store restarts the plugin when it crashes (see pluginhost.Host):
// meanwhile its methods fail with an error wrapping
// pluginhost.ErrUnavailable that names the plugin. It also implements
// pluginhost.Process. Close calls the plugin's Close, then stops the
// process. ctx bounds the start only.
func Open(ctx context.Context, opts pluginhost.Options) (kv.Store, error) {
	h, err := pluginhost.Start[kv.Store](ctx, Kind(), opts)
	if err != nil {
		return nil, fmt.Errorf("kvplugin: %w", err)
	}
	return &store{h: h}, nil
}
