// SPDX-License-Identifier: Apache-2.0

package pluginwire

import (
	"context"
	"errors"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// GRPCAdapter is the go-plugin adapter of one plugin kind with Go
// interface T over gRPC. Impl is set only in the plugin process; RegisterServer
// attaches the kind's server shim around it, and NewClient wraps the host's
// connection in the kind's client shim.
type GRPCAdapter[T any] struct {
	plugin.NetRPCUnsupportedPlugin
	Impl           T
	RegisterServer func(*grpc.Server, T)
	NewClient      func(*grpc.ClientConn) T
}

var _ plugin.GRPCPlugin = (*GRPCAdapter[any])(nil)

// GRPCServer registers the server shim of Impl.
func (a *GRPCAdapter[T]) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if any(a.Impl) == nil {
		return errors.New("pluginwire: the plugin's implementation is nil")
	}
	a.RegisterServer(s, a.Impl)
	return nil
}

// GRPCClient returns the client shim.
func (a *GRPCAdapter[T]) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return a.NewClient(cc), nil
}
