// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/batch"
)

const (
	// manifestName is the file name of a table's manifest.
	manifestName = "_chronon.json"
	// manifestFormat is the manifest format version this package writes.
	manifestFormat = 1
	// tmpPrefix starts the names of temporary manifests.
	tmpPrefix = "." + manifestName + "."
)

// manifest is the content of _chronon.json.
type manifest struct {
	FormatVersion int                        `json:"formatVersion"`
	Version       int64                      `json:"version"`
	Table         string                     `json:"table"`
	Schema        jsonSchema                 `json:"schema"`
	Properties    map[string]string          `json:"properties,omitempty"`
	SemanticHash  string                     `json:"semanticHash,omitempty"`
	Partitions    map[string]*partitionEntry `json:"partitions"`

	schema *arrow.Schema // decoded Schema
}

// partitionEntry is one committed partition: its files, relative to the table
// directory, and their total rows and bytes.
type partitionEntry struct {
	Files []string `json:"files"`
	Rows  int64    `json:"rows"`
	Bytes int64    `json:"bytes"`
}

// readManifest reads the manifest of the table in dir, or returns nil, nil
// when the table has none.
func readManifest(dir string) (*manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	m := new(manifest)
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", manifestName, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("bad %s: %w", manifestName, err)
	}
	return m, nil
}

func (m *manifest) validate() error {
	if m.FormatVersion < 1 || m.FormatVersion > manifestFormat {
		return fmt.Errorf("format version %d is not supported (this build reads up to %d)", m.FormatVersion, manifestFormat)
	}
	s, err := schemaFromJSON(m.Schema)
	if err != nil {
		return err
	}
	m.schema = s
	if m.Partitions == nil {
		m.Partitions = map[string]*partitionEntry{}
	}
	for ds, p := range m.Partitions {
		if !batch.ValidDS(ds) || p == nil {
			return fmt.Errorf("bad partition %q", ds)
		}
		for _, f := range p.Files {
			if !validDataPath(ds, f) {
				return fmt.Errorf("partition %s: bad file path %q", ds, f)
			}
		}
	}
	return nil
}

// validDataPath reports whether rel is a data file path of partition ds
// relative to the table directory: "ds=<ds>/<name>.parquet".
func validDataPath(ds, rel string) bool {
	dir, name := path.Split(rel)
	return dir == partitionDir(ds)+"/" && name != "" && !strings.HasPrefix(name, ".") &&
		strings.HasSuffix(name, ".parquet") && path.Clean(rel) == rel
}

// partitionDir returns the directory name of partition ds.
func partitionDir(ds string) string { return "ds=" + ds }

// writeManifest atomically replaces the manifest of the table in dir: it
// writes a temporary file in dir, fsyncs it, renames it over the manifest and
// fsyncs dir. An error means the manifest was not replaced: once the rename
// happened the commit is visible, so the directory fsync is best effort.
func writeManifest(dir string, m *manifest) (err error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	f, err := os.CreateTemp(dir, tmpPrefix+"*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(b); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err = os.Rename(tmp, filepath.Join(dir, manifestName)); err != nil {
		return err
	}
	_ = syncDir(dir)
	return nil
}

// syncDir fsyncs a directory so that renames into it are durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
