// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"

	"github.com/chronon-go/chronon/plugins/external"
)

// openHandlers starts the external-source handlers chronon.yaml names.
func (a *app) openHandlers(ctx context.Context) (map[string]external.Handler, error) {
	out := map[string]external.Handler{}
	for name := range a.cfg.ExternalSources {
		return nil, fmt.Errorf("external_sources.%s: plugin handlers are not wired yet", name)
	}
	return out, nil
}
