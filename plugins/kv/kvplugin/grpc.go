// SPDX-License-Identifier: Apache-2.0

package kvplugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/chronon-go/chronon/plugins/internal/pluginwire"
	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/kvpb"
)

// closeTimeout bounds the plugin's Close, which kv.Store gives no context.
const closeTimeout = 30 * time.Second

// sentinels are the kind's errors that travel as gRPC codes.
func sentinels() []pluginwire.Sentinel {
	return []pluginwire.Sentinel{{Err: kv.ErrNoDataset, Code: codes.NotFound}}
}

// grpcClient is the host's kv.Store over one plugin connection. It only
// translates types and errors.
type grpcClient struct {
	c kvpb.KVClient
}

var _ kv.Store = (*grpcClient)(nil)

func (g *grpcClient) CreateDataset(ctx context.Context, dataset string) error {
	_, err := g.c.CreateDataset(ctx, &kvpb.CreateDatasetRequest{Dataset: dataset})
	return pluginwire.FromStatus(err, sentinels()...)
}

func (g *grpcClient) MultiGet(ctx context.Context, reqs []kv.GetRequest) ([]kv.GetResult, error) {
	in := &kvpb.MultiGetRequest{Requests: make([]*kvpb.GetRequest, len(reqs))}
	for i, r := range reqs {
		in.Requests[i] = &kvpb.GetRequest{Dataset: r.Dataset, Key: r.Key, AfterMillis: r.AfterMillis}
	}
	resp, err := g.c.MultiGet(ctx, in)
	if err != nil {
		return nil, pluginwire.FromStatus(err, sentinels()...)
	}
	if len(resp.GetResults()) != len(reqs) {
		return nil, fmt.Errorf("plugin answered %d requests with %d results", len(reqs), len(resp.GetResults()))
	}
	out := make([]kv.GetResult, len(reqs))
	for i, r := range resp.GetResults() {
		if e := r.GetError(); e != nil {
			out[i].Err = fromError(e)
			continue
		}
		vals := r.GetValues()
		if len(vals) == 0 {
			continue
		}
		// The wire leaves out the key of each value: it is the request's.
		// One copy per value, cut from one allocation, so the caller owns
		// what it gets and the request's key stays its own.
		key := reqs[i].Key
		keys := make([]byte, len(key)*len(vals))
		out[i].Values = make([]kv.Entry, len(vals))
		for j, v := range vals {
			k := keys[j*len(key) : (j+1)*len(key) : (j+1)*len(key)]
			copy(k, key)
			out[i].Values[j] = kv.Entry{Key: k, Value: v.GetValue(), TsMillis: v.GetTsMillis()}
		}
	}
	return out, nil
}

func (g *grpcClient) MultiPut(ctx context.Context, dataset string, entries []kv.Entry) error {
	_, err := g.c.MultiPut(ctx, putRequest(dataset, entries))
	return pluginwire.FromStatus(err, sentinels()...)
}

func (g *grpcClient) BulkLoad(ctx context.Context, dataset string, entries []kv.Entry) error {
	_, err := g.c.BulkLoad(ctx, putRequest(dataset, entries))
	return pluginwire.FromStatus(err, sentinels()...)
}

func (g *grpcClient) Expire(ctx context.Context, dataset string, beforeMillis int64, keepLatest bool) (int64, error) {
	resp, err := g.c.Expire(ctx, &kvpb.ExpireRequest{Dataset: dataset, BeforeMillis: beforeMillis, KeepLatest: keepLatest})
	if err != nil {
		return 0, pluginwire.FromStatus(err, sentinels()...)
	}
	return resp.GetDeleted(), nil
}

// Close closes the plugin's store; the host stops the process after.
func (g *grpcClient) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	_, err := g.c.Close(ctx, &kvpb.CloseRequest{})
	return pluginwire.FromStatus(err, sentinels()...)
}

// putRequest builds the request of MultiPut and BulkLoad. It refers to
// the caller's slices, which the call marshals before it returns.
func putRequest(dataset string, entries []kv.Entry) *kvpb.PutRequest {
	pes := make([]kvpb.Entry, len(entries))
	req := &kvpb.PutRequest{Dataset: dataset, Entries: make([]*kvpb.Entry, len(entries))}
	for i, e := range entries {
		pes[i].Key, pes[i].Value, pes[i].TsMillis = e.Key, e.Value, e.TsMillis
		req.Entries[i] = &pes[i]
	}
	return req
}

// grpcServer is the plugin's gRPC service over Impl. It only translates
// types and errors.
type grpcServer struct {
	kvpb.UnimplementedKVServer
	impl kv.Store
}

func (s *grpcServer) CreateDataset(ctx context.Context, req *kvpb.CreateDatasetRequest) (*kvpb.CreateDatasetResponse, error) {
	if err := s.impl.CreateDataset(ctx, req.GetDataset()); err != nil {
		return nil, pluginwire.ToStatus(err, sentinels()...)
	}
	return &kvpb.CreateDatasetResponse{}, nil
}

