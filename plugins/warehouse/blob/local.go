// SPDX-License-Identifier: Apache-2.0

package blob

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
)

// localWriteBuffer is the buffer between a local Writer and its file.
const localWriteBuffer = 1 << 20

// localStore is a Store over a local directory.
type localStore struct {
	root string // absolute
}

var (
	_ Store  = (*localStore)(nil)
	_ Locker = (*localStore)(nil)
)

func (s *localStore) Root() string { return s.root }

func (s *localStore) URI(p string) string { return s.path(p) }

func (s *localStore) Close() error { return nil }

// path returns the file path of the object path p.
func (s *localStore) path(p string) string {
	if p == "" {
		return s.root
	}
	return filepath.Join(s.root, filepath.FromSlash(p))
}

// pathErr turns a file system error on object p into a blob error: a
// missing file is ErrNotExist, and an *fs.PathError loses its (duplicate)
// path but keeps its cause for errors.Is.
func (s *localStore) pathErr(op, p string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob: %s %s: %w", op, s.path(p), ErrNotExist)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == s.path(p) {
		err = pe.Err
	}
	return fmt.Errorf("blob: %s %s: %w", op, s.path(p), err)
}

// tempName returns a new temporary file name for the file name base: hidden,
// random and ending in .tmp.
func tempName(base string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "." + base + "." + hex.EncodeToString(b[:]) + ".tmp", nil
}

// createTemp creates a new temporary file next to the file path final.
func createTemp(final string) (*os.File, error) {
	name, err := tempName(filepath.Base(final))
	if err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(filepath.Dir(final), name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

func (s *localStore) Create(ctx context.Context, p string) (Writer, error) {
	if err := checkPath(p); err != nil {
		return nil, fmt.Errorf("blob: create: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("blob: create %s: %w", s.path(p), err)
	}
	final := s.path(p)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, s.pathErr("create", p, err)
	}
	f, err := createTemp(final)
	if err != nil {
		return nil, s.pathErr("create", p, err)
	}
	return &localWriter{s: s, p: p, f: f, bw: bufio.NewWriterSize(f, localWriteBuffer), final: final}, nil
}

// localWriter writes a temporary file that Close fsyncs and renames into
// place.
type localWriter struct {
	s     *localStore
	p     string
	f     *os.File
	bw    *bufio.Writer
	final string
	done  bool
}

func (w *localWriter) Write(b []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("blob: write %s: writer is closed", w.final)
	}
	return w.bw.Write(b)
}

// Close flushes and fsyncs the file and renames it into place. The rename
// is made durable by a later Rename or WriteIf in the same directory, not
// here.
func (w *localWriter) Close() error {
	if w.done {
		return fmt.Errorf("blob: close %s: writer is closed", w.final)
	}
	w.done = true
	tmp := w.f.Name()
	err := w.bw.Flush()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, w.final)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return w.s.pathErr("write", w.p, err)
	}
	return nil
}

func (w *localWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	_ = w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return w.s.pathErr("abort", w.p, err)
	}
	return nil
}

