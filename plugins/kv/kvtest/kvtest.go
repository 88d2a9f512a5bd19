// SPDX-License-Identifier: Apache-2.0

package kvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronon-go/chronon/plugins/kv"
)

// base is the epoch-millisecond origin of every timestamp the suite writes
// (2023-11-14); tests write base+offset.
const base int64 = 1_700_000_000_000

// promptly is how long a call made with a cancelled context may take.
const promptly = 2 * time.Second

// Run runs the conformance suite against the stores open returns. open is
// called once per subtest and must return a working, empty or shared
// store; Run closes it when the subtest ends. Subtests run one after the
// other.
func Run(t *testing.T, open func(t *testing.T) kv.Store) {
	t.Helper()
	s := &suite{
		open:  open,
		runID: strings.ToUpper(strconv.FormatInt(time.Now().UnixNano()%(36*36*36*36*36*36), 36)),
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s *suite)
	}{
		{"Datasets", testDatasets},
		{"Latest", testLatest},
		{"AfterMillis", testAfterMillis},
		{"Overwrite", testOverwrite},
		{"Binary", testBinary},
		{"ManyKeys", testManyKeys},
		{"Empty", testEmpty},
		{"Ownership", testOwnership},
		{"BulkLoad", testBulkLoad},
		{"Expire", testExpire},
		{"Concurrent", testConcurrent},
		{"Context", testContext},
		{"Close", testClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, s) })
	}
}

// suite holds what the subtests of one Run share.
type suite struct {
	open  func(t *testing.T) kv.Store
	runID string
	seq   atomic.Int64
}

