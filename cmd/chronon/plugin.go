// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/plugins/builtin"
)

func newPluginCmd(_ *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "plugin",
		Short: "Run chronon's built-in plugins as plugin processes",
		// A plugin process gets its config from the host (in
		// CHRONON_PLUGIN_CONFIG), not from chronon.yaml, and must not fail
		// on a chronon.yaml in its working directory: skip the root's
		// setup.
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "serve <builtin>",
		Short: "Serve a built-in as a go-plugin process (started by chronon, not by hand)",
		Long: fmt.Sprintf(`Serve runs the built-in plugin <builtin> (%s) as a go-plugin
process: chronon starts "chronon plugin serve <builtin>" itself to run a
built-in out of process, and passes the built-in's config in the environment
variable CHRONON_PLUGIN_CONFIG (JSON). Config keys: sqlite: path; bigtable:
project, instance, emulator, table, app_profile, skip_create; contextual: none.
Run by hand, it only says that it is a plugin.`, strings.Join(builtin.Names(), ", ")),
		Args:      cobra.ExactArgs(1),
		ValidArgs: builtin.Names(),
		RunE: func(_ *cobra.Command, args []string) error {
			return builtin.Serve(args[0])
		},
	})
	return cmd
}
