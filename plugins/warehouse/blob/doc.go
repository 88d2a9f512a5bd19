// SPDX-License-Identifier: Apache-2.0

// Package blob is the small object-store layer under the Parquet warehouse and
// the launcher and worker code that keeps scratch files next to it: one
// interface, Store, over a local directory and over a Google Cloud Storage
// bucket, so that a warehouse root may be a path or gs://bucket/prefix.
//
// # Roots
//
// Open accepts
//
//	/abs/dir, rel/dir        a local directory (made absolute; created on first write)
//	file:///abs/dir          the same as a URI (file://localhost/... too)
//	gs://bucket              the whole bucket
//	gs://bucket/prefix/      objects under prefix/ (a trailing slash is optional)
//
// Anything else (another scheme, a bucket name GCS would refuse, a prefix with
// "." or ".." segments, a query or fragment) is an error naming the root.
//
// # Paths
//
// Every method takes object paths relative to the root, slash-separated, with
// no empty, "." or ".." segment and no leading slash ("ns/t/ds=2024-01-01/x").
// Directories exist only as prefixes of object paths: "" is the root. On the
// local file system empty directories may linger; List reports them, GCS has
// none.
//
// # Consistency
//
// Create's writer makes its object visible only when Close succeeds, all at
// once (local: written aside, fsynced and renamed; GCS: an upload finalized
// by Close), and Abort leaves nothing behind. Read and WriteIf give
// compare-and-swap on small objects such as a table's manifest: Read returns
// the object's Version, and WriteIf replaces the object only if it still has
// that Version (or, with Absent, only creates it), failing with a
// *ConflictError (errors.Is ErrConflict) when another writer got there
// first. On GCS the Version is the object's generation and WriteIf a
// generation precondition (ifGenerationMatch, 0 for "does not exist"). On the
// local file system the Version is a hash of the content, and WriteIf holds an
// flock(2) on the directory's _lock file while it compares and writes aside,
// fsyncs, renames and fsyncs the directory; the local store also implements
// Locker, so a caller can hold that lock across a longer critical section.
//
// # Reading
//
// Open returns a Reader with random access (io.ReaderAt and Size), as Parquet
// readers need. On GCS every read is a ranged GET of the object generation
// that was opened, through a read-ahead cache: a read smaller than
// ReadAhead (1 MiB) fetches a whole ReadAhead block (aligned to the end of
// the object when near it, so a Parquet footer and the column chunks before
// it come in one request), and later reads inside a cached block cost no
// request. Open itself fetches the object's last block with its size and
// generation in one request.
//
// # Google Cloud Storage
//
// The client is cloud.google.com/go/storage with Application Default
// Credentials. When STORAGE_EMULATOR_HOST is set (host:port or a URL), the
// client talks to that emulator (fake-gcs-server in this repository's tests)
// without authentication. Uploads stream in resumable chunks of ChunkSize
// (4 MiB) bytes, so an open Writer holds about that much memory. Requests are
// retried on transient errors (object names written by this module are never
// reused, so retrying a write is safe).
//
// Example:
//
//	st, err := blob.Open(ctx, "gs://my-bucket/warehouse")
//	if err != nil {
//		return err
//	}
//	defer st.Close()
//	w, err := st.Create(ctx, "scratch/job-1/part-0")
//	if err != nil {
//		return err
//	}
//	if _, err := w.Write(data); err != nil {
//		_ = w.Abort()
//		return err
//	}
//	return w.Close() // visible from here on
package blob