// store opens a store that is closed when t ends.
func (s *suite) store(t *testing.T) kv.Store {
	t.Helper()
	st := s.open(t)
	if st == nil {
		t.Fatal("open returned a nil kv.Store")
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// name returns a dataset name unique to this Run; it does not create it.
func (s *suite) name(label string) string {
	return fmt.Sprintf("KVTEST_%s_%s_%d", s.runID, label, s.seq.Add(1))
}

// dataset returns a new dataset created in st.
func (s *suite) dataset(t *testing.T, st kv.Store, label string) string {
	t.Helper()
	ds := s.name(label)
	if err := st.CreateDataset(t.Context(), ds); err != nil {
		t.Fatalf("CreateDataset(%s): %v", ds, err)
	}
	return ds
}

// tv is an expected value: a timestamp and the value's bytes.
type tv struct {
	ts int64
	v  string
}

// entries builds entries of one key.
func entries(key string, vals ...tv) []kv.Entry {
	es := make([]kv.Entry, len(vals))
	for i, x := range vals {
		es[i] = kv.Entry{Key: []byte(key), Value: []byte(x.v), TsMillis: x.ts}
	}
	return es
}

// model is the reference the store is compared with:
// dataset -> key -> ts -> value.
type model map[string]map[string]map[int64]string

func (m model) put(ds string, es []kv.Entry) {
	if m[ds] == nil {
		m[ds] = map[string]map[int64]string{}
	}
	for _, e := range es {
		k := string(e.Key)
		if m[ds][k] == nil {
			m[ds][k] = map[int64]string{}
		}
		m[ds][k][e.TsMillis] = string(e.Value)
	}
}

// get answers a GetRequest as the contract says.
func (m model) get(ds string, key []byte, after int64) []tv {
	vals := m[ds][string(key)]
	tss := make([]int64, 0, len(vals))
	for ts := range vals {
		tss = append(tss, ts)
	}
	slices.Sort(tss)
	if after <= 0 && len(tss) > 0 {
		tss = tss[len(tss)-1:]
	}
	var out []tv
	for _, ts := range tss {
		if after <= 0 || ts >= after {
			out = append(out, tv{ts, vals[ts]})
		}
	}
	return out
}

func (m model) expire(ds string, before int64, keepLatest bool) int64 {
	var n int64
	for _, vals := range m[ds] {
		latest := int64(0)
		first := true
		for ts := range vals {
			if first || ts > latest {
				latest, first = ts, false
			}
		}
		for ts := range vals {
			if ts < before && !(keepLatest && ts == latest) {
				delete(vals, ts)
				n++
			}
		}
	}
	return n
}

// short formats a value for a failure message.
func short(b string) string {
	if len(b) <= 40 {
		return strconv.Quote(b)
	}
	return fmt.Sprintf("%q...(%d bytes)", b[:24], len(b))
}

// diff compares the values a store returned for key with want; "" means
// equal.
func diff(got []kv.Entry, key []byte, want []tv) string {
	fmtGot := func() string {
		parts := make([]string, len(got))
		for i, e := range got {
			parts[i] = fmt.Sprintf("%d:%s", e.TsMillis, short(string(e.Value)))
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	fmtWant := func() string {
		parts := make([]string, len(want))
		for i, x := range want {
			parts[i] = fmt.Sprintf("%d:%s", x.ts, short(x.v))
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
	if len(got) != len(want) {
		return fmt.Sprintf("key %s: got %d values %s, want %d %s", short(string(key)), len(got), fmtGot(), len(want), fmtWant())
	}
	for i, e := range got {
		if !bytes.Equal(e.Key, key) {
			return fmt.Sprintf("key %s: value %d has Key %s", short(string(key)), i, short(string(e.Key)))
		}
		if e.TsMillis != want[i].ts || string(e.Value) != want[i].v {
			return fmt.Sprintf("key %s: got %s, want %s (oldest first)", short(string(key)), fmtGot(), fmtWant())
		}
	}
	return ""
}

// get asks st for one key's values and fails t on any error.
func get(t *testing.T, st kv.Store, ds string, key []byte, after int64) []kv.Entry {
	t.Helper()
	res, err := st.MultiGet(t.Context(), []kv.GetRequest{{Dataset: ds, Key: key, AfterMillis: after}})
	if err != nil {
		t.Fatalf("MultiGet(%s): %v", ds, err)
	}
	if len(res) != 1 {
		t.Fatalf("MultiGet(%s) of 1 request: %d results", ds, len(res))
	}
	if res[0].Err != nil {
		t.Fatalf("MultiGet(%s): request error: %v", ds, res[0].Err)
	}
	return res[0].Values
}

// check compares one key's values in st with want.
func check(t *testing.T, st kv.Store, ds string, key []byte, after int64, want []tv) {
	t.Helper()
	if d := diff(get(t, st, ds, key, after), key, want); d != "" {
		t.Errorf("%s after=%d: %s", ds, after, d)
	}
}

func put(t *testing.T, st kv.Store, ds string, es []kv.Entry) {
	t.Helper()
	if err := st.MultiPut(t.Context(), ds, es); err != nil {
		t.Fatalf("MultiPut(%s, %d entries): %v", ds, len(es), err)
	}
}

func bulk(t *testing.T, st kv.Store, ds string, es []kv.Entry) {
	t.Helper()
	if err := st.BulkLoad(t.Context(), ds, es); err != nil {
		t.Fatalf("BulkLoad(%s, %d entries): %v", ds, len(es), err)
	}
}

// testDatasets: creating twice (also concurrently) succeeds, datasets are
// isolated, and a dataset never created fails with kv.ErrNoDataset: in
// GetResult.Err for MultiGet, as the call's error otherwise.
func testDatasets(t *testing.T, s *suite) {
	st := s.store(t)
	ctx := t.Context()
	a := s.dataset(t, st, "A")
	if err := st.CreateDataset(ctx, a); err != nil {
		t.Fatalf("CreateDataset(%s) again: %v", a, err)
	}
	b := s.dataset(t, st, "B")

	c := s.name("C")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := st.CreateDataset(ctx, c); err != nil {
				t.Errorf("concurrent CreateDataset(%s): %v", c, err)
			}
		})
	}
	wg.Wait()

	key := []byte("k")
	put(t, st, a, entries("k", tv{base, "in a"}))
	put(t, st, b, entries("k", tv{base, "in b"}))
	check(t, st, a, key, 0, []tv{{base, "in a"}})
	check(t, st, b, key, 0, []tv{{base, "in b"}})
	check(t, st, c, key, 0, nil)

	missing := s.name("MISSING")
	res, err := st.MultiGet(ctx, []kv.GetRequest{
		{Dataset: a, Key: key},
		{Dataset: missing, Key: key},
		{Dataset: b, Key: key, AfterMillis: 1},
	})
	if err != nil {
		t.Fatalf("MultiGet with a missing dataset: call error %v, want nil and the request's own Err", err)
	}
	if len(res) != 3 {
		t.Fatalf("MultiGet of 3 requests: %d results", len(res))
	}
	if !errors.Is(res[1].Err, kv.ErrNoDataset) {
		t.Errorf("MultiGet(%s): Err = %v, want kv.ErrNoDataset", missing, res[1].Err)
	}
	for i, want := range map[int][]tv{0: {{base, "in a"}}, 2: {{base, "in b"}}} {
		if res[i].Err != nil {
			t.Errorf("request %d beside a missing dataset: %v", i, res[i].Err)
		} else if d := diff(res[i].Values, key, want); d != "" {
			t.Errorf("request %d beside a missing dataset: %s", i, d)
		}
	}

	calls := []struct {
		name string
		call func() error
	}{
		{"MultiPut", func() error { return st.MultiPut(ctx, missing, entries("k", tv{base, "v"})) }},
		{"BulkLoad", func() error { return st.BulkLoad(ctx, missing, entries("k", tv{base, "v"})) }},
		{"Expire", func() error { _, err := st.Expire(ctx, missing, base, false); return err }},
		{"ExpireKeepLatest", func() error { _, err := st.Expire(ctx, missing, base, true); return err }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, kv.ErrNoDataset) {
				t.Errorf("%s on a missing dataset: %v, want kv.ErrNoDataset", tc.name, err)
			}
		})
	}
	// A failed write does not create the dataset.
	res, err = st.MultiGet(ctx, []kv.GetRequest{{Dataset: missing, Key: key}})
	if err != nil || len(res) != 1 || !errors.Is(res[0].Err, kv.ErrNoDataset) {
		t.Errorf("MultiGet(%s) after failed writes: %v, %+v; want kv.ErrNoDataset", missing, err, res)
	}
}

// testLatest: AfterMillis 0 returns the value with the largest timestamp,
// whatever order values were written in; an absent key has no values.
func testLatest(t *testing.T, s *suite) {
	st := s.store(t)
	ds := s.dataset(t, st, "LATEST")
	tests := []struct {
		name   string
		writes [][]tv // one MultiPut per element
		want   []tv
	}{
		{"absent", nil, nil},
		{"single", [][]tv{{{base, "a"}}}, []tv{{base, "a"}}},
		{"ascending", [][]tv{{{base + 1, "1"}}, {{base + 2, "2"}}, {{base + 3, "3"}}}, []tv{{base + 3, "3"}}},
		{"descending", [][]tv{{{base + 3, "3"}}, {{base + 2, "2"}}, {{base + 1, "1"}}}, []tv{{base + 3, "3"}}},
		{"one call unordered", [][]tv{{{base + 2, "2"}, {base + 3, "3"}, {base + 1, "1"}}}, []tv{{base + 3, "3"}}},
		{"far apart", [][]tv{{{base - 86_400_000*365, "old"}, {base + 86_400_000*365, "new"}}}, []tv{{base + 86_400_000*365, "new"}}},
		{"small timestamps", [][]tv{{{1, "one"}, {2, "two"}}}, []tv{{2, "two"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, w := range tc.writes {
				put(t, st, ds, entries(tc.name, w...))
			}
			check(t, st, ds, []byte(tc.name), 0, tc.want)
		})
	}
}

// testAfterMillis: AfterMillis > 0 returns every value with
// TsMillis >= AfterMillis, oldest first.
func testAfterMillis(t *testing.T, s *suite) {
	st := s.store(t)
	ds := s.dataset(t, st, "AFTER")
	key := []byte("key")
	all := []tv{{base + 100, "v100"}, {base + 200, "v200"}, {base + 300, "v300"}, {base + 400, "v400"}, {base + 500, "v500"}}
	put(t, st, ds, entries("key", all[3], all[0], all[4]))
	put(t, st, ds, entries("key", all[2], all[1]))
	put(t, st, ds, entries("other", tv{base + 50, "x"}, tv{base + 1000, "y"}))
	tests := []struct {
		name  string
		after int64
		want  []tv
	}{
		{"smallest positive", 1, all},
		{"before first", base + 99, all},
		{"at first (inclusive)", base + 100, all},
		{"at middle", base + 300, all[2:]},
		{"between", base + 301, all[3:]},
		{"at last", base + 500, all[4:]},
		{"after last", base + 501, nil},
		{"zero is latest", 0, all[4:]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			check(t, st, ds, key, tc.after, tc.want)
		})
	}
	check(t, st, ds, []byte("absent"), 1, nil)
}

// testOverwrite: writing a key again at the same timestamp replaces that
// value, whichever of MultiPut and BulkLoad wrote it.
func testOverwrite(t *testing.T, s *suite) {
	st := s.store(t)
	ds := s.dataset(t, st, "OVERWRITE")
	type step struct {
		bulk bool
		vals []tv
	}
	t1, t2 := base+10, base+20
	tests := []struct {
		name  string
		steps []step
		want  []tv // every value, oldest first
	}{
		{"MultiPut twice", []step{{false, []tv{{t1, "v1"}}}, {false, []tv{{t1, "v2"}}}}, []tv{{t1, "v2"}}},
		{"BulkLoad over MultiPut", []step{{false, []tv{{t1, "v1"}}}, {true, []tv{{t1, "v2"}}}}, []tv{{t1, "v2"}}},
		{"MultiPut over BulkLoad", []step{{true, []tv{{t1, "v1"}}}, {false, []tv{{t1, "v2"}}}}, []tv{{t1, "v2"}}},
		{"BulkLoad twice", []step{{true, []tv{{t1, "v1"}, {t2, "w1"}}}, {true, []tv{{t1, "v2"}, {t2, "w2"}}}}, []tv{{t1, "v2"}, {t2, "w2"}}},
		{"older timestamp", []step{{false, []tv{{t1, "v1"}, {t2, "w1"}}}, {false, []tv{{t1, "v2"}}}}, []tv{{t1, "v2"}, {t2, "w1"}}},
		{"shorter value", []step{{false, []tv{{t1, "a long first value"}}}, {false, []tv{{t1, "s"}}}}, []tv{{t1, "s"}}},
		{"to empty", []step{{false, []tv{{t1, "x"}}}, {false, []tv{{t1, ""}}}}, []tv{{t1, ""}}},
		{"from empty", []step{{false, []tv{{t1, ""}}}, {false, []tv{{t1, "x"}}}}, []tv{{t1, "x"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, st1 := range tc.steps {
				if st1.bulk {
					bulk(t, st, ds, entries(tc.name, st1.vals...))
				} else {
					put(t, st, ds, entries(tc.name, st1.vals...))
				}
			}
			check(t, st, ds, []byte(tc.name), 1, tc.want)
			check(t, st, ds, []byte(tc.name), 0, tc.want[len(tc.want)-1:])
		})
	}
}

// testBinary: keys and values are arbitrary bytes: zero bytes, keys that
// are prefixes of others, empty and nil values, a 1 MiB value.
func testBinary(t *testing.T, s *suite) {
	st := s.store(t)
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(rng.UintN(256))
	}
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	rev := slices.Clone(allBytes)
	slices.Reverse(rev)
	tests := []struct {
		name       string
		key, value []byte
	}{
		{"zero byte key", []byte{0}, []byte("v")},
		{"zeros inside", []byte("a\x00b"), []byte("\x00\x00")},
		{"high bytes", []byte{0xff, 0xfe, 0xfd}, []byte{0xff}},
		{"prefix", []byte("p"), []byte("1")},
		{"prefix+zero", []byte("p\x00"), []byte("2")},
		{"prefix+a", []byte("pa"), []byte("3")},
		{"prefix+ff", []byte("p\xff"), []byte("4")},
		{"every byte", allBytes, rev},
		{"long key", bytes.Repeat([]byte("k\x00"), 500), []byte("long")},
		{"empty value", []byte("e"), []byte{}},
		{"nil value", []byte("n"), nil},
		{"1 MiB value", []byte("big"), big},
	}
	for _, load := range []struct {
		name string
		fn   func(t *testing.T, st kv.Store, ds string, es []kv.Entry)
	}{{"MultiPut", put}, {"BulkLoad", bulk}} {
		t.Run(load.name, func(t *testing.T) {
			ds := s.dataset(t, st, "BINARY")
			es := make([]kv.Entry, len(tests))
			reqs := make([]kv.GetRequest, len(tests))
			for i, tc := range tests {
				es[i] = kv.Entry{Key: tc.key, Value: tc.value, TsMillis: base + int64(i)}
				reqs[i] = kv.GetRequest{Dataset: ds, Key: tc.key, AfterMillis: base}
			}
			load.fn(t, st, ds, es)
			for i, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					want := []tv{{base + int64(i), string(tc.value)}}
					check(t, st, ds, tc.key, 0, want)
					check(t, st, ds, tc.key, base, want)
				})
			}
			res, err := st.MultiGet(t.Context(), reqs)
			if err != nil || len(res) != len(reqs) {
				t.Fatalf("MultiGet of %d binary keys: %v (%d results)", len(reqs), err, len(res))
			}
			for i, tc := range tests {
				if res[i].Err != nil {
					t.Errorf("%s: %v", tc.name, res[i].Err)
				} else if d := diff(res[i].Values, tc.key, []tv{{base + int64(i), string(tc.value)}}); d != "" {
					t.Errorf("%s in one MultiGet: %s", tc.name, d)
				}
			}
		})
	}
}

