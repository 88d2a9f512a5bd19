// SPDX-License-Identifier: Apache-2.0

// Package blobtest runs an in-process Google Cloud Storage emulator
// (github.com/fsouza/fake-gcs-server) for tests of code that stores blobs on
// gs:// roots. Import it from tests only.
//
//	func TestOnGCS(t *testing.T) {
//		srv := blobtest.Emulator(t)  // sets STORAGE_EMULATOR_HOST for the test
//		root := srv.NewBucket(t) + "/warehouse"
//		wh, err := parquet.Open(root, nil)
//		...
//	}
package blobtest

import (
	"fmt"
	"io"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// EmulatorEnv is the variable that points GCS clients at an emulator.
const EmulatorEnv = "STORAGE_EMULATOR_HOST"

// Server is a fake GCS server listening on a loopback port.
type Server struct {
	*fakestorage.Server
	// Host is the server's host:port, the value of STORAGE_EMULATOR_HOST.
	Host string
}

// Start starts a server on a free loopback port. Stop it with Stop.
func Start() (*Server, error) {
	srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http",
		Host:   "127.0.0.1",
		// Without a port, the public host matches any port of the loopback
		// address: the client's XML API reads (GET /bucket/object) need it.
		PublicHost: "127.0.0.1",
		Writer:     io.Discard,
	})
	if err != nil {
		return nil, fmt.Errorf("blobtest: start fake GCS: %w", err)
	}
	u, err := url.Parse(srv.URL())
	if err != nil {
		srv.Stop()
		return nil, fmt.Errorf("blobtest: fake GCS URL %q: %w", srv.URL(), err)
	}
	return &Server{Server: srv, Host: u.Host}, nil
}

// Emulator starts a server for the test, sets STORAGE_EMULATOR_HOST to it
// for the test's duration (so the test must not be parallel), and stops it
// when the test ends. Subprocesses the test starts with the environment
// reach the same server.
func Emulator(t testing.TB) *Server {
	t.Helper()
	srv, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	t.Setenv(EmulatorEnv, srv.Host)
	return srv
}

var buckets atomic.Int64

// NewBucket creates a bucket with a fresh name and returns its root URI,
// "gs://<name>".
func (s *Server) NewBucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test-bucket-%d", buckets.Add(1))
	s.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: name})
	return "gs://" + name
}
