// SPDX-License-Identifier: Apache-2.0

package parquet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/chronon-go/chronon/core/batch"
	"github.com/chronon-go/chronon/plugins/warehouse/blob"
)

const (
	// manifestName is the file name of a table's manifest.
	manifestName = "_chronon.json"
	// manifestFormat is the manifest format version this package writes.
	manifestFormat = 1
	// tmpPrefix starts the names of temporary manifests (local file system
	// only: see blob.Store.WriteIf).
	tmpPrefix = "." + manifestName + "."
)

// manifest is the content of _chronon.json.
type manifest struct {
	FormatVersion int                        `json:"formatVersion"`
	Version       int64                      `json:"version"`
	Table         string                     `json:"table"`
	Schema        batch.JSONSchema           `json:"schema"`
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

// readManifest reads the manifest of the table in directory dir of st and
// its version, or returns nil, blob.Absent, nil when the table has none.
func readManifest(ctx context.Context, st blob.Store, dir string) (*manifest, blob.Version, error) {
	b, ver, err := st.Read(ctx, dir+"/"+manifestName)
	if errors.Is(err, blob.ErrNotExist) {
		return nil, blob.Absent, nil
	}
	if err != nil {
		return nil, blob.Absent, err
	}
	m := new(manifest)
	if err := json.Unmarshal(b, m); err != nil {
		return nil, blob.Absent, fmt.Errorf("decode %s: %w", manifestName, err)
	}
	if err := m.validate(); err != nil {
		return nil, blob.Absent, fmt.Errorf("bad %s: %w", manifestName, err)
	}
	return m, ver, nil
}

func (m *manifest) validate() error {
	if m.FormatVersion < 1 || m.FormatVersion > manifestFormat {
		return fmt.Errorf("format version %d is not supported (this build reads up to %d)", m.FormatVersion, manifestFormat)
	}
	s, err := batch.SchemaFromJSON(m.Schema)
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

// writeManifest replaces the manifest of the table in directory dir of st
// with m if it is still at version ver (blob.Absent: if there is none),
// atomically; otherwise it fails with a *blob.ConflictError. On the local
// file system the manifest is written aside, fsynced and renamed, and the
// directory fsynced.
func writeManifest(ctx context.Context, st blob.Store, dir string, m *manifest, ver blob.Version) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = st.WriteIf(ctx, dir+"/"+manifestName, b, ver)
	return err
}