// testManyKeys: one MultiGet of many requests answers each in order:
// duplicates, absent keys, several datasets, both kinds of request, and a
// missing dataset failing only its own requests.
func testManyKeys(t *testing.T, s *suite) {
	st := s.store(t)
	ctx := t.Context()
	d1 := s.dataset(t, st, "MANY1")
	d2 := s.dataset(t, st, "MANY2")
	missing := s.name("MANYMISSING")
	m := model{}
	const n = 1000
	var es1, es2 []kv.Entry
	for i := range n {
		k := fmt.Sprintf("many-%04d", i)
		for j := range i%3 + 1 {
			ts := base + int64(j*100+i%7)
			es1 = append(es1, kv.Entry{Key: []byte(k), Value: []byte(k + "@" + strconv.FormatInt(ts, 10)), TsMillis: ts})
		}
		if i%5 == 0 {
			es2 = append(es2, kv.Entry{Key: []byte(k), Value: []byte("d2 " + k), TsMillis: base})
		}
	}
	put(t, st, d1, es1)
	bulk(t, st, d2, es2)
	m.put(d1, es1)
	m.put(d2, es2)

	rng := rand.New(rand.NewPCG(3, 4))
	var reqs []kv.GetRequest
	for i := range n {
		k := []byte(fmt.Sprintf("many-%04d", i))
		reqs = append(reqs, kv.GetRequest{Dataset: d1, Key: k})
		switch i % 6 {
		case 1:
			reqs = append(reqs, kv.GetRequest{Dataset: d1, Key: []byte(fmt.Sprintf("absent-%d", i))})
		case 2:
			reqs = append(reqs, kv.GetRequest{Dataset: d2, Key: k})
		case 3:
			reqs = append(reqs, kv.GetRequest{Dataset: d1, Key: k, AfterMillis: base + int64(rng.IntN(250))})
		case 4:
			reqs = append(reqs, kv.GetRequest{Dataset: d1, Key: []byte(fmt.Sprintf("many-%04d", rng.IntN(n)))})
		}
		if i == n/2 {
			reqs = append(reqs, kv.GetRequest{Dataset: missing, Key: k})
		}
	}
	reqs = append(reqs, reqs[0], reqs[0], kv.GetRequest{Dataset: missing, Key: []byte("x")}, reqs[1])

	res, err := st.MultiGet(ctx, reqs)
	if err != nil {
		t.Fatalf("MultiGet of %d requests: %v", len(reqs), err)
	}
	if len(res) != len(reqs) {
		t.Fatalf("MultiGet of %d requests: %d results", len(reqs), len(res))
	}
	bad := 0
	for i, r := range reqs {
		if r.Dataset == missing {
			if !errors.Is(res[i].Err, kv.ErrNoDataset) {
				t.Errorf("request %d (missing dataset): Err = %v, want kv.ErrNoDataset", i, res[i].Err)
			}
			continue
		}
		if res[i].Err != nil {
			t.Errorf("request %d: %v", i, res[i].Err)
		} else if d := diff(res[i].Values, r.Key, m.get(r.Dataset, r.Key, r.AfterMillis)); d != "" {
			t.Errorf("request %d (%s after=%d): %s", i, r.Dataset, r.AfterMillis, d)
		} else {
			continue
		}
		if bad++; bad > 10 {
			t.Fatal("too many errors")
		}
	}
}

