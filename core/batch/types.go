// SPDX-License-Identifier: Apache-2.0

package batch

import "github.com/apache/arrow-go/v18/arrow"

// ValueType returns the type of the values of an Arrow type, seen through
// dictionary and run-end encodings and extension types (repeatedly); other
// types are returned as they are.
func ValueType(t arrow.DataType) arrow.DataType {
	for {
		switch tt := t.(type) {
		case *arrow.DictionaryType:
			t = tt.ValueType
		case *arrow.RunEndEncodedType:
			t = tt.Encoded()
		case arrow.ExtensionType:
			t = tt.StorageType()
		default:
			return t
		}
	}
}
