// SPDX-License-Identifier: Apache-2.0

package testkit

import (
	"context"
	"testing"

	"cloud.google.com/go/pubsub/v2"

	"github.com/chronon-go/chronon/core/config"
	"github.com/chronon-go/chronon/runners/pubsubdev"
)

// PubSub starts an in-process Pub/Sub emulator (pstest) and returns a
// client of project "local" on it; both stop when t ends.
func PubSub(t testing.TB) *pubsub.Client {
	t.Helper()
	ctx := context.Background()
	emu, err := pubsubdev.Serve(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	client, err := pubsubdev.Connect(ctx, config.PubSub{Project: "local", Emulator: emu.Host()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}