// testEmpty: empty request and entry lists succeed.
func testEmpty(t *testing.T, s *suite) {
	st := s.store(t)
	ctx := t.Context()
	ds := s.dataset(t, st, "EMPTY")
	for _, reqs := range [][]kv.GetRequest{nil, {}} {
		res, err := st.MultiGet(ctx, reqs)
		if err != nil || len(res) != 0 {
			t.Errorf("MultiGet(%v): %v, %d results; want nil, 0", reqs, err, len(res))
		}
	}
	for _, es := range [][]kv.Entry{nil, {}} {
		if err := st.MultiPut(ctx, ds, es); err != nil {
			t.Errorf("MultiPut(%v): %v", es, err)
		}
		if err := st.BulkLoad(ctx, ds, es); err != nil {
			t.Errorf("BulkLoad(%v): %v", es, err)
		}
	}
	for _, keep := range []bool{false, true} {
		if n, err := st.Expire(ctx, ds, base, keep); err != nil || n != 0 {
			t.Errorf("Expire of an empty dataset (keepLatest=%v): %d, %v; want 0, nil", keep, n, err)
		}
	}
}

// testOwnership: the store keeps no reference to the caller's slices, and
// the caller may modify what it gets.
func testOwnership(t *testing.T, s *suite) {
	st := s.store(t)
	ds := s.dataset(t, st, "OWN")
	for _, load := range []struct {
		name string
		fn   func(t *testing.T, st kv.Store, ds string, es []kv.Entry)
	}{{"MultiPut", put}, {"BulkLoad", bulk}} {
		t.Run(load.name, func(t *testing.T) {
			key := []byte("own-" + load.name)
			val := []byte("original")
			load.fn(t, st, ds, []kv.Entry{{Key: key, Value: val, TsMillis: base}})
			orig := slices.Clone(key)
			copy(key, "XXXX")
			copy(val, "mutated!")
			check(t, st, ds, orig, 0, []tv{{base, "original"}})
			check(t, st, ds, key, 0, nil)

			got := get(t, st, ds, orig, 0)
			if len(got) == 1 {
				for i := range got[0].Value {
					got[0].Value[i] = 'Z'
				}
				for i := range got[0].Key {
					got[0].Key[i] = 'Z'
				}
			}
			check(t, st, ds, orig, 0, []tv{{base, "original"}})
		})
	}
}

