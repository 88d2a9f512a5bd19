// SPDX-License-Identifier: Apache-2.0

package transforms

import (
	"errors"
	"runtime"
	"sync"
)

// async runs a DoFn's element work on every core and replays its outputs
// in FinishBundle. The direct runner processes one bundle on one goroutine,
// so without it a backfill's read and sweep steps would use one core;
// portable runners gain too when a bundle holds several elements. Outputs
// wait in memory until the bundle ends, as a GroupByKey holds them anyway.
type async struct {
	sem  chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
	outs [][]output
}

// output is one buffered element of output number out.
type output struct {
	out   int
	key   string
	value []byte
}

func newAsync() *async {
	return &async{sem: make(chan struct{}, runtime.GOMAXPROCS(0))}
}

// run starts work, which emits to output number out with emit (safe to use
// from work's goroutine only).
func (a *async) run(work func(emit func(out int, key string, value []byte)) error) {
	a.sem <- struct{}{}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		defer func() { <-a.sem }()
		var buf []output
		err := work(func(out int, key string, value []byte) {
			buf = append(buf, output{out: out, key: key, value: value})
		})
		a.mu.Lock()
		defer a.mu.Unlock()
		if err != nil {
			a.errs = append(a.errs, err)
			return
		}
		a.outs = append(a.outs, buf)
	}()
}

// finish waits for every started work and emits its outputs, releasing
// them as it goes. It returns the works' errors, if any, emitting nothing.
func (a *async) finish(emits ...func(string, []byte)) error {
	a.wg.Wait()
	a.mu.Lock()
	defer a.mu.Unlock()
	outs, errs := a.outs, a.errs
	a.outs, a.errs = nil, nil
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for i, buf := range outs {
		for _, o := range buf {
			emits[o.out](o.key, o.value)
		}
		outs[i] = nil
	}
	return nil
}
