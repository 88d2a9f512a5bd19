// SPDX-License-Identifier: Apache-2.0

package api

import "strings"

// MetadataKey is the key a definition is stored under in the metadata
// dataset (MetadataDataset): its kind and its name with the first "."
// turned into "/", as Chronon's MetadataStore does
// ("joins/quickstart/training_set.v2").
func MetadataKey(kind Kind, name string) string {
	return string(kind) + "/" + strings.Replace(name, ".", "/", 1)
}