func (s *localStore) Open(ctx context.Context, p string) (Reader, error) {
	if err := checkPath(p); err != nil {
		return nil, fmt.Errorf("blob: open: %w", err)
	}
	f, err := os.Open(s.path(p))
	if err != nil {
		return nil, s.pathErr("open", p, err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, s.pathErr("open", p, err)
	}
	if st.IsDir() {
		_ = f.Close()
		return nil, fmt.Errorf("blob: open %s: is a directory: %w", s.path(p), ErrNotExist)
	}
	return &localReader{File: f, size: st.Size()}, nil
}

// localReader is a Reader over an open file.
type localReader struct {
	*os.File
	size int64
}

func (r *localReader) Size() int64 { return r.size }

// hashVersion is the local Version of content b.
func hashVersion(b []byte) Version {
	sum := sha256.Sum256(b)
	v := Version(binary.BigEndian.Uint64(sum[:8]) >> 1)
	if v == Absent {
		v = 1
	}
	return v
}

func (s *localStore) Read(ctx context.Context, p string) ([]byte, Version, error) {
	if err := checkPath(p); err != nil {
		return nil, Absent, fmt.Errorf("blob: read: %w", err)
	}
	b, err := os.ReadFile(s.path(p))
	if err != nil {
		return nil, Absent, s.pathErr("read", p, err)
	}
	return b, hashVersion(b), nil
}

// lockKey is the context key of a lock held through Lock.
type lockKey struct{ dir string }

// heldLock is the value of a lockKey: the lock, until released.
type heldLock struct{ released atomic.Bool }

func (s *localStore) Lock(ctx context.Context, dir string) (context.Context, func() error, error) {
	if err := checkDir(dir); err != nil {
		return nil, nil, fmt.Errorf("blob: lock: %w", err)
	}
	full := s.path(dir)
	if err := os.MkdirAll(full, 0o755); err != nil {
		return nil, nil, fmt.Errorf("blob: lock %s: %w", full, err)
	}
	l, err := lockFile(ctx, filepath.Join(full, LockFile))
	if err != nil {
		return nil, nil, fmt.Errorf("blob: lock %s: %w", full, err)
	}
	h := new(heldLock)
	unlock := func() error {
		if h.released.Swap(true) {
			return nil
		}
		if err := l.unlock(); err != nil {
			return fmt.Errorf("blob: unlock %s: %w", full, err)
		}
		return nil
	}
	return context.WithValue(ctx, lockKey{full}, h), unlock, nil
}

// holds reports whether ctx carries the unreleased lock of directory dir.
func holds(ctx context.Context, dir string) bool {
	h, ok := ctx.Value(lockKey{dir}).(*heldLock)
	return ok && !h.released.Load()
}

func (s *localStore) WriteIf(ctx context.Context, p string, data []byte, expected Version) (_ Version, err error) {
	if err := checkPath(p); err != nil {
		return Absent, fmt.Errorf("blob: write: %w", err)
	}
	final := s.path(p)
	dir := filepath.Dir(final)
	if !holds(ctx, dir) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return Absent, s.pathErr("write", p, err)
		}
		l, err := lockFile(ctx, filepath.Join(dir, LockFile))
		if err != nil {
			return Absent, fmt.Errorf("blob: write %s: lock: %w", final, err)
		}
		defer func() { _ = l.unlock() }()
	}
	if err := ctx.Err(); err != nil {
		return Absent, fmt.Errorf("blob: write %s: %w", final, err)
	}
	cur, err := os.ReadFile(final)
	current := Absent
	switch {
	case err == nil:
		current = hashVersion(cur)
	case !errors.Is(err, fs.ErrNotExist):
		return Absent, s.pathErr("write", p, err)
	}
	if current != expected {
		return Absent, &ConflictError{Path: p, Expected: expected}
	}
	f, err := createTemp(final)
	if err != nil {
		return Absent, s.pathErr("write", p, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		return Absent, s.pathErr("write", p, err)
	}
	// Once renamed the write is visible: the directory fsync is best effort.
	_ = syncDir(dir)
	return hashVersion(data), nil
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

func (s *localStore) Stat(ctx context.Context, p string) (Entry, error) {
	if err := checkPath(p); err != nil {
		return Entry{}, fmt.Errorf("blob: stat: %w", err)
	}
	st, err := os.Stat(s.path(p))
	if err != nil {
		return Entry{}, s.pathErr("stat", p, err)
	}
	if st.IsDir() {
		return Entry{}, fmt.Errorf("blob: stat %s: is a directory: %w", s.path(p), ErrNotExist)
	}
	return Entry{Path: p, Size: st.Size(), ModTime: st.ModTime()}, nil
}

// join joins a directory path ("" for the root) and a name.
func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

func (s *localStore) List(ctx context.Context, dir string) ([]Entry, error) {
	if err := checkDir(dir); err != nil {
		return nil, fmt.Errorf("blob: list: %w", err)
	}
	des, err := os.ReadDir(s.path(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, s.pathErr("list", dir, err)
	}
	out := make([]Entry, 0, len(des))
	for _, de := range des {
		e := Entry{Path: join(dir, de.Name()), Dir: de.IsDir()}
		if !e.Dir {
			info, err := de.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // deleted meanwhile
			}
			if err != nil {
				return nil, s.pathErr("list", dir, err)
			}
			e.Size, e.ModTime = info.Size(), info.ModTime()
		}
		out = append(out, e)
	}
	return out, nil
}

func (s *localStore) ListAll(ctx context.Context, dir string) ([]Entry, error) {
	if err := checkDir(dir); err != nil {
		return nil, fmt.Errorf("blob: list: %w", err)
	}
	base := s.path(dir)
	var out []Entry
	err := filepath.WalkDir(base, func(file string, de fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // the directory, or a file, went away
			}
			return err
		}
		if de.IsDir() {
			return nil
		}
		info, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(s.root, file)
		if err != nil {
			return err
		}
		out = append(out, Entry{Path: filepath.ToSlash(rel), Size: info.Size(), ModTime: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("blob: list %s: %w", base, err)
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

func (s *localStore) Delete(ctx context.Context, p string) error {
	if err := checkPath(p); err != nil {
		return fmt.Errorf("blob: delete: %w", err)
	}
	if err := os.Remove(s.path(p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return s.pathErr("delete", p, err)
	}
	return nil
}

func (s *localStore) DeleteAll(ctx context.Context, dir string) error {
	if err := checkPath(dir); err != nil {
		return fmt.Errorf("blob: delete all: %w", err)
	}
	if err := os.RemoveAll(s.path(dir)); err != nil {
		return s.pathErr("delete all", dir, err)
	}
	return nil
}

// Rename renames the file and fsyncs the destination directory, so the move
// is durable when Rename returns.
func (s *localStore) Rename(ctx context.Context, from, to string) error {
	if err := checkPath(from); err != nil {
		return fmt.Errorf("blob: rename: %w", err)
	}
	if err := checkPath(to); err != nil {
		return fmt.Errorf("blob: rename: %w", err)
	}
	dst := s.path(to)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return s.pathErr("rename", to, err)
	}
	if err := os.Rename(s.path(from), dst); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("blob: rename %s: %w", s.path(from), ErrNotExist)
		}
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err
		}
		return fmt.Errorf("blob: rename %s to %s: %w", s.path(from), dst, err)
	}
	if err := syncDir(filepath.Dir(dst)); err != nil {
		return s.pathErr("rename", to, err)
	}
	return nil
}