// testBulkLoad: 100K entries (50K keys, two timestamps each; 10K entries
// under the race detector) in ten chunks; Expire counts prove every entry
// was written.
func testBulkLoad(t *testing.T, s *suite) {
	st := s.store(t)
	ctx := t.Context()
	ds := s.dataset(t, st, "BULK")
	keys := 50_000
	if raceEnabled {
		keys = 5_000
	}
	chunk := keys / 5
	t1, t2 := base, base+86_400_000
	key := func(i int) []byte { return []byte(fmt.Sprintf("bulk-%05d", i)) }
	step := 7919 // prime to keys: j*step%keys is a permutation
	value := func(i int, ts int64) string { return fmt.Sprintf("v%d@%d", i, ts) }
	all := make([]kv.Entry, 0, 2*keys)
	for _, ts := range []int64{t1, t2} {
		for j := range keys {
			i := j * step % keys // keys arrive unordered
			all = append(all, kv.Entry{Key: key(i), Value: []byte(value(i, ts)), TsMillis: ts})
		}
	}
	for c := range slices.Chunk(all, chunk) {
		bulk(t, st, ds, c)
	}

	var reqs []kv.GetRequest
	for i := 0; i < keys; i += 97 {
		reqs = append(reqs, kv.GetRequest{Dataset: ds, Key: key(i), AfterMillis: 1}, kv.GetRequest{Dataset: ds, Key: key(i)})
	}
	reqs = append(reqs, kv.GetRequest{Dataset: ds, Key: key(keys - 1), AfterMillis: 1})
	res, err := st.MultiGet(ctx, reqs)
	if err != nil || len(res) != len(reqs) {
		t.Fatalf("MultiGet after BulkLoad: %v (%d results for %d requests)", err, len(res), len(reqs))
	}
	for i, r := range reqs {
		k, _ := strconv.Atoi(strings.TrimPrefix(string(r.Key), "bulk-"))
		want := []tv{{t1, value(k, t1)}, {t2, value(k, t2)}}
		if r.AfterMillis == 0 {
			want = want[1:]
		}
		if res[i].Err != nil {
			t.Fatalf("request %d: %v", i, res[i].Err)
		}
		if d := diff(res[i].Values, r.Key, want); d != "" {
			t.Fatalf("request %d: %s", i, d)
		}
	}

	steps := []struct {
		before int64
		keep   bool
		want   int64
	}{
		{t2, false, int64(keys)},     // every t1 value
		{t2 + 1, true, 0},            // each key's t2 value is its latest
		{t2 + 1, false, int64(keys)}, // every t2 value
	}
	for _, step := range steps {
		n, err := st.Expire(ctx, ds, step.before, step.keep)
		if err != nil || n != step.want {
			t.Fatalf("Expire(%d, keepLatest=%v) = %d, %v; want %d", step.before, step.keep, n, err, step.want)
		}
	}
	check(t, st, ds, key(0), 1, nil)
}

