// SPDX-License-Identifier: Apache-2.0

package pubsubdev

import (
	"context"
	"fmt"
	"net"
	"sync"

	"cloud.google.com/go/pubsub/v2/pstest"
)

// DefaultAddr is where the emulator listens by default: the port of
// gcloud's Pub/Sub emulator, on loopback only.
const DefaultAddr = "127.0.0.1:8085"

// Emulator is a running in-process Pub/Sub fake.
type Emulator struct {
	// Addr is the address it listens on (the port resolved when addr had
	// port 0).
	Addr string

	srv     *pstest.Server
	done    chan struct{}
	once    sync.Once
	stopCtx func() bool
}

// Serve starts a Pub/Sub emulator listening on addr (DefaultAddr when
// empty) and returns once it accepts connections. It serves until ctx is
// done or Close is called; Done is closed then.
func Serve(ctx context.Context, addr string) (e *Emulator, err error) {
	if addr == "" {
		addr = DefaultAddr
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("pubsub emulator address %q: %w", addr, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// pstest panics when it cannot listen (a port in use is the usual
	// case); report that as an error.
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("pubsub emulator on %s: %v", addr, r)
		}
	}()
	srv := pstest.NewServerWithAddress(addr)
	e = &Emulator{Addr: srv.Addr, srv: srv, done: make(chan struct{})}
	e.stopCtx = context.AfterFunc(ctx, func() { _ = e.Close() })
	return e, nil
}

// Host is the address clients dial, the value for PUBSUB_EMULATOR_HOST:
// Addr with an unspecified host (":8085", "0.0.0.0:8085") made loopback.
func (e *Emulator) Host() string {
	host, port, err := net.SplitHostPort(e.Addr)
	if err != nil {
		return e.Addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// Server is the underlying fake, for tests that inspect what was published
// (Server().Messages()).
func (e *Emulator) Server() *pstest.Server { return e.srv }

// Done is closed once the emulator has stopped.
func (e *Emulator) Done() <-chan struct{} { return e.done }

// Close stops the emulator. It is safe to call more than once.
func (e *Emulator) Close() error {
	var err error
	e.once.Do(func() {
		e.stopCtx()
		err = e.srv.Close()
		close(e.done)
	})
	if err != nil {
		return fmt.Errorf("stop pubsub emulator: %w", err)
	}
	return nil
}
