// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/chronon-go/chronon/core/api"
)

func newCompileCmd(a *app) *cobra.Command {
	var repo string
	cmd := &cobra.Command{
		Use:   "compile",
		Short: "Compile YAML definitions into Chronon JSON under <repo>/production/",
		Long: `Compile reads group_bys/, joins/ and staging_queries/ of the repository
(YAML, one file per module) and writes each definition as Chronon's compiled
JSON to production/<kind>/<team>/<name>, with team defaults from teams.json.
Every problem is reported with its file, line and field; nothing is written
unless the whole repository compiles.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if repo == "" {
				repo = a.cfg.Repo
			}
			return compileRepo(cmd, repo)
		},
	}
	cmd.Flags().StringVar(&repo, "repo", "", "definitions repository (default: repo from chronon.yaml, else the working directory)")
	return cmd
}

func compileRepo(cmd *cobra.Command, repo string) error {
	compiled, err := api.CompileRepo(os.DirFS(repo))
	if err != nil {
		return fmt.Errorf("compile %s:\n%w", repo, err)
	}
	files, err := compiled.Files()
	if err != nil {
		return err
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := writeFileAtomic(filepath.Join(repo, filepath.FromSlash(p)), files[p]); err != nil {
			return err
		}
	}
	fmt.Fprintf(cmd.OutOrStdout(), "compiled %d group_bys, %d joins, %d staging_queries into %s\n",
		len(compiled.GroupBys), len(compiled.Joins), len(compiled.StagingQueries), filepath.Join(repo, "production"))
	return nil
}

// writeFileAtomic writes data beside path and renames it into place, so a
// reader never sees a half-written file.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}
