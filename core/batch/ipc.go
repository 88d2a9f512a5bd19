// SPDX-License-Identifier: Apache-2.0

package batch

import (
	"bytes"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// AppendIPC appends rec as an Arrow IPC stream (schema and one batch) to
// dst: the compact, self-describing form batches take between pipeline
// steps.
func AppendIPC(dst []byte, rec arrow.RecordBatch) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	w := ipc.NewWriter(buf, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(memory.DefaultAllocator))
	if err := w.Write(rec); err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	return buf.Bytes(), nil
}

// DecodeIPC decodes the batches of an Arrow IPC stream. The caller owns
// them.
func DecodeIPC(src []byte) ([]arrow.RecordBatch, error) {
	r, err := ipc.NewReader(bytes.NewReader(src), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return nil, fmt.Errorf("decode batch: %w", err)
	}
	defer r.Release()
	var out []arrow.RecordBatch
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			for _, o := range out {
				o.Release()
			}
			return nil, fmt.Errorf("decode batch: %w", err)
		}
		rec.Retain()
		out = append(out, rec)
	}
}
