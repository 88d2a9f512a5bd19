// SPDX-License-Identifier: Apache-2.0

//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package parquet

import (
	"errors"
	"io/fs"
)

// processAlive assumes every process is alive, so no staging directory is
// ever reclaimed.
func processAlive(int) bool { return true }

// readOnly reports whether err says the file system may not be written to.
func readOnly(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, errors.ErrUnsupported)
}
