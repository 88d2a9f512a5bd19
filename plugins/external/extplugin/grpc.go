// SPDX-License-Identifier: Apache-2.0

package extplugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chronon-go/chronon/plugins/external"
	"github.com/chronon-go/chronon/plugins/external/extpb"
	"github.com/chronon-go/chronon/plugins/internal/pluginwire"
)

// closeTimeout bounds the plugin's Close, which external.Handler gives no
// context.
const closeTimeout = 30 * time.Second

// grpcClient is the host's external.Handler over one plugin connection.
// It only translates types and errors.
type grpcClient struct {
	c extpb.ExternalSourceClient
}

var _ external.Handler = (*grpcClient)(nil)

// Fetch sends the requests whose keys encode; a request whose keys do not
// (a NaN) fails alone without reaching the plugin.
func (g *grpcClient) Fetch(ctx context.Context, reqs []external.Request) ([]external.Result, error) {
	out := make([]external.Result, len(reqs))
	msgs := make([]extpb.Request, len(reqs))
	in := &extpb.FetchRequest{Requests: make([]*extpb.Request, 0, len(reqs))}
	sent := make([]int, 0, len(reqs)) // the index in reqs of each request sent
	for i, r := range reqs {
		b, err := pluginwire.MarshalValue(r.Keys)
		if err != nil {
			out[i].Err = fmt.Errorf("extplugin: request keys: %w", err)
			continue
		}
		msgs[i].KeysJson = b
		in.Requests = append(in.Requests, &msgs[i])
		sent = append(sent, i)
	}
	if len(sent) == 0 {
		return out, nil
	}
	resp, err := g.c.Fetch(ctx, in)
	if err != nil {
		return nil, pluginwire.FromStatus(err)
	}
	if len(resp.GetResults()) != len(sent) {
		return nil, fmt.Errorf("plugin answered %d requests with %d results", len(sent), len(resp.GetResults()))
	}
	for k, r := range resp.GetResults() {
		i := sent[k]
		if e := r.GetError(); e != nil {
			out[i].Err = fromError(e)
			continue
		}
		vals, err := pluginwire.UnmarshalObject(r.GetValuesJson())
		if err != nil {
			out[i].Err = fmt.Errorf("extplugin: result values: %w", err)
			continue
		}
		out[i].Values = vals
	}
	return out, nil
}

// Close closes the plugin's handler; the host stops the process after.
func (g *grpcClient) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_, err := g.c.Close(ctx, &extpb.CloseRequest{})
	return pluginwire.FromStatus(err)
}

// grpcServer is the plugin's gRPC service over Impl. It only translates
// types and errors.
type grpcServer struct {
	extpb.UnimplementedExternalSourceServer
	impl external.Handler
}

// Fetch passes the requests whose keys decode to Impl; one whose keys do
// not fails alone.
func (s *grpcServer) Fetch(ctx context.Context, req *extpb.FetchRequest) (*extpb.FetchResponse, error) {
	n := len(req.GetRequests())
	results := make([]extpb.Result, n)
	out := &extpb.FetchResponse{Results: make([]*extpb.Result, n)}
	reqs := make([]external.Request, 0, n)
	passed := make([]int, 0, n) // the index in req of each request passed on
	for i, r := range req.GetRequests() {
		out.Results[i] = &results[i]
		keys, err := pluginwire.UnmarshalObject(r.GetKeysJson())
		if err != nil {
			results[i].Error = toError(fmt.Errorf("extplugin: request keys: %w", err))
			continue
		}
		reqs = append(reqs, external.Request{Keys: keys})
		passed = append(passed, i)
	}
	if len(reqs) == 0 {
		return out, nil
	}
	res, err := s.impl.Fetch(ctx, reqs)
	if err != nil {
		return nil, pluginwire.ToStatus(err)
	}
	if len(res) != len(reqs) {
		return nil, pluginwire.ToStatus(fmt.Errorf("extplugin: the handler answered %d requests with %d results", len(reqs), len(res)))
	}
	for k, r := range res {
		i := passed[k]
		if r.Err != nil {
			results[i].Error = toError(r.Err)
			continue
		}
		if r.Values == nil {
			continue
		}
		b, err := pluginwire.MarshalValue(r.Values)
		if err != nil {
			results[i].Error = toError(fmt.Errorf("extplugin: result values: %w", err))
			continue
		}
		results[i].ValuesJson = b
	}
	return out, nil
}

func (s *grpcServer) Close(context.Context, *extpb.CloseRequest) (*extpb.CloseResponse, error) {
	if err := s.impl.Close(); err != nil {
		return nil, pluginwire.ToStatus(err)
	}
	return &extpb.CloseResponse{}, nil
}

// toError encodes one request's error, with the sentinel it wraps.
func toError(err error) *extpb.Error {
	kind := extpb.ErrorKind_ERROR_KIND_UNSPECIFIED
	switch {
	case errors.Is(err, context.Canceled):
		kind = extpb.ErrorKind_ERROR_KIND_CANCELED
	case errors.Is(err, context.DeadlineExceeded):
		kind = extpb.ErrorKind_ERROR_KIND_DEADLINE_EXCEEDED
	}
	return &extpb.Error{Kind: kind, Message: err.Error()}
}

// fromError decodes one request's error.
func fromError(e *extpb.Error) error {
	var sentinel error
	switch e.GetKind() {
	case extpb.ErrorKind_ERROR_KIND_CANCELED:
		sentinel = context.Canceled
	case extpb.ErrorKind_ERROR_KIND_DEADLINE_EXCEEDED:
		sentinel = context.DeadlineExceeded
	}
	return pluginwire.Remote(e.GetMessage(), sentinel)
}