func (s *grpcServer) MultiGet(ctx context.Context, req *kvpb.MultiGetRequest) (*kvpb.MultiGetResponse, error) {
	reqs := make([]kv.GetRequest, len(req.GetRequests()))
	for i, r := range req.GetRequests() {
		reqs[i] = kv.GetRequest{Dataset: r.GetDataset(), Key: r.GetKey(), AfterMillis: r.GetAfterMillis()}
	}
	res, err := s.impl.MultiGet(ctx, reqs)
	if err != nil {
		return nil, pluginwire.ToStatus(err, sentinels()...)
	}
	if len(res) != len(reqs) {
		return nil, pluginwire.ToStatus(fmt.Errorf("kvplugin: the store answered %d requests with %d results", len(reqs), len(res)))
	}
	n := 0
	for _, r := range res {
		n += len(r.Values)
	}
	vals := make([]kvpb.Value, n) // one allocation for every value
	next := 0
	out := &kvpb.MultiGetResponse{Results: make([]*kvpb.GetResult, len(res))}
	results := make([]kvpb.GetResult, len(res))
	for i, r := range res {
		out.Results[i] = &results[i]
		if r.Err != nil {
			results[i].Error = toError(r.Err)
			continue
		}
		results[i].Values = make([]*kvpb.Value, len(r.Values))
		for j, e := range r.Values {
			v := &vals[next]
			next++
			v.Value, v.TsMillis = e.Value, e.TsMillis
			results[i].Values[j] = v
		}
	}
	return out, nil
}

func (s *grpcServer) MultiPut(ctx context.Context, req *kvpb.PutRequest) (*kvpb.PutResponse, error) {
	if err := s.impl.MultiPut(ctx, req.GetDataset(), entries(req)); err != nil {
		return nil, pluginwire.ToStatus(err, sentinels()...)
	}
	return &kvpb.PutResponse{}, nil
}

func (s *grpcServer) BulkLoad(ctx context.Context, req *kvpb.PutRequest) (*kvpb.PutResponse, error) {
	if err := s.impl.BulkLoad(ctx, req.GetDataset(), entries(req)); err != nil {
		return nil, pluginwire.ToStatus(err, sentinels()...)
	}
	return &kvpb.PutResponse{}, nil
}

func (s *grpcServer) Expire(ctx context.Context, req *kvpb.ExpireRequest) (*kvpb.ExpireResponse, error) {
	n, err := s.impl.Expire(ctx, req.GetDataset(), req.GetBeforeMillis(), req.GetKeepLatest())
	if err != nil {
		return nil, pluginwire.ToStatus(err, sentinels()...)
	}
	return &kvpb.ExpireResponse{Deleted: n}, nil
}

func (s *grpcServer) Close(context.Context, *kvpb.CloseRequest) (*kvpb.CloseResponse, error) {
	if err := s.impl.Close(); err != nil {
		return nil, pluginwire.ToStatus(err, sentinels()...)
	}
	return &kvpb.CloseResponse{}, nil
}

// entries converts the entries of a put request.
func entries(req *kvpb.PutRequest) []kv.Entry {
	es := make([]kv.Entry, len(req.GetEntries()))
	for i, e := range req.GetEntries() {
		es[i] = kv.Entry{Key: e.GetKey(), Value: e.GetValue(), TsMillis: e.GetTsMillis()}
	}
	return es
}

// toError encodes one request's error, with the sentinel it wraps.
func toError(err error) *kvpb.Error {
	kind := kvpb.ErrorKind_ERROR_KIND_UNSPECIFIED
	switch {
	case errors.Is(err, kv.ErrNoDataset):
		kind = kvpb.ErrorKind_ERROR_KIND_NO_DATASET
	case errors.Is(err, context.Canceled):
		kind = kvpb.ErrorKind_ERROR_KIND_CANCELED
	case errors.Is(err, context.DeadlineExceeded):
		kind = kvpb.ErrorKind_ERROR_KIND_DEADLINE_EXCEEDED
	}
	return &kvpb.Error{Kind: kind, Message: err.Error()}
}

// fromError decodes one request's error.
func fromError(e *kvpb.Error) error {
	var sentinel error
	switch e.GetKind() {
	case kvpb.ErrorKind_ERROR_KIND_NO_DATASET:
		sentinel = kv.ErrNoDataset
	case kvpb.ErrorKind_ERROR_KIND_CANCELED:
		sentinel = context.Canceled
	case kvpb.ErrorKind_ERROR_KIND_DEADLINE_EXCEEDED:
		sentinel = context.DeadlineExceeded
	}
	return pluginwire.Remote(e.GetMessage(), sentinel)
}
