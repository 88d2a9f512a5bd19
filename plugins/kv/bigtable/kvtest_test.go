// SPDX-License-Identifier: Apache-2.0

package bigtable

import (
	"testing"

	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/kvtest"
)

// TestConformance runs the kv.Store conformance suite against stores on one
// emulator, a new Store (client) per subtest.
func TestConformance(t *testing.T) {
	srv := newServer(t)
	kvtest.Run(t, func(t *testing.T) kv.Store {
		return openStore(t, srv.Addr, nil)
	})
}
