// SPDX-License-Identifier: Apache-2.0

package extplugin

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	"github.com/chronon-go/chronon/plugins/external"
	"github.com/chronon-go/chronon/plugins/external/extpb"
	"github.com/chronon-go/chronon/plugins/internal/pluginwire"
	"github.com/chronon-go/chronon/plugins/pluginhost"
)

// Name is the kind's name: the go-plugin dispense key and the value of
// the magic cookie.
const Name = "external"

// ProtocolVersion is the version of the external-source plugin protocol
// (extpb and the value encoding). Bump it on any change to
// external.Handler, external.proto or the encoding that an older peer
// cannot follow.
const ProtocolVersion = 1

// Handshake returns the go-plugin handshake of external-source plugins:
// ProtocolVersion, and the magic cookie CHRONON_PLUGIN=external.
func Handshake() plugin.HandshakeConfig {
	return pluginwire.Handshake(Name, ProtocolVersion)
}

// Kind returns the external-source kind for pluginhost.Start.
func Kind() pluginhost.Kind {
	return pluginhost.Kind{Name: Name, Handshake: Handshake(), Plugin: Plugin(nil)}
}

// Plugin returns the go-plugin adapter of external.Handler over gRPC. impl is
// what the plugin process serves; the host passes nil, and its GRPCClient
// returns a external.Handler that calls the plugin (without restarts: Open adds
// those).
func Plugin(impl external.Handler) *pluginwire.GRPCAdapter[external.Handler] {
	return &pluginwire.GRPCAdapter[external.Handler]{
		Impl: impl,
		RegisterServer: func(s *grpc.Server, impl external.Handler) {
			extpb.RegisterExternalSourceServer(s, &grpcServer{impl: impl})
		},
		NewClient: func(cc *grpc.ClientConn) external.Handler { return &grpcClient{c: extpb.NewExternalSourceClient(cc)} },
	}
}

// Serve serves impl as an external-source plugin; call it from the
// plugin's main. It returns when the host is done with the plugin (the
// host calls impl's Close first). A process the host did not start as an
// external-source plugin prints why and exits with status 1.
func Serve(impl external.Handler) {
	pluginwire.Serve(Handshake(), Plugin(impl))
}

// Open starts the external-source plugin opts describes and returns it as
// an external.Handler. The handler restarts the plugin when it crashes
// (see pluginhost.Host): meanwhile Fetch fails with an error wrapping
// pluginhost.ErrUnavailable that names the plugin. It also implements
// pluginhost.Process. Close calls the plugin's Close, then stops the
// process. ctx bounds the start only.
func Open(ctx context.Context, opts pluginhost.Options) (external.Handler, error) {
	h, err := pluginhost.Start[external.Handler](ctx, Kind(), opts)
	if err != nil {
		return nil, fmt.Errorf("extplugin: %w", err)
	}
	return &handler{h: h}, nil
}

// handler is the external.Handler Open returns: each call goes to the
// plugin's current process.
type handler struct {
	h *pluginhost.Host[external.Handler]
}

var (
	_ external.Handler   = (*handler)(nil)
	_ pluginhost.Process = (*handler)(nil)
)

// PID implements pluginhost.Process.
func (h *handler) PID() int { return h.h.PID() }

// PluginName implements pluginhost.Process.
func (h *handler) PluginName() string { return h.h.PluginName() }

func (h *handler) Fetch(ctx context.Context, reqs []external.Request) ([]external.Result, error) {
	c, err := h.h.Get(ctx)
	if err != nil {
		return nil, h.wrap("Fetch", err)
	}
	res, err := c.Fetch(ctx, reqs)
	return res, h.wrap("Fetch", err)
}

// Close closes the plugin's handler, if the plugin is up, and stops the
// process.
func (h *handler) Close() error { return h.h.Shutdown(external.Handler.Close) }

// wrap adds the operation and, unless the host's error already says it,
// the plugin's name.
func (h *handler) wrap(op string, err error) error { return h.h.Wrap(op, err) }
