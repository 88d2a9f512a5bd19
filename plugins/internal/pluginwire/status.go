// SPDX-License-Identifier: Apache-2.0

package pluginwire

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Sentinel pairs a kind's sentinel error with the gRPC code that carries
// it across the wire (kv.ErrNoDataset and codes.NotFound).
type Sentinel struct {
	Err  error
	Code codes.Code
}

// ToStatus turns the error of a plugin's implementation into the gRPC
// status the server shim returns: the code of the first sentinel err
// wraps (the context's errors always count), codes.Unknown otherwise, and
// err's message verbatim. It never yields codes.Unavailable, which the
// host reads as "the plugin is down", even when the implementation's own
// error is a gRPC Unavailable from a backend it calls.
func ToStatus(err error, sentinels ...Sentinel) error {
	if err == nil {
		return nil
	}
	return status.Error(codeOf(err, sentinels), err.Error())
}

func codeOf(err error, sentinels []Sentinel) codes.Code {
	switch {
	case errors.Is(err, context.Canceled):
		return codes.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		return codes.DeadlineExceeded
	}
	for _, s := range sentinels {
		if errors.Is(err, s.Err) {
			return s.Code
		}
	}
	return codes.Unknown
}

// FromStatus turns the error of a client shim's call back into the
// implementation's error: its message, wrapping the sentinel of its code
// so that errors.Is works on the host. Errors of the transport
// (codes.Unavailable when the plugin is down, codes.ResourceExhausted for
// a message over the size limit, ...) and errors that are no gRPC status
// themselves (the host's own, which may wrap one) are returned as they
// are.
func FromStatus(err error, sentinels ...Sentinel) error {
	if err == nil {
		return nil
	}
	// Only a status the call itself returned came from the plugin: an
	// error that merely wraps one (the host's ErrUnavailable around a
	// broken call) keeps its meaning.
	gs, ok := err.(interface{ GRPCStatus() *status.Status })
	if !ok {
		return err
	}
	st := gs.GRPCStatus()
	switch st.Code() {
	case codes.Canceled:
		return Remote(st.Message(), context.Canceled)
	case codes.DeadlineExceeded:
		return Remote(st.Message(), context.DeadlineExceeded)
	case codes.Unknown:
		return Remote(st.Message(), nil)
	}
	for _, s := range sentinels {
		if st.Code() == s.Code {
			return Remote(st.Message(), s.Err)
		}
	}
	return err
}

// Remote returns an error with the message msg (the plugin's
// err.Error(), so the host does not repeat the sentinel's text) that
// wraps sentinel, which may be nil.
func Remote(msg string, sentinel error) error {
	return &remoteError{msg: msg, sentinel: sentinel}
}

// remoteError is an error that came from a plugin process.
type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }

func (e *remoteError) Unwrap() error { return e.sentinel }
