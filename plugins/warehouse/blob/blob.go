// SPDX-License-Identifier: Apache-2.0

package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// ErrNotExist is returned (wrapped) when an object does not exist. Use
// errors.Is(err, ErrNotExist); errors.Is(err, fs.ErrNotExist) holds too.
var ErrNotExist error = notExist{}

type notExist struct{}

func (notExist) Error() string        { return "blob: object does not exist" }
func (notExist) Is(target error) bool { return target == fs.ErrNotExist }

// ErrConflict is returned (wrapped in a *ConflictError) by WriteIf when the
// object does not have the expected version any more: another writer changed,
// created or deleted it. Use errors.Is(err, ErrConflict).
var ErrConflict = errors.New("blob: object changed by another writer")

// ConflictError is the error WriteIf returns when the precondition fails.
type ConflictError struct {
	// Path is the object's path relative to the store root.
	Path string
	// Expected is the version WriteIf was given.
	Expected Version
}

// Error describes the conflict.
func (e *ConflictError) Error() string {
	if e.Expected == Absent {
		return fmt.Sprintf("blob: write %s: object exists already: %v", e.Path, ErrConflict)
	}
	return fmt.Sprintf("blob: write %s: object is not at version %d any more: %v", e.Path, int64(e.Expected), ErrConflict)
}

// Unwrap returns ErrConflict.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Version identifies one content of an object, for WriteIf. It is the
// object's generation on GCS and a hash of its content on the local file
// system. Versions are only compared for equality.
type Version int64

// Absent is the Version of an object that does not exist: WriteIf with Absent
// creates the object only if there is none.
const Absent Version = 0

// LockFile is the name of the file the local store flocks in a directory to
// serialize WriteIf calls on the objects of that directory (see Locker).
const LockFile = "_lock"

// Entry describes an object, or a directory in List results.
type Entry struct {
	// Path is relative to the store root, slash-separated.
	Path string
	// Dir is true for a directory: a prefix of other paths. Directories have
	// no size or time.
	Dir bool
	// Size is the object's size in bytes.
	Size int64
	// ModTime is when the object was last written.
	ModTime time.Time
}

// Name returns the last element of the entry's path.
func (e Entry) Name() string { return path.Base(e.Path) }

// Writer writes a new object. It is not safe for concurrent use.
type Writer interface {
	io.Writer
	// Close finishes the object and makes it visible. After an error the
	// object was not written (or not completely: then it is not visible).
	Close() error
	// Abort discards what was written; no object appears. It does nothing
	// after Close.
	Abort() error
}

// Reader reads an object with random access. ReadAt is safe for concurrent
// use; a Reader uses the context it was opened with for every read.
type Reader interface {
	io.ReaderAt
	// Size returns the object's size in bytes.
	Size() int64
	// Close releases the reader.
	Close() error
}

// Store is a flat namespace of objects under a root: a local directory or a
// GCS bucket prefix. Implementations are safe for concurrent use.
type Store interface {
	// Root returns the root: an absolute directory, or gs://bucket[/prefix].
	Root() string
	// URI returns where external readers (DuckDB, Spark, BigQuery) find the
	// object at path: an absolute file path, or gs://bucket/prefix/path.
	URI(path string) string

	// Create starts writing the object at path, replacing any object there
	// when Close succeeds. ctx bounds the whole write.
	Create(ctx context.Context, path string) (Writer, error)
	// Open opens the object at path for random access, or fails with
	// ErrNotExist.
	Open(ctx context.Context, path string) (Reader, error)
	// Read returns the content and version of a small object, or fails with
	// ErrNotExist.
	Read(ctx context.Context, path string) ([]byte, Version, error)
	// WriteIf replaces the object at path with data if the object is at
	// version expected (Absent: if there is no object), atomically, and
	// returns the new version. Otherwise it fails with a *ConflictError.
	// On GCS a write whose response was lost is retried, and the retry may
	// then report a conflict with the write itself: a caller that must
	// know re-reads the object.
	WriteIf(ctx context.Context, path string, data []byte, expected Version) (Version, error)

	// Stat describes the object at path, or fails with ErrNotExist.
	Stat(ctx context.Context, path string) (Entry, error)
	// List returns the objects and directories directly under dir ("" is
	// the root), sorted by path. A missing directory is empty. Local stores
	// also list lock files and the temporary files of writes in progress
	// or crashed (".<name>.<random>.tmp").
	List(ctx context.Context, dir string) ([]Entry, error)
	// ListAll returns every object under dir at any depth, sorted by path.
	ListAll(ctx context.Context, dir string) ([]Entry, error)

	// Delete deletes the object at path. A missing object is not an error.
	Delete(ctx context.Context, path string) error
	// DeleteAll deletes every object under dir ("" is not allowed).
	DeleteAll(ctx context.Context, dir string) error
	// Rename moves the object at from to to, replacing any object there. On
	// GCS it is a server-side copy followed by a delete, so it is not atomic:
	// both may exist for a moment, or, after a crash, both stay.
	Rename(ctx context.Context, from, to string) error

	// Close releases the store's resources (the GCS client).
	Close() error
}

