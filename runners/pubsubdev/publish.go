// SPDX-License-Identifier: Apache-2.0

package pubsubdev

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"cloud.google.com/go/pubsub/v2"
)

// Formats of the files Publish reads.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// FormatOf returns the format of a file by its extension: .csv is CSV;
// .jsonl, .ndjson and .json are JSON lines.
func FormatOf(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return FormatCSV, nil
	case ".jsonl", ".ndjson", ".json":
		return FormatJSONL, nil
	}
	return "", fmt.Errorf("%s: cannot tell the format from the extension (want .csv or .jsonl, or give the format)", path)
}

// PublishOptions configure Publish.
type PublishOptions struct {
	// Format is FormatCSV or FormatJSONL.
	Format string
	// Fields is the topic's fields= (stream.Topic.Fields): the column order
	// of CSV messages. With it, a CSV file whose first line names every
	// field is taken to have a header, which is not published; when the
	// header orders the columns differently, or has more of them (the
	// quickstart's data files start with ds), each line is reordered to
	// Fields. Without a header line every line is published as it is,
	// which is the case of Chronon's quickstart topic data.
	Fields []string
}

// maxPending bounds the messages published but not yet confirmed, so a
// large file streams through in constant memory.
const maxPending = 1000

// Publish publishes every record of r to topic id as one message and waits
// until Pub/Sub has accepted each. CSV records (one a line, or spanning
// lines inside quotes) are sent as CSV text without the line ending; JSONL
// lines must be JSON objects and are sent as written. Blank lines are
// skipped. It creates the topic when it does not exist (EnsureTopic). It
// returns how many messages were accepted; on an error, the messages before
// it may have been published.
func Publish(ctx context.Context, c *pubsub.Client, id string, r io.Reader, opts PublishOptions) (int, error) {
	var read func(yield func(line int, data []byte) error) error
	switch opts.Format {
	case FormatCSV:
		read = func(yield func(int, []byte) error) error { return readCSV(r, opts.Fields, yield) }
	case FormatJSONL:
		read = func(yield func(int, []byte) error) error { return readJSONL(r, yield) }
	default:
		return 0, fmt.Errorf("publish: format %q is not supported (want %s or %s)", opts.Format, FormatCSV, FormatJSONL)
	}
	if err := EnsureTopic(ctx, c, id); err != nil {
		return 0, err
	}
	pub := c.Publisher(id)
	defer pub.Stop()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type pending struct {
		res  *pubsub.PublishResult
		line int
	}
	results := make(chan pending, maxPending)
	n := 0
	waited := make(chan struct{})
	go func() {
		defer close(waited)
		for p := range results {
			if ctx.Err() != nil {
				continue // drain after the first failure
			}
			if _, err := p.res.Get(ctx); err != nil {
				cancel(fmt.Errorf("line %d: publish to %s: %w", p.line, TopicName(c, id), err))
				continue
			}
			n++
		}
	}()
	readErr := read(func(line int, data []byte) error {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		select {
		case results <- pending{res: pub.Publish(ctx, &pubsub.Message{Data: data}), line: line}:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(results)
	<-waited
	if err := context.Cause(ctx); err != nil {
		return n, err // a publish failed, or the caller gave up
	}
	return n, readErr
}

// readCSV calls yield with each record of r re-encoded as one CSV line. See
// PublishOptions.Fields for the header.
func readCSV(r io.Reader, fields []string, yield func(line int, data []byte) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var (
		buf  bytes.Buffer
		proj []int // header column of each field, when reordering
		hdr  int   // header width, when there is one
	)
	w := csv.NewWriter(&buf)
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if first && len(fields) > 0 {
			if p, ok := headerProjection(rec, fields); ok {
				proj, hdr = p, len(rec)
				continue
			}
		}
		if proj != nil {
			if len(rec) != hdr {
				return fmt.Errorf("line %d: %d fields, the header has %d", line, len(rec), hdr)
			}
			out := make([]string, len(proj))
			for i, j := range proj {
				out[i] = rec[j]
			}
			rec = out
		}
		buf.Reset()
		if err := w.Write(rec); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		w.Flush()
		data := bytes.Clone(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		if err := yield(line, data); err != nil {
			return err
		}
	}
}

// headerProjection reports whether rec is a header naming every field, and
// which of its columns each field is.
func headerProjection(rec, fields []string) ([]int, bool) {
	at := make(map[string]int, len(rec))
	for i, name := range rec {
		name = strings.TrimSpace(strings.TrimPrefix(name, "\ufeff"))
		if _, dup := at[name]; !dup {
			at[name] = i
		}
	}
	proj := make([]int, len(fields))
	for i, f := range fields {
		j, ok := at[f]
		if !ok {
			return nil, false
		}
		proj[i] = j
	}
	return proj, true
}

// readJSONL calls yield with each non-blank line of r, which must be a JSON
// object.
func readJSONL(r io.Reader, yield func(line int, data []byte) error) error {
	br := bufio.NewReaderSize(r, 64*1024)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			b = bytes.TrimSpace(b)
			if line == 1 {
				b = bytes.TrimPrefix(b, []byte("\ufeff"))
			}
			if len(b) > 0 {
				if b[0] != '{' || !json.Valid(b) {
					return fmt.Errorf("line %d: not a JSON object", line)
				}
				if yerr := yield(line, b); yerr != nil {
					return yerr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read jsonl: %w", err)
		}
	}
}
