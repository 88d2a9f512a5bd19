// SPDX-License-Identifier: Apache-2.0

// Package kvtest is the conformance suite every kv.Store implementation
// passes. Call Run from a test of the implementation's package:
//
//	func TestConformance(t *testing.T) {
//		kvtest.Run(t, func(t *testing.T) kv.Store {
//			s, err := sqlite.Open(filepath.Join(t.TempDir(), "kv.db"), nil)
//			if err != nil {
//				t.Fatal(err)
//			}
//			return s
//		})
//	}
//
// Run opens one store per subtest and closes it (exactly once) when the
// subtest ends; open registers the cleanup of anything else it creates
// (temporary directories, emulators) with t.Cleanup. Dataset names are
// unique per Run and per subtest (upper-case letters, digits and '_', at
// most 40 bytes), so stores opened on shared storage (one emulator for the
// whole test binary) need no cleaning between subtests.
//
// Beyond the documented contract of kv.Store, the suite expects what a
// caller naturally relies on: every returned Entry carries the requested
// key, an empty value reads back as one entry with an empty Value, an empty
// request list or entry list succeeds, the store keeps no reference to the
// caller's slices and hands out slices the caller may modify, and a call
// made with a cancelled context fails without making the store unusable.
//
// Package kvtest imports "testing"; import it from _test.go files only.
package kvtest
