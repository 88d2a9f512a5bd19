// SPDX-License-Identifier: Apache-2.0

package bigtable

import (
	"context"
	"testing"

	bt "cloud.google.com/go/bigtable"
	"cloud.google.com/go/bigtable/bttest"
	"google.golang.org/api/option"
)

// newServer starts an in-process emulator that stops when t ends.
func newServer(t *testing.T) *bttest.Server {
	t.Helper()
	srv, err := bttest.NewServer("localhost:0")
	if err != nil {
		t.Fatalf("bttest.NewServer: %v", err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// openStore opens a Store on the emulator at addr, with mod applied to the
// options, and closes it when t ends (a second Close does nothing).
func openStore(t *testing.T, addr string, mod func(o *Options)) *Store {
	t.Helper()
	o := Options{Emulator: addr}
	if mod != nil {
		mod(&o)
	}
	s, err := Open(t.Context(), o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// rawClients returns a data and an admin client on the emulator at addr,
// to look at the table beneath a Store.
func rawClients(t *testing.T, addr string) (*bt.Client, *bt.AdminClient) {
	t.Helper()
	ctx := context.Background()
	dial := func() option.ClientOption {
		conn, err := dialEmulator(addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = conn.Close() })
		return option.WithGRPCConn(conn)
	}
	c, err := bt.NewClientWithConfig(ctx, emulatorProject, emulatorInstance,
		bt.ClientConfig{MetricsProvider: bt.NoopMetricsProvider{}}, dial())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	ac, err := bt.NewAdminClient(ctx, emulatorProject, emulatorInstance, dial())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ac.Close() })
	return c, ac
}
