// SPDX-License-Identifier: Apache-2.0

//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package blob

import (
	"context"
	"errors"
	"fmt"
	"runtime"
)

type fileLock struct{}

func lockFile(context.Context, string) (*fileLock, error) {
	return nil, fmt.Errorf("file locking on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func (*fileLock) unlock() error { return nil }