// testExpire: values strictly older than beforeMillis go; with keepLatest
// each key's latest value stays however old; the count is exact.
func testExpire(t *testing.T, s *suite) {
	st := s.store(t)
	ctx := t.Context()
	data := map[string][]tv{
		"k1": {{base + 100, "a"}, {base + 200, "b"}, {base + 300, "c"}},
		"k2": {{base + 500, "d"}, {base + 1500, "e"}, {base + 2500, "f"}},
		"k3": {{base + 1000, "g"}},
		"k4": {{base + 2000, "h"}},
		"k5": {{base + 999, "i"}},
	}
	tests := []struct {
		name   string
		before int64
		keep   bool
		want   int64
	}{
		{"nothing older", base + 100, false, 0},
		{"nothing older keep latest", base + 100, true, 0},
		{"strictly older", base + 1000, false, 5},
		{"keep latest", base + 1000, true, 3},
		{"everything", base + 10_000, false, 9},
		{"everything keep latest", base + 10_000, true, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := s.dataset(t, st, "EXPIRE")
			other := s.dataset(t, st, "EXPIREOTHER")
			m := model{}
			for k, vals := range data {
				put(t, st, ds, entries(k, vals...))
				put(t, st, other, entries(k, vals...))
				m.put(ds, entries(k, vals...))
				m.put(other, entries(k, vals...))
			}
			if got := m.expire(ds, tc.before, tc.keep); got != tc.want {
				t.Fatalf("model: expire %d, want %d", got, tc.want)
			}
			n, err := st.Expire(ctx, ds, tc.before, tc.keep)
			if err != nil || n != tc.want {
				t.Fatalf("Expire(%d, keepLatest=%v) = %d, %v; want %d", tc.before, tc.keep, n, err, tc.want)
			}
			for k := range data {
				check(t, st, ds, []byte(k), 1, m.get(ds, []byte(k), 1))
				check(t, st, ds, []byte(k), 0, m.get(ds, []byte(k), 0))
				check(t, st, other, []byte(k), 1, m.get(other, []byte(k), 1))
			}
			if n, err := st.Expire(ctx, ds, tc.before, tc.keep); err != nil || n != 0 {
				t.Errorf("Expire again = %d, %v; want 0", n, err)
			}
			if tc.keep {
				// A newer value makes the kept one expirable.
				put(t, st, ds, entries("k1", tv{base + 20_000, "new"}))
				m.put(ds, entries("k1", tv{base + 20_000, "new"}))
				want := m.expire(ds, tc.before, true)
				if n, err := st.Expire(ctx, ds, tc.before, true); err != nil || n != want {
					t.Errorf("Expire after a newer value = %d, %v; want %d", n, err, want)
				}
				check(t, st, ds, []byte("k1"), 1, m.get(ds, []byte("k1"), 1))
			}
		})
	}
}

