// SPDX-License-Identifier: Apache-2.0

package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/chronon-go/chronon/plugins/kv"
	"github.com/chronon-go/chronon/plugins/kv/sqlite"
)

const (
	benchKeys      = 100_000
	benchValueSize = 128 // about a small batch IR
	benchBatch     = 10  // keys per MultiGet
)

func benchKey(i int) []byte { return fmt.Appendf(nil, "user-%08d", i) }

// benchStore returns a store with benchKeys keys in dataset "BATCH", one
// value each, and benchKeys keys in "STREAMING", four values each.
func benchStore(b *testing.B) *sqlite.Store {
	b.Helper()
	s := openTemp(b, nil)
	b.Cleanup(func() { s.Close() })
	ctx := b.Context()
	rng := rand.New(rand.NewPCG(1, 1))
	value := make([]byte, benchValueSize)
	for i := range value {
		value[i] = byte(rng.UintN(256))
	}
	for _, ds := range []struct {
		name string
		vals int
	}{{"BATCH", 1}, {"STREAMING", 4}} {
		if err := s.CreateDataset(ctx, ds.name); err != nil {
			b.Fatal(err)
		}
		es := make([]kv.Entry, 0, benchKeys*ds.vals)
		for i := range benchKeys {
			for v := range ds.vals {
				es = append(es, kv.Entry{Key: benchKey(i), Value: value, TsMillis: 1_700_000_000_000 + int64(v)*60_000})
			}
		}
		for c := range slices.Chunk(es, 10_000) {
			if err := s.BulkLoad(ctx, ds.name, c); err != nil {
				b.Fatal(err)
			}
		}
	}
	return s
}

// BenchmarkMultiGet measures one MultiGet of benchBatch random keys of a
// 100K-key dataset: the latest value (batch data), every value after a
// time (four streaming values a key), and the latest from parallel
// goroutines.
func BenchmarkMultiGet(b *testing.B) {
	s := benchStore(b)
	reqs := func(rng *rand.Rand, ds string, after int64) []kv.GetRequest {
		r := make([]kv.GetRequest, benchBatch)
		for i := range r {
			r[i] = kv.GetRequest{Dataset: ds, Key: benchKey(rng.IntN(benchKeys)), AfterMillis: after}
		}
		return r
	}
	for _, bc := range []struct {
		name  string
		ds    string
		after int64
		want  int // values a request returns
	}{
		{"latest", "BATCH", 0, 1},
		{"after", "STREAMING", 1, 4},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(2, 2))
			ctx := b.Context()
			for b.Loop() {
				res, err := s.MultiGet(ctx, reqs(rng, bc.ds, bc.after))
				if err != nil || len(res[0].Values) != bc.want {
					b.Fatal(err, res[0])
				}
			}
		})
	}
	b.Run("latest-parallel", func(b *testing.B) {
		ctx := b.Context()
		b.RunParallel(func(pb *testing.PB) {
			rng := rand.New(rand.NewPCG(rand.Uint64(), 3))
			for pb.Next() {
				res, err := s.MultiGet(ctx, reqs(rng, "BATCH", 0))
				if err != nil || len(res[0].Values) != 1 {
					b.Error(err, res[0])
					return
				}
			}
		})
	})
}

// BenchmarkWrite measures writing 100K entries of random keys to a new
// file in ten calls of 10K entries (an upload of a day's batch values).
func BenchmarkWrite(b *testing.B) {
	for _, bc := range []struct {
		name  string
		write func(s *sqlite.Store) func(context.Context, string, []kv.Entry) error
	}{
		{"BulkLoad", func(s *sqlite.Store) func(context.Context, string, []kv.Entry) error { return s.BulkLoad }},
		{"MultiPut", func(s *sqlite.Store) func(context.Context, string, []kv.Entry) error { return s.MultiPut }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			rng := rand.New(rand.NewPCG(4, 4))
			value := make([]byte, benchValueSize)
			es := make([]kv.Entry, benchKeys)
			for i := range es {
				es[i] = kv.Entry{Key: benchKey(rng.IntN(1 << 30)), Value: value, TsMillis: 1_700_000_000_000}
			}
			for range b.N {
				b.StopTimer()
				s := openTemp(b, nil)
				if err := s.CreateDataset(b.Context(), "D"); err != nil {
					b.Fatal(err)
				}
				write := bc.write(s)
				b.StartTimer()
				for c := range slices.Chunk(es, 10_000) {
					if err := write(b.Context(), "D", c); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(es)), "ns/entry")
		})
	}
}
