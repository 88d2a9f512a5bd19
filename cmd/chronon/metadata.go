// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"time"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/api"
	"github.com/chronon-go/chronon/runners/metadata"
)

func newMetadataUploadCmd(a *app) *cobra.Command {
	var confs []string
	cmd := &cobra.Command{
		Use:   "metadata-upload [--conf NAME]...",
		Short: "Store join and group-by definitions in the KV store's metadata dataset for the fetcher",
		Long: `Metadata-upload writes the compiled definitions named by --conf (a join brings
its group-bys along), or without --conf every join and group-by under
<repo>/production/, to the KV store's CHRONON_METADATA dataset under keys
such as joins/quickstart/training_set.v2, so the fetcher needs no files.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var defs []any
			if len(confs) == 0 {
				all, err := a.compiledDefinitions()
				if err != nil {
					return err
				}
				defs = all
			}
			for _, c := range confs {
				def, err := a.loadConf(c, api.KindJoin, api.KindGroupBy)
				if err != nil {
					return err
				}
				defs = append(defs, def)
			}
			store, err := a.openKV(cmd.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			keys, err := metadata.Upload(cmd.Context(), store, defs, time.Now().UnixMilli())
			if err != nil {
				return err
			}
			for _, k := range keys {
				fmt.Fprintln(cmd.OutOrStdout(), k)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "uploaded %d definitions to %s\n", len(keys), api.MetadataDataset)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&confs, "conf", nil, "compiled join or group-by: a path or a name (repeatable; default: all)")
	return cmd
}

// compiledDefinitions reads every join and group-by under
// <repo>/production/.
func (a *app) compiledDefinitions() ([]any, error) {
	repo := os.DirFS(a.cfg.Repo)
	var defs []any
	for _, kind := range []api.Kind{api.KindJoin, api.KindGroupBy} {
		root := path.Join("production", string(kind))
		err := fs.WalkDir(repo, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(repo, p)
			if err != nil {
				return err
			}
			def, err := api.Parse(kind, data)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			defs = append(defs, def)
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read compiled definitions: %w (run chronon compile)", err)
		}
	}
	if len(defs) == 0 {
		return nil, fmt.Errorf("no compiled joins or group-bys under %s (run chronon compile)", path.Join(a.cfg.Repo, "production"))
	}
	return defs, nil
}