// testConcurrent: readers, writers, bulk loads, expiries and dataset
// creation run at once (run it with -race); readers never see a torn or
// foreign value, and every write is there at the end.
func testConcurrent(t *testing.T, s *suite) {
	st := s.store(t)
	ctx := t.Context()
	ds := s.dataset(t, st, "CONC")
	side := s.dataset(t, st, "CONCSIDE")
	const writers, readers, keysPer, rounds = 4, 4, 25, 5
	val := func(k string, ts int64) []byte { return []byte(k + "@" + strconv.FormatInt(ts, 10)) }
	keyOf := func(w, k int) string { return fmt.Sprintf("w%d-k%02d", w, k) }

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for r := range rounds {
				ts := base + int64(r*10)
				var es []kv.Entry
				for k := range keysPer {
					es = append(es, kv.Entry{Key: []byte(keyOf(w, k)), Value: val(keyOf(w, k), ts), TsMillis: ts})
				}
				sts := base + int64(r*10+w) // each writer its own timestamps of a shared key
				es = append(es, kv.Entry{Key: []byte("shared"), Value: val("shared", sts), TsMillis: sts})
				write := st.MultiPut
				if r%2 == 1 {
					write = st.BulkLoad
				}
				if err := write(ctx, ds, es); err != nil {
					t.Errorf("writer %d round %d: %v", w, r, err)
					return
				}
			}
		})
	}
	for rd := range readers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(rd), 5))
			for range 40 {
				reqs := make([]kv.GetRequest, 10)
				for i := range reqs {
					k := keyOf(rng.IntN(writers), rng.IntN(keysPer))
					if i == 0 {
						k = "shared"
					}
					reqs[i] = kv.GetRequest{Dataset: ds, Key: []byte(k), AfterMillis: int64(rng.IntN(2))}
				}
				res, err := st.MultiGet(ctx, reqs)
				if err != nil || len(res) != len(reqs) {
					t.Errorf("reader %d: %v (%d results)", rd, err, len(res))
					return
				}
				for i, r := range res {
					if r.Err != nil {
						t.Errorf("reader %d: %v", rd, r.Err)
						return
					}
					if reqs[i].AfterMillis == 0 && len(r.Values) > 1 {
						t.Errorf("reader %d: latest get returned %d values", rd, len(r.Values))
						return
					}
					for j, e := range r.Values {
						if !bytes.Equal(e.Key, reqs[i].Key) || !bytes.Equal(e.Value, val(string(reqs[i].Key), e.TsMillis)) {
							t.Errorf("reader %d: key %q got entry %q@%d = %q", rd, reqs[i].Key, e.Key, e.TsMillis, e.Value)
							return
						}
						if j > 0 && e.TsMillis <= r.Values[j-1].TsMillis {
							t.Errorf("reader %d: key %q values not oldest first", rd, reqs[i].Key)
							return
						}
					}
				}
			}
		})
	}
	wg.Go(func() { // bulk loads and expiries of another dataset
		for r := range 10 {
			var es []kv.Entry
			for k := range 200 {
				es = append(es, kv.Entry{Key: []byte(fmt.Sprintf("side-%d", k)), Value: []byte("s"), TsMillis: base + int64(r)})
			}
			if err := st.BulkLoad(ctx, side, es); err != nil {
				t.Errorf("side BulkLoad: %v", err)
				return
			}
			if _, err := st.Expire(ctx, side, base+int64(r), true); err != nil {
				t.Errorf("side Expire: %v", err)
				return
			}
		}
	})
	wg.Go(func() { // dataset creation, new and existing
		for range 5 {
			for _, d := range []string{ds, side, s.name("CONCNEW")} {
				if err := st.CreateDataset(ctx, d); err != nil {
					t.Errorf("CreateDataset(%s): %v", d, err)
					return
				}
			}
		}
	})
	wg.Wait()
	if t.Failed() {
		return
	}

	for w := range writers {
		for k := range keysPer {
			var want []tv
			for r := range rounds {
				ts := base + int64(r*10)
				want = append(want, tv{ts, string(val(keyOf(w, k), ts))})
			}
			check(t, st, ds, []byte(keyOf(w, k)), 1, want)
		}
	}
	var shared []tv
	for r := range rounds {
		for w := range writers {
			ts := base + int64(r*10+w)
			shared = append(shared, tv{ts, string(val("shared", ts))})
		}
	}
	check(t, st, ds, []byte("shared"), 1, shared)
	check(t, st, side, []byte("side-0"), 1, []tv{{base + 9, "s"}})
}

