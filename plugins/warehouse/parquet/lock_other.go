// SPDX-License-Identifier: Apache-2.0

//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package parquet

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
)

type fileLock struct{}

func lockFile(context.Context, string) (*fileLock, error) {
	return nil, fmt.Errorf("file locking on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func (*fileLock) unlock() error { return nil }

// processAlive assumes every process is alive, so no staging directory is
// ever reclaimed.
func processAlive(int) bool { return true }

// readOnly reports whether err says the file system may not be written to.
func readOnly(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, errors.ErrUnsupported)
}
