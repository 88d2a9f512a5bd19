// SPDX-License-Identifier: Apache-2.0

package pluginwire

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestStatusRoundTrip(t *testing.T) {
	errMine := errors.New("mine: sentinel")
	sentinels := []Sentinel{{Err: errMine, Code: codes.NotFound}}
	tests := []struct {
		name string
		err  error
		code codes.Code
		is   error
	}{
		{"sentinel", fmt.Errorf("store: op X: %w", errMine), codes.NotFound, errMine},
		{"canceled", fmt.Errorf("op: %w", context.Canceled), codes.Canceled, context.Canceled},
		{"deadline", fmt.Errorf("op: %w", context.DeadlineExceeded), codes.DeadlineExceeded, context.DeadlineExceeded},
		{"plain", errors.New("disk full"), codes.Unknown, nil},
		// A backend's Unavailable must not read as "the plugin is down".
		{"backend unavailable", fmt.Errorf("bigtable: %w", status.Error(codes.Unavailable, "no backend")), codes.Unknown, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := ToStatus(tc.err, sentinels...)
			if got := status.Code(st); got != tc.code {
				t.Errorf("code %v, want %v", got, tc.code)
			}
			back := FromStatus(st, sentinels...)
			if back.Error() != tc.err.Error() {
				t.Errorf("message %q, want %q", back, tc.err)
			}
			if tc.is != nil && !errors.Is(back, tc.is) {
				t.Errorf("%v does not wrap %v", back, tc.is)
			}
		})
	}
	if ToStatus(nil) != nil || FromStatus(nil) != nil {
		t.Error("nil errors must stay nil")
	}
	transport := status.Error(codes.Unavailable, "connection reset")
	if got := FromStatus(transport, sentinels...); got != transport {
		t.Errorf("a transport error changed: %v", got)
	}
}

// TestFromStatusWrapped: an error that wraps a status (the host's
// ErrUnavailable around a cut call) is not taken for the plugin's.
func TestFromStatusWrapped(t *testing.T) {
	cut := status.Error(codes.Canceled, "grpc: the client connection is closing")
	wrapped := fmt.Errorf("plugin gone: %w", cut)
	if got := FromStatus(wrapped); got != wrapped {
		t.Errorf("FromStatus(%v) = %v, want it unchanged", wrapped, got)
	}
}
