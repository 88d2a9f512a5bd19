// SPDX-License-Identifier: Apache-2.0

package bigtable

import (
	"errors"
	"fmt"
	"os"

	"google.golang.org/api/option"
)

// EmulatorEnv is the environment variable that names a Bigtable emulator
// (host:port), as the gcloud tools and the Google client library use it.
const EmulatorEnv = "BIGTABLE_EMULATOR_HOST"

// DefaultTable is the default Options.Table.
const DefaultTable = "chronon"

// emulatorProject and emulatorInstance fill in Options.Project and
// Options.Instance against an emulator, which ignores them.
const (
	emulatorProject  = "local"
	emulatorInstance = "local"
)

// Defaults of the Options.Experimental knobs.
const (
	// DefaultBulkMutations is the default Experimental.BulkMutations:
	// Bigtable's limit of mutations in one MutateRows request.
	DefaultBulkMutations = 100_000
	// DefaultBulkBytes is the default Experimental.BulkBytes, well under
	// Bigtable's 256 MiB request limit.
	DefaultBulkBytes = 64 << 20
	// DefaultExpirePageRows is the default Experimental.ExpirePageRows.
	DefaultExpirePageRows = 10_000
)

// Options configure a Store. A zero field means the default.
type Options struct {
	// Project is the Google Cloud project of the Bigtable instance. It is
	// required, except against an emulator where the default value is
	// "local".
	Project string
	// Instance is the Bigtable instance. It is required, except against an
	// emulator where the default value is "local".
	Instance string
	// Emulator is the address (host:port) of a Bigtable emulator, such as
	// `gcloud beta emulators bigtable start` or bttest.NewServer. The
	// connection is plaintext and unauthenticated. The default value is
	// $BIGTABLE_EMULATOR_HOST; when both are empty Open connects to the
	// Bigtable service with the application default credentials (or
	// ClientOptions).
	Emulator string
	// Table is the Bigtable table that holds every dataset. The default
	// value is DefaultTable ("chronon").
	Table string
	// AppProfile is the Bigtable app profile of data requests (routing,
	// priority). The default value is "" (the instance's default profile).
	AppProfile string
	// SkipCreate makes Open assume that Table and its column families
	// exist (created by Terraform or cbt, see the package documentation),
	// so the process needs no Bigtable admin permission; a server that only
	// reads should set it. The default value is false: Open creates the
	// table and the families that are missing.
	SkipCreate bool
	// ClientOptions are passed to the Bigtable data and admin clients
	// (credentials, endpoint, gRPC settings). The default value is none.
	ClientOptions []option.ClientOption

	// Experimental holds knobs that may change or disappear.
	Experimental struct {
		// BulkMutations caps the mutations (one per written entry, one
		// per row of an Expire) of one MutateRows request; larger writes
		// are sent as several requests, in order. The default value is
		// DefaultBulkMutations (100,000, Bigtable's limit).
		BulkMutations int
		// BulkBytes caps the approximate size of one MutateRows request
		// (row keys and values). The default value is DefaultBulkBytes
		// (64 MiB).
		BulkBytes int
		// ExpirePageRows is how many rows Expire reads before it deletes
		// their old cells and reads on. The default value is
		// DefaultExpirePageRows (10,000).
		ExpirePageRows int
	}
}

// EnsureDefaults fills every zero field of o with its default and returns
// o; a nil o is taken as &Options{}. It reads $BIGTABLE_EMULATOR_HOST when
// Emulator is empty.
func (o *Options) EnsureDefaults() *Options {
	if o == nil {
		o = &Options{}
	}
	if o.Emulator == "" {
		o.Emulator = os.Getenv(EmulatorEnv)
	}
	if o.Emulator != "" {
		if o.Project == "" {
			o.Project = emulatorProject
		}
		if o.Instance == "" {
			o.Instance = emulatorInstance
		}
	}
	if o.Table == "" {
		o.Table = DefaultTable
	}
	if o.Experimental.BulkMutations == 0 {
		o.Experimental.BulkMutations = DefaultBulkMutations
	}
	if o.Experimental.BulkBytes == 0 {
		o.Experimental.BulkBytes = DefaultBulkBytes
	}
	if o.Experimental.ExpirePageRows == 0 {
		o.Experimental.ExpirePageRows = DefaultExpirePageRows
	}
	return o
}

// validate checks o after EnsureDefaults.
func (o *Options) validate() error {
	switch {
	case o.Project == "":
		return errors.New("options: Project is required (or an Emulator)")
	case o.Instance == "":
		return errors.New("options: Instance is required (or an Emulator)")
	case o.Experimental.BulkMutations < 0 || o.Experimental.BulkMutations > DefaultBulkMutations:
		return fmt.Errorf("options: Experimental.BulkMutations %d is outside [1, %d]",
			o.Experimental.BulkMutations, DefaultBulkMutations)
	case o.Experimental.BulkBytes < 0:
		return fmt.Errorf("options: Experimental.BulkBytes %d is negative", o.Experimental.BulkBytes)
	case o.Experimental.ExpirePageRows < 0:
		return fmt.Errorf("options: Experimental.ExpirePageRows %d is negative", o.Experimental.ExpirePageRows)
	}
	return nil
}