// testContext: every method fails promptly with a cancelled or expired
// context, and the store still works afterwards.
func testContext(t *testing.T, s *suite) {
	st := s.store(t)
	ds := s.dataset(t, st, "CTX")
	key := []byte("k")
	put(t, st, ds, entries("k", tv{base, "v"}))

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()
	many := make([]kv.Entry, 1000)
	for i := range many {
		many[i] = kv.Entry{Key: []byte(fmt.Sprintf("c%d", i)), Value: []byte("x"), TsMillis: base + 1}
	}
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"CreateDataset", func(ctx context.Context) error { return st.CreateDataset(ctx, s.name("CTXNEW")) }},
		{"MultiGet", func(ctx context.Context) error {
			res, err := st.MultiGet(ctx, []kv.GetRequest{{Dataset: ds, Key: key}, {Dataset: ds, Key: key, AfterMillis: 1}})
			if err != nil {
				return err
			}
			// A store may also fail each request rather than the call.
			for _, r := range res {
				if r.Err == nil {
					return nil
				}
			}
			return res[0].Err
		}},
		{"MultiPut", func(ctx context.Context) error { return st.MultiPut(ctx, ds, many) }},
		{"BulkLoad", func(ctx context.Context) error { return st.BulkLoad(ctx, ds, many) }},
		{"Expire", func(ctx context.Context) error { _, err := st.Expire(ctx, ds, base+1, false); return err }},
	}
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{{"cancelled", cancelled}, {"expired", expired}} {
		for _, tc := range calls {
			t.Run(c.name+"/"+tc.name, func(t *testing.T) {
				start := time.Now()
				err := tc.call(c.ctx)
				if err == nil {
					t.Errorf("%s with a %s context succeeded", tc.name, c.name)
				}
				if d := time.Since(start); d > promptly {
					t.Errorf("%s with a %s context took %v", tc.name, c.name, d)
				}
			})
		}
	}

	// The store still works.
	check(t, st, ds, key, 0, []tv{{base, "v"}})
	put(t, st, ds, entries("k", tv{base + 2, "w"}))
	bulk(t, st, ds, entries("k2", tv{base + 2, "w2"}))
	check(t, st, ds, key, 0, []tv{{base + 2, "w"}})
	check(t, st, ds, []byte("k2"), 0, []tv{{base + 2, "w2"}})
}

// testClose: Close of a used store succeeds.
func testClose(t *testing.T, s *suite) {
	st := s.open(t)
	if st == nil {
		t.Fatal("open returned a nil kv.Store")
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = st.Close()
		}
	})
	ds := s.dataset(t, st, "CLOSE")
	put(t, st, ds, entries("k", tv{base, "v"}))
	check(t, st, ds, []byte("k"), 0, []tv{{base, "v"}})
	closed = true
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
