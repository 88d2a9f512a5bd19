// SPDX-License-Identifier: Apache-2.0

package api

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// ResolveConf finds the compiled definition a --conf value names. conf is
// either a path (relative to the working directory, given as cwd, an fs.FS
// of the working directory) to a compiled file, or a name
// ("quickstart.training_set.v1" or "quickstart/training_set.v1") looked up
// under production/<kind>/ of repo. Kinds limits the kinds searched (all
// when empty). It returns the file's content and kind.
func ResolveConf(cwd, repo fs.FS, conf string, kinds ...Kind) ([]byte, Kind, error) {
	if len(kinds) == 0 {
		kinds = Kinds
	}
	clean := path.Clean(strings.TrimPrefix(strings.ReplaceAll(conf, "\\", "/"), "./"))
	if data, err := fs.ReadFile(cwd, clean); err == nil {
		kind, ok := KindOfPath(clean)
		if !ok {
			return nil, "", fmt.Errorf("conf %s: cannot tell its kind: compiled files live under production/{%s}/", conf, kindList(kinds))
		}
		if !hasKind(kinds, kind) {
			return nil, "", fmt.Errorf("conf %s is a %s, want one of %s", conf, kind, kindList(kinds))
		}
		return data, kind, nil
	} else if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrInvalid) {
		return nil, "", fmt.Errorf("read conf %s: %w", conf, err)
	}
	rel := strings.TrimPrefix(clean, "production/")
	if !strings.Contains(rel, "/") {
		rel = NameToFilePath(rel)
	}
	for _, k := range kinds {
		rel := strings.TrimPrefix(rel, string(k)+"/")
		data, err := fs.ReadFile(repo, path.Join("production", string(k), rel))
		if err == nil {
			return data, k, nil
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrInvalid) {
			return nil, "", fmt.Errorf("read conf %s: %w", conf, err)
		}
	}
	return nil, "", fmt.Errorf("conf %q: no such file, and no definition of that name under production/{%s}/ of the repo (run chronon compile?)", conf, kindList(kinds))
}

func hasKind(kinds []Kind, k Kind) bool {
	for _, x := range kinds {
		if x == k {
			return true
		}
	}
	return false
}

func kindList(kinds []Kind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ",")
}