// Locker is implemented by stores whose writers can exclude each other with a
// lock: the local store, with flock(2) on dir/_lock (so within one machine,
// and not on NFS). GCS stores do not implement it; their writers coordinate
// through WriteIf alone.
type Locker interface {
	// Lock waits until it holds the exclusive lock of dir, or ctx is done.
	// It returns a context carrying the lock, and the function releasing it.
	// WriteIf calls on objects directly in dir made with that context (or
	// one derived from it) do not take the lock again; made with another
	// context, they wait for the lock to be released.
	Lock(ctx context.Context, dir string) (context.Context, func() error, error)
}

// Open opens the store at root: a local directory path, a file:// URI, or
// gs://bucket[/prefix] (see the package documentation). Nothing is created
// or fetched yet: a local directory is created by the first write.
func Open(ctx context.Context, root string) (Store, error) {
	loc, err := parseRoot(root)
	if err != nil {
		return nil, fmt.Errorf("blob: open %q: %w", root, err)
	}
	switch loc.scheme {
	case "gs":
		s, err := openGCS(ctx, loc.bucket, loc.prefix)
		if err != nil {
			return nil, fmt.Errorf("blob: open %q: %w", root, err)
		}
		return s, nil
	default:
		return &localStore{root: loc.dir}, nil
	}
}

// IsLocal reports whether root names a local directory (a path or a file://
// URI) rather than a remote store. It does not validate root.
func IsLocal(root string) bool {
	i := strings.Index(root, "://")
	return i < 0 || strings.EqualFold(root[:i], "file")
}

// location is a parsed root.
type location struct {
	scheme string // "file" or "gs"
	dir    string // file: absolute directory
	bucket string // gs
	prefix string // gs: "" or "a/b/" (with a trailing slash)
}

// bucketName matches the names GCS accepts (without the dotted-name length
// rules, which the service enforces).
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$`)

// parseRoot parses and validates a root.
func parseRoot(root string) (location, error) {
	if root == "" {
		return location{}, errors.New("empty root")
	}
	i := strings.Index(root, "://")
	if i < 0 {
		dir, err := filepath.Abs(root)
		if err != nil {
			return location{}, err
		}
		return location{scheme: "file", dir: dir}, nil
	}
	u, err := url.Parse(root)
	if err != nil {
		return location{}, err
	}
	switch strings.ToLower(u.Scheme) {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return location{}, fmt.Errorf("file:// URI with remote host %q", u.Host)
		}
		if u.Path == "" {
			return location{}, errors.New("file:// URI without a path")
		}
		if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			return location{}, errors.New("file:// URI with a query or fragment")
		}
		dir, err := filepath.Abs(filepath.FromSlash(u.Path))
		if err != nil {
			return location{}, err
		}
		return location{scheme: "file", dir: dir}, nil
	case "gs":
		if u.Host == "" {
			return location{}, errors.New("gs:// URI without a bucket (want gs://bucket[/prefix])")
		}
		if u.User != nil || u.Port() != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
			return location{}, errors.New("gs:// URI with user, port, query or fragment (want gs://bucket[/prefix])")
		}
		if !bucketName.MatchString(u.Host) || strings.Contains(u.Host, "..") {
			return location{}, fmt.Errorf("bad bucket name %q: want 3-222 characters of a-z, 0-9, '-', '_' and '.', starting and ending with a letter or digit", u.Host)
		}
		prefix := strings.Trim(u.Path, "/")
		if prefix != "" {
			if err := checkPath(prefix); err != nil {
				return location{}, fmt.Errorf("bad prefix: %w", err)
			}
			prefix += "/"
		}
		return location{scheme: "gs", bucket: u.Host, prefix: prefix}, nil
	}
	return location{}, fmt.Errorf("unsupported warehouse root scheme %q (supported: local path, file://, gs://)", u.Scheme)
}

// checkPath validates an object path relative to a root.
func checkPath(p string) error {
	if p == "" {
		return errors.New("empty path")
	}
	if strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsRune(p, 0) {
		return fmt.Errorf("bad path %q: want a relative slash-separated path", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("bad path %q: empty, \".\" or \"..\" segment", p)
		}
	}
	return nil
}

// checkDir validates a directory path: "" (the root) or a path.
func checkDir(dir string) error {
	if dir == "" {
		return nil
	}
	return checkPath(dir)
}
